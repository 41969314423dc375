"""Use cases of the events service: each loads what it needs, applies the domain's rules, records the facts it
publishes, and commits once. Every seat decision for an event runs under that event's lock (store.lock_event)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.events import domain, store
from services.events.domain import EventAction, EventStatus, RegistrationStatus
from services.events.events import (
    EventCancelled,
    EventCompleted,
    EventFact,
    EventPublished,
    EventStartingSoon,
    EventSummary,
    EventUpdated,
    RegistrationCancelled,
    RegistrationCheckedIn,
    RegistrationConfirmed,
    RegistrationLapsed,
    RegistrationOffered,
    RegistrationPromoted,
    RegistrationRejected,
    RegistrationSummary,
    RegistrationWaitlisted,
)
from services.events.models import (
    CalendarFeed,
    CheckInResult,
    Event,
    EventCreate,
    EventUpdate,
    Feedback,
    FeedbackCreate,
    Guest,
    MemberCompany,
    MemberPerson,
    Registration,
)
from shared.auth import Principal
from shared.clock import utc_now
from shared.errors import Conflict, DomainError, Forbidden
from shared.membership import Role
from shared.unit_of_work import UnitOfWork

ACTIVE_MEMBERSHIP = "active"
ERASED_NAME = "(erased)"

_STATUS_EVENTS: dict[EventAction, type[EventFact]] = {
    EventAction.PUBLISH: EventPublished,
    EventAction.CANCEL: EventCancelled,
    EventAction.COMPLETE: EventCompleted,
}


def event_summary(event: Event) -> EventSummary:
    return EventSummary.model_validate(event, from_attributes=True)


def registration_summary(registration: Registration) -> RegistrationSummary:
    return RegistrationSummary.model_validate(registration, from_attributes=True)


def _registration_fact(kind: type[Any], event: Event, registration: Registration, **extra: Any) -> Any:
    return kind(
        event_id=registration.event_id,
        registration_id=registration.id,
        registration=registration_summary(registration),
        event=event_summary(event),
        **extra,
    )


def ensure_organiser(actor: Principal, event: Event) -> None:
    """Staff organise everything; a company's admins organise their own company's events."""
    if actor.is_staff:
        return
    if actor.role == Role.COMPANY_ADMIN and actor.company_id and actor.company_id == event.organiser_company_id:
        return
    raise Forbidden("only the network's staff or the organising company's admins may do this")


# ---- events ----------------------------------------------------------------------------------------------------


async def create_event(uow: UnitOfWork, data: EventCreate, actor: Principal) -> Event:
    organiser = data.organiser_company_id
    if not actor.is_staff:
        if actor.role != Role.COMPANY_ADMIN or not actor.company_id:
            raise Forbidden("only the network's staff and member companies' admins create events")
        if organiser not in (None, actor.company_id):
            raise Forbidden("a company's admin creates events for their own company only")
        organiser = actor.company_id
        await _ensure_active_member(uow, organiser)
    domain.check_schedule(data.starts_at, data.ends_at)
    domain.check_registration_window(data.registration_opens_at, data.registration_closes_at, data.starts_at)
    event = Event.model_validate({**data.model_dump(), "organiser_company_id": organiser, "created_by": actor.subject})
    uow.session.add(event)
    await uow.commit()
    return event


async def update_event(
    uow: UnitOfWork, event_id: str, update: EventUpdate, actor: Principal, offer_hours: float
) -> Event:
    event = await store.lock_event(uow.session, event_id)
    ensure_organiser(actor, event)
    if event.status in (EventStatus.CANCELLED, EventStatus.COMPLETED):
        raise Conflict(f"the event is {event.status}: it can no longer be edited")
    zone = ZoneInfo(event.time_zone)
    changes = {name: _in_zone(value, zone) for name, value in update.model_dump(exclude_unset=True).items()}
    changes = {name: value for name, value in changes.items() if getattr(event, name) != value}
    if not changes:
        return event
    for name, value in changes.items():
        setattr(event, name, value)
    domain.check_schedule(event.starts_at, event.ends_at)
    domain.check_registration_window(event.registration_opens_at, event.registration_closes_at, event.starts_at)
    domain.check_capacity(event.capacity, event.seats_held)
    event.updated_at = utc_now()
    if event.status == EventStatus.PUBLISHED:
        uow.publish(EventUpdated(event_id=event.id, event=event_summary(event), changed=sorted(changes)))
    if "capacity" in changes:
        await _offer_free_seats(uow, event, offer_hours)
    await uow.commit()
    return event


def _in_zone(value: Any, zone: ZoneInfo) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=zone)
    return value


async def change_event_status(uow: UnitOfWork, event_id: str, action: EventAction, actor: Principal) -> Event:
    event = await store.lock_event(uow.session, event_id)
    ensure_organiser(actor, event)
    event.status = domain.next_event_status(event.status, action)
    event.updated_at = utc_now()
    uow.publish(_STATUS_EVENTS[action](event_id=event.id, event=event_summary(event)))
    await uow.commit()
    return event


# ---- registrations ---------------------------------------------------------------------------------------------


async def prepare_registration(
    uow: UnitOfWork, event_id: str, actor: Principal | None, guest: Guest | None
) -> Registration:
    """Everything about a registration that needs no lock: who may register, and whether they already are.
    Its seat is decided by `seat_newcomers`, under the event's lock."""
    return await _new_registration(uow, await store.get_event(uow.session, event_id), actor, guest)


