"""Kafka subscribers of the funding service: the member companies it matches calls against, and erasures.

Each handler runs inside the idempotent consumer's unit of work (shared/consumer.py): its writes, the match
facts it publishes and the event's id in the inbox commit together. A fact that does not read as its model is
dead-lettered with the reason (shared.consumer.read_fact).
"""

from __future__ import annotations

from services.funding import commands
from services.funding.models import CompanyFactData
from shared import topics
from shared.consumer import read_fact
from shared.envelope import CloudEvent
from shared.membership import PersonErasure
from shared.runtime import ServiceRuntime
from shared.unit_of_work import UnitOfWork

PERSON_ERASED = "members.person.erased"


async def on_company_fact(uow: UnitOfWork, event: CloudEvent) -> None:
    """Every company fact carries the company as it now is: its sector, size, region, interests and status."""
    read = {"company": event.data.get("company")}  # all funding reads of the fact; missing reads as null
    fact = read_fact(CompanyFactData, read, "a company as members.companies.v1 carries it")
    await commands.remember_company(uow, fact.company)


async def on_person_fact(uow: UnitOfWork, event: CloudEvent) -> None:
    if event.type == PERSON_ERASED:
        erased = read_fact(PersonErasure, event.data, "an erasure as members.people.v1 carries it")
        await commands.forget_person(uow, erased.person_id)


def subscribe(runtime: ServiceRuntime) -> None:
    runtime.consume(
        topics.MEMBERS_COMPANIES,
        topics.consumer_group("funding", topics.MEMBERS_COMPANIES),
        on_company_fact,
        "Calls are matched against active member companies' sector, size, region and interests",
    )
    runtime.consume(
        topics.MEMBERS_PEOPLE,
        topics.consumer_group("funding", topics.MEMBERS_PEOPLE),
        on_person_fact,
        "Erasure removes the person's saved searches",
    )
