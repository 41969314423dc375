"""What the events service's facts mean to people: new events to the members of active companies; changes,
cancellations and reminders to the registrants; feedback requests to a course's attendees; and to each registrant
their confirmation (with the .ics and the ticket's QR code), waitlist place, seat offer, promotion, rejection or
cancellation (with the calendar's CANCEL). Our copy of events and registrations is kept first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.notifications import commands, store
from services.notifications.calendars import cancellation_calendar, event_calendar
from services.notifications.domain import (
    CONFIRMED_REGISTRATION,
    EVENT_TYPE_ASKING_FEEDBACK,
    NOTICES_WITH_TICKET,
    REGISTRATION_NOTICES,
    SEAT_HOLDING_REGISTRATIONS,
    Kind,
    changes_named,
    noteworthy_changes,
    opens_the_registration,
)
from services.notifications.messages import Context, DeliveryContext, Notice, Recipient, people
from services.notifications.models import (
    ContactPerson,
    EventFact,
    KnownEvent,
    KnownRegistration,
    RegistrationFact,
)
from shared.consumer import read_fact
from shared.envelope import CloudEvent
from shared.unit_of_work import UnitOfWork


async def on_event_fact(uow: UnitOfWork, delivery_context: DeliveryContext, event: CloudEvent) -> None:
    fact = read_fact(EventFact, event.data, "an event fact as events.events.v1 carries it")
    known = await commands.remember_event(uow, fact.event)
    link = _event_link(delivery_context, known)
    if event.type == "events.event.published":
        everyone = await store.people_of_companies(uow.session, await store.active_company_ids(uow.session))
        notice = Notice(event.id, Kind.EVENT_ANNOUNCED, _event_context(known), link)
        await delivery_context.deliver(uow, notice, people(everyone))
    elif event.type == "events.event.updated":
        if noteworthy_changes(fact.changed):

            def context(language: str) -> dict[str, Any]:
                return {**_event_context(known)(language), "changed": changes_named(fact.changed, language)}

            notice = Notice(event.id, Kind.EVENT_CHANGED, context, link, event_calendar(known, link))
            await delivery_context.deliver(uow, notice, await _registrants(uow, known.id, SEAT_HOLDING_REGISTRATIONS))
    elif event.type == "events.event.cancelled":
        notice = Notice(event.id, Kind.EVENT_CANCELLED, _event_context(known), link, event_calendar(known, link))
        await delivery_context.deliver(uow, notice, await _registrants(uow, known.id, SEAT_HOLDING_REGISTRATIONS))
    elif event.type == "events.event.starting_soon":
        notice = Notice(event.id, Kind.EVENT_STARTING_SOON, _event_context(known), link)
        await delivery_context.deliver(uow, notice, await _registrants(uow, known.id, [CONFIRMED_REGISTRATION]))
    elif event.type == "events.event.completed" and known.event_type == EVENT_TYPE_ASKING_FEEDBACK:
        notice = Notice(event.id, Kind.FEEDBACK_REQUEST, _event_context(known), link)
        attendees = await _recipients_of(uow, await store.attendees_of(uow.session, known.id))
        await delivery_context.deliver(uow, notice, attendees)


async def on_registration_fact(uow: UnitOfWork, delivery_context: DeliveryContext, event: CloudEvent) -> None:
    fact = read_fact(RegistrationFact, event.data, "a registration fact as events.registrations.v1 carries it")
    registration = await commands.remember_registration(uow, fact.registration)
    kind = REGISTRATION_NOTICES.get(event.type)
    if kind is None:
        return
    # The fact carries its event; the copy from events.events.v1 wins when there is one, as that topic may
    # already have told a later change than this registration saw.
    known = await uow.session.get(KnownEvent, registration.event_id) or await commands.remember_event(uow, fact.event)
    recipients = await _recipients_of(uow, [registration])
    if not recipients:
        return  # nobody to write to: a person erased since, and no address
    ticket_code = fact.registration.check_in_code if kind in NOTICES_WITH_TICKET else None
    to_registration = opens_the_registration(kind, member=registration.person_id is not None)
    extra = {
        "position": fact.position,
        "reason": fact.reason,
        "offer_expires_at": fact.registration.offer_expires_at,
        "price_due_cents": fact.registration.price_due_cents,
        "check_in_code": ticket_code,
        "links_to_registration": to_registration,
    }

    def context(language: str) -> dict[str, Any]:
        return {**_event_context(known)(language), **extra}

    event_link = _event_link(delivery_context, known)
    link = _registration_link(delivery_context, registration) if to_registration else event_link
    calendar = _registration_calendar(kind, known, fact, event_link)
    notice = Notice(event.id, kind, context, link, calendar, ticket_code=ticket_code)
    await delivery_context.deliver(uow, notice, recipients)


def _registration_calendar(kind: Kind, known: KnownEvent, fact: RegistrationFact, event_link: str) -> str | None:
    """The entry to add to the registrant's calendar with their seat, or its CANCEL when the registration goes."""
    if kind in NOTICES_WITH_TICKET:
        return event_calendar(known, event_link)
    if kind == Kind.REGISTRATION_CANCELLED:
        told = fact.calendar
        return cancellation_calendar(known, event_link, told.uid if told else None, told.sequence if told else None)
    return None


async def _registrants(uow: UnitOfWork, event_id: str, statuses: Sequence[str]) -> list[Recipient]:
    return await _recipients_of(uow, await store.registrations_of(uow.session, event_id, statuses))


async def _recipients_of(uow: UnitOfWork, registrations: Sequence[KnownRegistration]) -> list[Recipient]:
    """Whom to write to about each registration: the person, or a guest known only by address."""
    recipients = []
    for registration in registrations:
        if registration.person_id and (person := await uow.session.get(ContactPerson, registration.person_id)):
            recipients.append(Recipient.person(person))
        elif registration.email:
            first_name = registration.name.split(" ")[0]
            recipients.append(Recipient.address_only(registration.email, first_name, registration.language))
    return recipients


def _event_context(known: KnownEvent) -> Context:
    def context(language: str) -> dict[str, Any]:
        title = known.title_en if language == "en" and known.title_en else known.title_it
        return {
            "event": {
                "title": title,
                "starts_at": known.starts_at,
                "ends_at": known.ends_at,
                "venue": known.venue,
                "online_url": known.online_url,
                "time_zone": known.time_zone,
            }
        }

    return context


def _event_link(delivery_context: DeliveryContext, known: KnownEvent) -> str:
    return f"{delivery_context.web_url}/events/{known.id}"


def _registration_link(delivery_context: DeliveryContext, registration: KnownRegistration) -> str:
    """A member's own registration (the ticket, the waitlist place, the offer to accept); guests have no login."""
    return f"{delivery_context.web_url}/registrations/{registration.id}"
