"""Kafka subscribers of the notifications service: one consumer per topic it listens to.

Each handler runs inside the idempotent consumer's unit of work (shared/consumer.py): the messages it writes,
the webhook deliveries it queues and the fact's id in the inbox commit together, so a redelivered fact writes
nothing twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from services.notifications import triggers, webhooks
from services.notifications.commands import Postman
from shared import topics
from shared.consumer import BatchHandler, Fact, one_at_a_time
from shared.envelope import CloudEvent
from shared.runtime import ServiceRuntime
from shared.unit_of_work import UnitOfWork

Trigger = Callable[[UnitOfWork, Postman, CloudEvent], Awaitable[None]]
# Reads a batch's facts together: for the facts that come in hundreds at once (a call matched to many companies).
BatchTrigger = Callable[[UnitOfWork, Postman, Sequence[Fact]], Awaitable[None]]


def each(trigger: Trigger) -> BatchTrigger:
    async def on_each(uow: UnitOfWork, postman: Postman, facts: Sequence[Fact]) -> None:
        await one_at_a_time(lambda uow, event: trigger(uow, postman, event))(uow, facts)

    return on_each


# topic -> what its facts mean to people, and why we listen
TOPICS: dict[str, tuple[BatchTrigger, str]] = {
    topics.MEMBERS_COMPANIES: (
        each(triggers.company_fact),
        "Applications to staff, approval or rejection to the applicant; listed companies to partners' webhooks",
    ),
    topics.MEMBERS_PEOPLE: (each(triggers.person_fact), "Who people are and how to write to them; welcome; erasure"),
    topics.MEMBERS_FEES: (each(triggers.fee_fact), "Overdue fees to the company's admins"),
    topics.EVENTS_EVENTS: (
        each(triggers.event_fact),
        "New events to members, changes and cancellations to registrants, reminders, feedback "
        "requests; events to partners' webhooks",
    ),
    topics.EVENTS_REGISTRATIONS: (
        each(triggers.registration_fact),
        "Confirmations with the .ics, waitlist places, seat offers, promotions, rejections",
    ),
    topics.FUNDING_CALLS: (
        each(triggers.call_fact),
        "Deadline reminders to matched companies; calls to partners' webhooks",
    ),
    topics.FUNDING_MATCHES: (triggers.match_facts, "A call that fits the company, to its people who follow funding"),
    topics.FUNDING_SEARCHES: (each(triggers.search_fact), "A new call for a person's saved search"),
}


def consumer_name(topic: str) -> str:
    """The consumer group (and inbox name) reading `topic`: notifications.members-people for members.people.v1."""
    service, aggregate, _version = topic.split(".")
    return f"notifications.{service}-{aggregate}"


def subscribe(runtime: ServiceRuntime, postman: Postman) -> None:
    for topic, (trigger, description) in TOPICS.items():
        runtime.consume_batches(topic, consumer_name(topic), _handler(trigger, postman), description)


def _handler(trigger: BatchTrigger, postman: Postman) -> BatchHandler:
    async def handle(uow: UnitOfWork, facts: Sequence[Fact]) -> None:
        await trigger(uow, postman, facts)
        for fact in facts:
            await webhooks.fan_out(uow, fact.event, postman.clock())

    return handle