async def seat_newcomers(
    uow: UnitOfWork, event_id: str, newcomers: list[Registration]
) -> list[Registration | DomainError]:
    """Decide the newcomers' seats in arrival order under one hold of the event's lock, and commit them at once.

    Each gets its registration back, or the rule it broke (the others still go through). A closed event refuses
    all of them. A simultaneous twin (same person, same event) makes the commit fail with IntegrityError: the
    caller then decides them one at a time, so that only the twin is refused.
    """
    event = await store.lock_event(uow.session, event_id)
    domain.check_open_for_registration(
        event.status, utc_now(), event.registration_opens_at, event.registration_closes_at, event.starts_at
    )
    company_active: dict[str, int] = {}
    outcomes: list[Registration | DomainError] = []
    for registration in newcomers:
        try:
            outcomes.append(await _seat_newcomer(uow, event, registration, company_active))
        except DomainError as refusal:
            outcomes.append(refusal)
    await uow.commit()
    return outcomes


async def _seat_newcomer(
    uow: UnitOfWork, event: Event, registration: Registration, company_active: dict[str, int]
) -> Registration:
    """`company_active` counts each company's active registrations, read once per batch and kept up to date."""
    company_id = registration.company_id if event.seats_per_company is not None else None
    if company_id and company_id not in company_active:
        company_active[company_id] = await store.company_active_registrations(uow.session, event.id, company_id)
    seats = domain.SeatCounts(
        capacity=event.capacity,
        seats_held=event.seats_held,
        waiting=event.waiting,
        company_active=company_active[company_id] if company_id else 0,
        company_limit=event.seats_per_company if company_id else None,
    )
    domain.check_company_limit(seats)
    if company_id:
        company_active[company_id] += 1
    event.registrations_received += 1
    registration.sequence = event.registrations_received
    set_status(
        event,
        registration,
        RegistrationStatus.PENDING if event.requires_approval else domain.seat_for_newcomer(seats),
        is_new=True,
    )
    uow.session.add(registration)
    _announce_seat_decision(uow, event, registration, waiting_before=seats.waiting)
    return registration


def already_registered(registration: Registration) -> Conflict:
    if registration.person_id:
        return Conflict("you are already registered for this event")
    return Conflict(f"{registration.email} is already registered for this event")


def set_status(event: Event, registration: Registration, status: RegistrationStatus, is_new: bool = False) -> None:
    """Move a registration and keep the event's seat counters true; the caller holds the event's lock."""
    held, waiting = domain.counter_changes(None if is_new else registration.status, status)
    event.seats_held += held
    event.waiting += waiting
    registration.status = status
    registration.updated_at = utc_now()


async def _new_registration(
    uow: UnitOfWork, event: Event, actor: Principal | None, guest: Guest | None
) -> Registration:
    common = {
        "event_id": event.id,
        "sequence": 0,
        "status": RegistrationStatus.PENDING,
        "checkin_token": secrets.token_urlsafe(24),
    }
    if actor is None:
        if guest is None:
            raise Forbidden("log in to register, or register as a guest (name, company, email) on a public event")
        if event.audience != domain.Audience.PUBLIC:
            raise Forbidden("this event is for members of the network: log in to register")
        registration = Registration(
            **common,
            name=guest.name,
            email=guest.email.lower(),
            guest_company=guest.company,
            is_member=False,
            price_due_cents=event.price_other_cents,
        )
        if await store.active_registration_of(uow.session, event.id, email=registration.email):
            raise already_registered(registration)
        return registration
    if actor.kind != "person":
        raise Forbidden("partner systems cannot register for events")
    if guest is not None:
        raise Conflict("a logged-in member registers themselves; leave out `guest`")
    if actor.company_id:
        await _ensure_active_member(uow, actor.company_id)
    if await store.active_registration_of(uow.session, event.id, person_id=actor.subject):
        raise Conflict("you are already registered for this event")
    person = await store.member_person(uow.session, actor.subject)
    return Registration(
        **common,
        person_id=actor.subject,
        company_id=actor.company_id,
        name=person.name if person else actor.subject,
        email=person.email if person else None,
        is_member=True,
        price_due_cents=event.price_member_cents,
    )


