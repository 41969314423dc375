"""Kafka subscribers of the events service: what it must know of the members service's facts.

Each handler runs inside the idempotent consumer's unit of work (shared/consumer.py): its writes and the
event's id in the inbox commit together.
"""

from __future__ import annotations

from services.events import commands
from shared import topics
from shared.envelope import CloudEvent
from shared.runtime import ServiceRuntime
from shared.unit_of_work import UnitOfWork


async def on_company_fact(uow: UnitOfWork, event: CloudEvent) -> None:
    """Every company fact carries the company as it now is: who is an active member, under which name."""
    await commands.remember_company(uow, event.data["company"])


async def on_person_fact(uow: UnitOfWork, event: CloudEvent) -> None:
    if event.type == "members.person.erased":
        await commands.forget_person(uow, event.data["person_id"])
    elif "person" in event.data:
        await commands.remember_person(uow, event.data["person"])


def subscribe(runtime: ServiceRuntime) -> None:
    runtime.consume(
        topics.MEMBERS_COMPANIES,
        "events.member-companies",
        on_company_fact,
        "Active members may register for members-only events, at member prices",
    )
    runtime.consume(
        topics.MEMBERS_PEOPLE,
        "events.member-people",
        on_person_fact,
        "Names for attendance lists; erasure anonymises the person's registrations",
    )
