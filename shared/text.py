"""Text that people type, and the partial updates they send: stated in the JSON Schema so clients know the rule
before they send.

PostgreSQL cannot store a NUL character, and control characters in a name are never meant; refusing them at the
edge gives the sender a 422 that says so, instead of a failed insert.
"""

import re
import unicodedata
from datetime import datetime
from typing import Annotated, ClassVar, Self

from pydantic import BaseModel, BeforeValidator, GetJsonSchemaHandler, StringConstraints, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

# A name, a title, a code: one line, no control characters.
Line = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x1f\x7f]*$")]
# A description or a reason: line breaks and tabs allowed, other control characters not.
Paragraph = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")]
# A web address people can open: a website, an online event's link. Whitespace is spelled out rather than
# written \s, because regex engines (Python, Rust in pydantic, ECMAScript in clients) disagree on what \s covers.
_NOT_SPACE = "^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
WebUrl = Annotated[
    str,
    StringConstraints(pattern=f"^https?://[{_NOT_SPACE}/?#]+\\.[{_NOT_SPACE}/?#]+(/[{_NOT_SPACE}]*)?$", max_length=300),
]


def fold(text: str) -> str:
    """Lower case without accents, so 'Attività' and 'attivita', 'calzatura' and 'Calzatùra', are the same word in
    searches and matches."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


_NUMBER = re.compile(r"[-+]?\d+(\.\d*)?([eE][-+]?\d+)?")


def _written_moment(value: object) -> object:
    """Pydantic would read 0 or "0.5" as seconds since 1970; a person means a written date and time."""
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value.strip())):
        raise ValueError("expected a date and time such as 2027-03-31T17:00:00+02:00, not a number")
    return value


# A date and time as ISO 8601 text (the schema's `format: date-time`), never a number of seconds.
Moment = Annotated[datetime, BeforeValidator(_written_moment)]


class PartialUpdate(BaseModel):
    """A PATCH body: only the fields sent change. Sending null clears a field where the entity allows no value
    (those named in `clearable`) and is refused elsewhere, with a message rather than a failed insert."""

    clearable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _null_only_where_clearable(self) -> Self:
        refused = sorted(
            name for name in self.model_fields_set if getattr(self, name) is None and name not in self.clearable
        )
        if refused:
            raise ValueError(f"{', '.join(refused)} cannot be null: leave the field out to keep its value")
        return self

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        """The schema tells clients the same rule: null is offered only for the clearable fields."""
        schema = handler.resolve_ref_schema(handler(core_schema))
        for name, field_schema in schema.get("properties", {}).items():
            if name in cls.clearable or "anyOf" not in field_schema:
                continue
            options = [option for option in field_schema.pop("anyOf") if option != {"type": "null"}]
            if field_schema.get("default", "") is None:
                del field_schema["default"]  # left out means unchanged, not null
            if len(options) == 1:
                field_schema.update(options[0])
            else:
                field_schema["anyOf"] = options
        return schema
