"""Kafka subscribers of the notifications service: one consumer per topic it listens to. What each topic's facts
mean to people is in the module named for its publisher (members_facts, events_facts, funding_facts); after
that, the public facts go to partners' webhooks (webhook_delivery.fan_out).

Each handler runs inside the idempotent consumer's unit of work (shared/consumer.py): the messages it writes,
the webhook deliveries it queues and the fact's id in the inbox commit together, so a redelivered fact writes
nothing twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from services.notifications import webhook_delivery
from services.notifications.messages import DeliveryContext
from shared import topics
from shared.consumer import BatchHandler, Fact, one_at_a_time
from shared.envelope import CloudEvent
from shared.runtime import ServiceRuntime
from shared.unit_of_work import UnitOfWork

from . import events_facts, funding_facts, members_facts

FactHandler = Callable[[UnitOfWork, DeliveryContext, CloudEvent], Awaitable[None]]
# Reads a batch's facts together: for the facts that come in hundreds at once (a call matched to many companies).
BatchFactHandler = Callable[[UnitOfWork, DeliveryContext, Sequence[Fact]], Awaitable[None]]


def fact_by_fact(handler: FactHandler) -> BatchFactHandler:
    async def handle_each(uow: UnitOfWork, delivery_context: DeliveryContext, facts: Sequence[Fact]) -> None:
        await one_at_a_time(lambda uow, event: handler(uow, delivery_context, event))(uow, facts)

    return handle_each


# topic -> what its facts mean to people, and why we listen
TOPICS: dict[str, tuple[BatchFactHandler, str]] = {
    topics.MEMBERS_COMPANIES: (
        fact_by_fact(members_facts.on_company_fact),
        "Applications to staff; listed companies to partners' webhooks",
    ),
    topics.MEMBERS_PEOPLE: (
        fact_by_fact(members_facts.on_person_fact),
        "Who people are and how to write to them; welcome; erasure",
    ),
    topics.MEMBERS_FEES: (fact_by_fact(members_facts.on_fee_fact), "Overdue fees to the company's admins"),
    topics.MEMBERS_CORRESPONDENCE: (
        fact_by_fact(members_facts.on_correspondence_fact),
        "Invitations, password resets and decisions on applications, to addresses that are nobody we know yet",
    ),
    topics.EVENTS_EVENTS: (
        fact_by_fact(events_facts.on_event_fact),
        "New events to members, changes and cancellations to registrants, reminders, feedback "
        "requests; events to partners' webhooks",
    ),
    topics.EVENTS_REGISTRATIONS: (
        fact_by_fact(events_facts.on_registration_fact),
        "Confirmations with the .ics, waitlist places, seat offers, promotions, rejections",
    ),
    topics.FUNDING_CALLS: (
        fact_by_fact(funding_facts.on_call_fact),
        "Deadline reminders to matched companies; calls to partners' webhooks",
    ),
    topics.FUNDING_MATCHES: (
        funding_facts.on_match_facts,
        "A call that fits the company, to its people who follow funding",
    ),
    topics.FUNDING_SEARCHES: (fact_by_fact(funding_facts.on_search_fact), "A new call for a person's saved search"),
}


def subscribe(runtime: ServiceRuntime, delivery_context: DeliveryContext) -> None:
    for topic, (handler, description) in TOPICS.items():
        group = topics.consumer_group("notifications", topic)
        runtime.consume_batches(topic, group, _then_fan_out(handler, delivery_context), description)


def _then_fan_out(handler: BatchFactHandler, delivery_context: DeliveryContext) -> BatchHandler:
    """The handler's messages first, then a webhook delivery of each public fact to the endpoints that want it."""

    async def handle(uow: UnitOfWork, facts: Sequence[Fact]) -> None:
        await handler(uow, delivery_context, facts)
        for fact in facts:
            await webhook_delivery.fan_out(uow, fact.event, uow.now())

    return handle
