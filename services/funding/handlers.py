"""Kafka subscribers of the funding service: the member companies it matches calls against, and erasures.

Each handler runs inside the idempotent consumer's unit of work (shared/consumer.py): its writes, the match
facts it publishes and the event's id in the inbox commit together.
"""

from __future__ import annotations

from pydantic import ValidationError

from services.funding import commands
from services.funding.models import CompanyFact
from shared import topics
from shared.consumer import DeadLetter
from shared.envelope import CloudEvent
from shared.runtime import ServiceRuntime
from shared.unit_of_work import UnitOfWork


async def on_company_fact(uow: UnitOfWork, event: CloudEvent) -> None:
    """Every company fact carries the company as it now is: its sector, size, region, interests and status."""
    try:
        company = CompanyFact.model_validate(event.data.get("company"))
    except ValidationError as error:
        # Retrying cannot make a malformed fact whole: straight to the dead-letter topic, with what is wrong.
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "company"
        raise DeadLetter(f"not a company as members.companies.v1 carries it: {where}: {first['msg']}") from error
    await commands.remember_company(uow, company)


async def on_person_fact(uow: UnitOfWork, event: CloudEvent) -> None:
    if event.type == "members.person.erased":
        await commands.forget_person(uow, event.data["person_id"])


def subscribe(runtime: ServiceRuntime) -> None:
    runtime.consume(
        topics.MEMBERS_COMPANIES,
        "funding.member-companies",
        on_company_fact,
        "Calls are matched against active member companies' sector, size, region and interests",
    )
    runtime.consume(
        topics.MEMBERS_PEOPLE, "funding.member-people", on_person_fact, "Erasure removes the person's saved searches"
    )