async def _ensure_active_member(uow: UnitOfWork, company_id: str) -> None:
    company = await store.member_company(uow.session, company_id)
    if company is None or company.status != ACTIVE_MEMBERSHIP:
        state = company.status if company else "not known here yet"
        raise Forbidden(f"your company is not an active member of the network ({state})")


def _announce_seat_decision(uow: UnitOfWork, event: Event, registration: Registration, waiting_before: int) -> None:
    if registration.status == RegistrationStatus.CONFIRMED:
        uow.publish(_registration_fact(RegistrationConfirmed, event, registration))
    elif registration.status == RegistrationStatus.WAITLISTED:
        uow.publish(_registration_fact(RegistrationWaitlisted, event, registration, position=waiting_before + 1))


async def cancel_registration(
    uow: UnitOfWork, registration_id: str, actor: Principal, offer_hours: float
) -> Registration:
    registration = await store.get_registration(uow.session, registration_id)
    event = await store.lock_event(uow.session, registration.event_id)
    await uow.session.refresh(registration)
    if registration.person_id == actor.subject:
        domain.check_self_cancellation(utc_now(), event.cancellation_deadline, event.starts_at)
    else:
        ensure_organiser(actor, event)
    if registration.status not in domain.ACTIVE:
        raise Conflict(f"the registration is already {registration.status}")
    held_a_seat = registration.status in domain.HOLDS_A_SEAT
    set_status(event, registration, RegistrationStatus.CANCELLED)
    uow.publish(_registration_fact(RegistrationCancelled, event, registration))
    if held_a_seat:
        await _offer_free_seats(uow, event, offer_hours)
    await uow.commit()
    return registration


async def _offer_free_seats(uow: UnitOfWork, event: Event, offer_hours: float) -> None:
    """Offer every free seat to the next in line, each until the offer lapses (never past the start)."""
    to_offer = domain.seats_to_offer(event.capacity, event.seats_held, event.waiting)
    if to_offer == 0:
        return
    await uow.session.flush()  # the waitlist query must see this transaction's changes
    expires = min(utc_now() + timedelta(hours=offer_hours), event.starts_at)
    for registration in (await store.waitlist(uow.session, event.id))[:to_offer]:
        set_status(event, registration, RegistrationStatus.OFFERED)
        registration.offer_expires_at = expires
        uow.publish(_registration_fact(RegistrationOffered, event, registration))


async def accept_offer(uow: UnitOfWork, registration_id: str, actor: Principal) -> Registration:
    registration = await store.get_registration(uow.session, registration_id)
    event = await store.lock_event(uow.session, registration.event_id)
    await uow.session.refresh(registration)
    if registration.person_id != actor.subject:
        raise Forbidden("only the registrant may accept the offer")
    if registration.status != RegistrationStatus.OFFERED:
        raise Conflict(f"there is no open offer: the registration is {registration.status}")
    if registration.offer_expires_at and registration.offer_expires_at <= utc_now():
        raise Conflict("the offer has lapsed")
    set_status(event, registration, RegistrationStatus.CONFIRMED)
    registration.offer_expires_at = None
    uow.publish(_registration_fact(RegistrationPromoted, event, registration))
    await uow.commit()
    return registration


async def lapse_offers_of(uow: UnitOfWork, event_id: str, offer_hours: float) -> int:
    """Offers past their time lapse; their seats go to the next in line. Returns how many lapsed."""
    now = utc_now()
    event = await store.lock_event(uow.session, event_id)
    lapsed = 0
    for registration in await store.registrations_of_event(uow.session, event.id):
        if (
            registration.status == RegistrationStatus.OFFERED
            and registration.offer_expires_at
            and registration.offer_expires_at <= now
        ):
            set_status(event, registration, RegistrationStatus.LAPSED)
            uow.publish(_registration_fact(RegistrationLapsed, event, registration))
            lapsed += 1
    if lapsed and event.status == EventStatus.PUBLISHED and event.starts_at > now:
        await _offer_free_seats(uow, event, offer_hours)
    await uow.commit()
    return lapsed


async def decide_registration(
    uow: UnitOfWork, registration_id: str, actor: Principal, rejection_reason: str | None
) -> Registration:
    """The organiser approves (a seat, or the waitlist) or rejects a registration waiting for approval."""
    registration = await store.get_registration(uow.session, registration_id)
    event = await store.lock_event(uow.session, registration.event_id)
    await uow.session.refresh(registration)
    ensure_organiser(actor, event)
    if registration.status != RegistrationStatus.PENDING:
        raise Conflict(f"the registration is {registration.status}, not waiting for approval")
    if rejection_reason is not None:
        set_status(event, registration, RegistrationStatus.REJECTED)
        uow.publish(_registration_fact(RegistrationRejected, event, registration, reason=rejection_reason))
    else:
        waiting = event.waiting
        seats = domain.SeatCounts(
            capacity=event.capacity, seats_held=event.seats_held, waiting=waiting, company_active=0, company_limit=None
        )
        set_status(event, registration, domain.seat_for_newcomer(seats))
        _announce_seat_decision(uow, event, registration, waiting_before=waiting)
    await uow.commit()
    return registration


