"""Kafka subscribers of the events service: what it must know of the members service's facts.

Each handler runs inside the idempotent consumer's unit of work (shared/consumer.py): its writes and the
event's id in the inbox commit together. Each fact is read through the model of what events keeps of it; a
malformed one goes to the dead-letter topic saying what is wrong.
"""

from __future__ import annotations

from services.events import commands
from services.events.models import CompanyFact, PersonFact
from shared import topics
from shared.consumer import read_fact
from shared.envelope import CloudEvent
from shared.membership import PersonErasure
from shared.runtime import ServiceRuntime
from shared.unit_of_work import UnitOfWork

PERSON_ERASED = "members.person.erased"
# The person facts that carry the person as they now are; others (none yet) say nothing events keeps.
PERSON_PROFILE_FACTS = {"members.person.joined", "members.person.updated"}


async def on_company_fact(uow: UnitOfWork, event: CloudEvent) -> None:
    """Every company fact carries the company as it now is: who is an active member, under which name."""
    fact = read_fact(CompanyFact, event.data, "a company fact as members.companies.v1 carries it")
    await commands.remember_company(uow, fact.company)


async def on_person_fact(uow: UnitOfWork, event: CloudEvent) -> None:
    if event.type == PERSON_ERASED:
        erased = read_fact(PersonErasure, event.data, f"a {PERSON_ERASED} fact as members.people.v1 carries it")
        await commands.forget_person(uow, erased.person_id)
    elif event.type in PERSON_PROFILE_FACTS:
        fact = read_fact(PersonFact, event.data, f"a {event.type} fact as members.people.v1 carries it")
        await commands.remember_person(uow, fact.person)


def subscribe(runtime: ServiceRuntime) -> None:
    runtime.consume(
        topics.MEMBERS_COMPANIES,
        topics.consumer_group("events", topics.MEMBERS_COMPANIES),
        on_company_fact,
        "Active members may register for members-only events, at member prices",
    )
    runtime.consume(
        topics.MEMBERS_PEOPLE,
        topics.consumer_group("events", topics.MEMBERS_PEOPLE),
        on_person_fact,
        "Names for attendance lists; erasure anonymises the person's registrations",
    )
