"""Kafka subscribers of the notifications service: one consumer per topic it listens to.

Each handler runs inside the idempotent consumer's unit of work (shared/consumer.py): the messages it writes,
the webhook deliveries it queues and the fact's id in the inbox commit together, so a redelivered fact writes
nothing twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from services.notifications import triggers, webhooks
from services.notifications.commands import Postman
from shared import topics
from shared.envelope import CloudEvent
from shared.runtime import ServiceRuntime
from shared.unit_of_work import UnitOfWork

Trigger = Callable[[UnitOfWork, Postman, CloudEvent], Awaitable[None]]

# topic -> what its facts mean to people, and why we listen
TOPICS: dict[str, tuple[Trigger, str]] = {
    topics.MEMBERS_COMPANIES: (triggers.company_fact,
                             "Applications to staff, approval or rejection to the applicant; listed companies "
                             "to partners' webhooks"),
    topics.MEMBERS_PEOPLE: (triggers.person_fact, "Who people are and how to write to them; welcome; erasure"),
    topics.MEMBERS_FEES: (triggers.fee_fact, "Overdue fees to the company's admins"),
    topics.EVENTS_EVENTS: (triggers.event_fact,
                         "New events to members, changes and cancellations to registrants, reminders, feedback "
                         "requests; events to partners' webhooks"),
    topics.EVENTS_REGISTRATIONS: (triggers.registration_fact,
                                "Confirmations with the .ics, waitlist places, seat offers, promotions, rejections"),
    topics.FUNDING_CALLS: (triggers.call_fact, "Deadline reminders to matched companies; calls to partners' webhooks"),
    topics.FUNDING_MATCHES: (triggers.match_fact, "A call that fits the company, to its people who follow funding"),
    topics.FUNDING_SEARCHES: (triggers.search_fact, "A new call for a person's saved search"),
}


def consumer_name(topic: str) -> str:
    """The consumer group (and inbox name) reading `topic`: notifications.members-people for members.people.v1."""
    service, aggregate, _version = topic.split(".")
    return f"notifications.{service}-{aggregate}"


def subscribe(runtime: ServiceRuntime, postman: Postman) -> None:
    for topic, (trigger, description) in TOPICS.items():
        runtime.consume(topic, consumer_name(topic), _handler(trigger, postman), description)


def _handler(trigger: Trigger, postman: Postman) -> Callable[[UnitOfWork, CloudEvent], Awaitable[None]]:
    async def handle(uow: UnitOfWork, event: CloudEvent) -> None:
        await trigger(uow, postman, event)
        await webhooks.fan_out(uow, event, postman.clock())

    return handle
