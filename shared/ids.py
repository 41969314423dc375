"""Identifiers of every entity: random UUIDs, as text.

`Id` in a body refuses anything that is not a UUID with a 422 before it reaches a query (PostgreSQL refuses some
characters outright, and a query for a malformed id can only find nothing); in a route, `{name:id}` does the same
for paths, where a malformed id is simply not found.
"""

import uuid
from typing import Annotated

from pydantic import StringConstraints
from starlette.convertors import Convertor, register_url_convertor

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
Id = Annotated[str, StringConstraints(pattern=UUID_PATTERN)]


def new_id() -> str:
    return str(uuid.uuid4())


class _IdConvertor(Convertor[str]):
    """`/companies/{company_id:id}` matches only a UUID, so `/companies/applications` is never taken for an id
    (and a method it lacks gets its 405)."""

    regex = UUID_PATTERN.strip("^$")

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("id", _IdConvertor())
