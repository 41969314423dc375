"""Queries over the events database. Writes go through `commands.py`, inside a unit of work."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.events.domain import ACTIVE, EventStatus, EventType, RegistrationStatus
from services.events.models import CalendarFeed, Event, Feedback, MemberCompany, MemberPerson, Registration
from shared.errors import NotFound


async def get_event(session: AsyncSession, event_id: str) -> Event:
    event = await session.get(Event, event_id)
    if event is None:
        raise NotFound(f"no event with id {event_id}")
    return event


async def lock_event(session: AsyncSession, event_id: str) -> Event:
    """The event, locked until the transaction ends: every seat decision for it happens one at a time.

    PostgreSQL locks the row (SELECT ... FOR UPDATE); SQLite's transactions already take the write lock up front
    (see shared/db.py), which serialises them the same way.
    """
    query = select(Event).where(Event.id == event_id).with_for_update()
    event = (await session.exec(query.execution_options(populate_existing=True))).first()
    if event is None:
        raise NotFound(f"no event with id {event_id}")
    return event


async def list_events(
    session: AsyncSession, statuses: list[EventStatus], event_type: EventType | None, starting_after: datetime | None
) -> list[Event]:
    query = select(Event).where(col(Event.status).in_(statuses)).order_by(col(Event.starts_at))
    if event_type is not None:
        query = query.where(Event.event_type == event_type)
    if starting_after is not None:
        query = query.where(Event.starts_at >= starting_after)
    return list((await session.exec(query)).all())


async def company_active_registrations(session: AsyncSession, event_id: str, company_id: str) -> int:
    query = (
        select(func.count())
        .select_from(Registration)
        .where(
            Registration.event_id == event_id,
            Registration.company_id == company_id,
            col(Registration.status).in_(ACTIVE),
        )
    )
    return (await session.exec(query)).one()


async def active_registration_of(
    session: AsyncSession, event_id: str, *, person_id: str | None = None, email: str | None = None
) -> Registration | None:
    query = select(Registration).where(Registration.event_id == event_id, col(Registration.status).in_(ACTIVE))
    query = query.where(Registration.person_id == person_id) if person_id else query.where(Registration.email == email)
    return (await session.exec(query)).first()


async def get_registration(session: AsyncSession, registration_id: str) -> Registration:
    registration = await session.get(Registration, registration_id)
    if registration is None:
        raise NotFound(f"no registration with id {registration_id}")
    return registration


async def registration_by_token(session: AsyncSession, token: str) -> Registration:
    query = select(Registration).where(Registration.checkin_token == token)
    registration = (await session.exec(query)).first()
    if registration is None:
        raise NotFound("no registration has this check-in code")
    return registration


async def waitlist(session: AsyncSession, event_id: str) -> list[Registration]:
    query = (
        select(Registration)
        .where(Registration.event_id == event_id, Registration.status == RegistrationStatus.WAITLISTED)
        .order_by(col(Registration.sequence))
    )
    return list((await session.exec(query)).all())


async def waitlist_position(session: AsyncSession, registration: Registration) -> int | None:
    if registration.status != RegistrationStatus.WAITLISTED:
        return None
    query = (
        select(func.count())
        .select_from(Registration)
        .where(
            Registration.event_id == registration.event_id,
            Registration.status == RegistrationStatus.WAITLISTED,
            Registration.sequence <= registration.sequence,
        )
    )
    return (await session.exec(query)).one()


async def registrations_of_event(session: AsyncSession, event_id: str) -> list[Registration]:
    query = select(Registration).where(Registration.event_id == event_id).order_by(col(Registration.sequence))
    return list((await session.exec(query)).all())


async def registrations_of_person(session: AsyncSession, person_id: str) -> list[Registration]:
    query = select(Registration).where(Registration.person_id == person_id).order_by(col(Registration.created_at))
    return list((await session.exec(query)).all())


async def registrations_of_person_with_events(
    session: AsyncSession, person_id: str, ending_after: datetime | None
) -> list[tuple[Registration, Event]]:
    """The person's registrations with their events, soonest event first; with `ending_after`, only for events
    that end after it."""
    query = (
        select(Registration, Event)
        .join(Event, col(Event.id) == col(Registration.event_id))
        .where(Registration.person_id == person_id)
        .order_by(col(Event.starts_at), col(Registration.created_at))
    )
    if ending_after is not None:
        query = query.where(Event.ends_at > ending_after)
    return [(registration, event) for registration, event in (await session.exec(query)).all()]


async def events_by_id(session: AsyncSession, event_ids: set[str]) -> dict[str, Event]:
    if not event_ids:
        return {}
    events = (await session.exec(select(Event).where(col(Event.id).in_(event_ids)))).all()
    return {event.id: event for event in events}


async def events_to_remind(session: AsyncSession, now: datetime, until: datetime) -> list[Event]:
    query = select(Event).where(
        Event.status == EventStatus.PUBLISHED,
        col(Event.reminder_sent_at).is_(None),
        Event.starts_at > now,
        Event.starts_at <= until,
    )
    return list((await session.exec(query)).all())


async def events_with_lapsed_offers(session: AsyncSession, now: datetime) -> set[str]:
    query = (
        select(Registration.event_id)
        .where(Registration.status == RegistrationStatus.OFFERED, col(Registration.offer_expires_at) <= now)
        .distinct()
    )
    return set((await session.exec(query)).all())


async def feedback_of_event(session: AsyncSession, event_id: str) -> list[Feedback]:
    return list((await session.exec(select(Feedback).where(Feedback.event_id == event_id))).all())


async def feedback_for_registration(session: AsyncSession, registration_id: str) -> Feedback | None:
    return (await session.exec(select(Feedback).where(Feedback.registration_id == registration_id))).first()


async def member_company(session: AsyncSession, company_id: str) -> MemberCompany | None:
    return await session.get(MemberCompany, company_id)


async def member_person(session: AsyncSession, person_id: str) -> MemberPerson | None:
    return await session.get(MemberPerson, person_id)


async def calendar_feed_of(session: AsyncSession, person_id: str) -> CalendarFeed | None:
    return await session.get(CalendarFeed, person_id)


async def calendar_feed_by_secret(session: AsyncSession, secret: str) -> CalendarFeed:
    feed = (await session.exec(select(CalendarFeed).where(CalendarFeed.secret == secret))).first()
    if feed is None:
        raise NotFound("no calendar feed at this address")
    return feed