async def check_in(uow: UnitOfWork, token: str, actor: Principal) -> CheckInResult:
    registration = await store.registration_by_token(uow.session, token)
    event = await store.lock_event(uow.session, registration.event_id)
    await uow.session.refresh(registration)
    ensure_organiser(actor, event)
    if registration.checked_in_at is not None:
        raise Conflict(f"{registration.name} is already checked in (at {registration.checked_in_at.isoformat()})")
    if registration.status != RegistrationStatus.CONFIRMED:
        raise Conflict(f"{registration.name} has no confirmed seat (registration {registration.status})")
    registration.checked_in_at = utc_now()
    registration.updated_at = registration.checked_in_at
    uow.publish(_registration_fact(RegistrationCheckedIn, event, registration))
    await uow.commit()
    return CheckInResult(
        registration_id=registration.id, name=registration.name, checked_in_at=registration.checked_in_at
    )


# ---- feedback, reminders, calendars ----------------------------------------------------------------------------


async def leave_feedback(uow: UnitOfWork, event_id: str, actor: Principal, data: FeedbackCreate) -> Feedback:
    event = await store.get_event(uow.session, event_id)
    registration = await store.active_registration_of(uow.session, event.id, person_id=actor.subject)
    if registration is None or registration.checked_in_at is None:
        raise Forbidden("only people who attended the event may leave feedback")
    if utc_now() < event.starts_at:
        raise Conflict("feedback opens when the event starts")
    if await store.feedback_for_registration(uow.session, registration.id):
        raise Conflict("you have already left feedback for this event")
    domain.check_rating(data.rating)
    feedback = Feedback(event_id=event.id, registration_id=registration.id, rating=data.rating, comment=data.comment)
    uow.session.add(feedback)
    await uow.commit()
    return feedback


async def remind_events_starting_within(uow: UnitOfWork, hours: float) -> int:
    """Announce once each published event that starts within `hours`; the mark and the fact commit together,
    so a restart or a second replica cannot announce it again."""
    now = utc_now()
    events = await store.events_to_remind(uow.session, now, now + timedelta(hours=hours))
    for event in events:
        event.reminder_sent_at = now
        uow.publish(EventStartingSoon(event_id=event.id, event=event_summary(event)))
    await uow.commit()
    return len(events)


async def calendar_feed_for(uow: UnitOfWork, person_id: str) -> CalendarFeed:
    feed = await store.calendar_feed_of(uow.session, person_id)
    if feed is None:
        feed = CalendarFeed(person_id=person_id, secret=secrets.token_urlsafe(32))
        uow.session.add(feed)
        await uow.commit()
    return feed


# ---- what members tells us -------------------------------------------------------------------------------------


async def remember_company(uow: UnitOfWork, company: dict[str, Any]) -> None:
    known = await store.member_company(uow.session, company["id"])
    if known is None:
        uow.session.add(MemberCompany(id=company["id"], legal_name=company["legal_name"], status=company["status"]))
    else:
        known.legal_name, known.status = company["legal_name"], company["status"]


async def remember_person(uow: UnitOfWork, person: dict[str, Any]) -> None:
    name = f"{person['given_name']} {person['family_name']}"
    known = await store.member_person(uow.session, person["id"])
    if known is None:
        uow.session.add(
            MemberPerson(id=person["id"], company_id=person.get("company_id"), name=name, email=person["email"])
        )
    else:
        known.company_id, known.name, known.email = person.get("company_id"), name, person["email"]
    # People and companies arrive on two topics: someone may register before their own fact reaches us.
    for registration in await store.registrations_of_person(uow.session, person["id"]):
        registration.name, registration.email = name, person["email"]


async def forget_person(uow: UnitOfWork, person_id: str) -> None:
    """GDPR erasure: the person's registrations stay (seats and counts are real) but no longer say who."""
    if known := await store.member_person(uow.session, person_id):
        await uow.session.delete(known)
    if feed := await store.calendar_feed_of(uow.session, person_id):
        await uow.session.delete(feed)
    for registration in await store.registrations_of_person(uow.session, person_id):
        registration.person_id = None
        registration.name = ERASED_NAME
        registration.email = None
        if feedback := await store.feedback_for_registration(uow.session, registration.id):
            feedback.comment = ""
