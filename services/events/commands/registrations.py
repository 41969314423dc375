"""Registering for an event and what follows: seats in order of arrival, the waitlist, offers of freed seats,
approval, cancellation. Every seat decision for an event runs under that event's lock (store.lock_event)."""

from __future__ import annotations

import secrets

from services.events import domain, store
from services.events.commands.event_management import organised_event
from services.events.commands.members_copy import ensure_active_member
from services.events.commands.published_facts import calendar_cancellation, registration_fact
from services.events.commands.seats import announce_seat_decision, offer_free_seats, set_status
from services.events.domain import RegistrationStatus
from services.events.events import (
    RegistrationCancelled,
    RegistrationLapsed,
    RegistrationPromoted,
    RegistrationRejected,
)
from services.events.models import Event, Guest, Registration
from shared.auth import Principal
from shared.errors import Conflict, DomainError
from shared.unit_of_work import UnitOfWork


async def prepare_registration(
    uow: UnitOfWork, event_id: str, actor: Principal | None, guest: Guest | None
) -> Registration:
    """Everything about a registration that needs no lock: who may register, and whether they already are.
    Its seat is decided by `seat_new_registrations`, under the event's lock."""
    event = await store.get_event(uow.session, event_id)
    domain.check_registrant(actor, guest is not None, event.audience)
    if actor is None:
        assert guest is not None  # check_registrant refuses a registration that is neither a member nor a guest
        return await _guest_registration(uow, event, guest)
    return await _member_registration(uow, event, actor)


async def _guest_registration(uow: UnitOfWork, event: Event, guest: Guest) -> Registration:
    now = uow.now()
    registration = Registration(
        event_id=event.id,
        sequence=0,
        status=RegistrationStatus.PENDING,
        checkin_token=_checkin_token(),
        name=guest.name,
        email=guest.email.lower(),
        guest_company=guest.company,
        language=guest.language,
        is_member=False,
        price_due_cents=domain.price_due(False, event.price_member_cents, event.price_other_cents),
        created_at=now,
        updated_at=now,
    )
    if await store.active_registration_of(uow.session, event.id, email=registration.email):
        raise already_registered(registration)
    return registration


async def _member_registration(uow: UnitOfWork, event: Event, actor: Principal) -> Registration:
    if actor.company_id:
        await ensure_active_member(uow, actor.company_id)
    if await store.active_registration_of(uow.session, event.id, person_id=actor.subject):
        raise Conflict("you are already registered for this event")
    person = await store.member_person(uow.session, actor.subject)
    now = uow.now()
    return Registration(
        event_id=event.id,
        sequence=0,
        status=RegistrationStatus.PENDING,
        checkin_token=_checkin_token(),
        person_id=actor.subject,
        company_id=actor.company_id,
        # Until the members service tells us of the person, all we know is who their token says they are.
        name=person.name if person else actor.subject,
        email=person.email if person else None,
        is_member=True,
        price_due_cents=domain.price_due(True, event.price_member_cents, event.price_other_cents),
        created_at=now,
        updated_at=now,
    )


def _checkin_token() -> str:
    return secrets.token_urlsafe(24)


def already_registered(registration: Registration) -> Conflict:
    if registration.person_id:
        return Conflict("you are already registered for this event")
    return Conflict(f"{registration.email} is already registered for this event")


async def seat_new_registrations(
    uow: UnitOfWork, event_id: str, newcomers: list[Registration]
) -> list[Registration | DomainError]:
    """Decide the newcomers' seats in arrival order under one hold of the event's lock, and commit them at once.

    Each gets its registration back, or the rule it broke (the others still go through). A closed event refuses
    all of them. A simultaneous twin (same person, same event) makes the commit fail with IntegrityError: the
    caller then decides them one at a time, so that only the twin is refused.
    """
    event = await store.lock_event(uow.session, event_id)
    domain.check_open_for_registration(
        event.status, uow.now(), event.registration_opens_at, event.registration_closes_at, event.starts_at
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
    status = domain.status_of_new_registration(event.requires_approval, seats)
    set_status(event, registration, status, uow.now(), is_new=True)
    uow.session.add(registration)
    announce_seat_decision(uow, event, registration, waiting_before=seats.waiting)
    return registration


async def _locked(uow: UnitOfWork, registration: Registration) -> Event:
    """The registration's event, locked, and the registration as it is now that nobody else may change it."""
    event = await store.lock_event(uow.session, registration.event_id)
    await uow.session.refresh(registration)
    return event


async def cancel_registration(
    uow: UnitOfWork, registration_id: str, actor: Principal, offer_hours: float
) -> Registration:
    registration = await store.get_registration(uow.session, registration_id)
    event = await _locked(uow, registration)
    now = uow.now()
    domain.check_cancellation(
        actor, registration.person_id, event.organiser_company_id, now, event.cancellation_deadline, event.starts_at
    )
    domain.check_cancellable(registration.status)
    held_a_seat = registration.status in domain.HOLDS_A_SEAT
    set_status(event, registration, RegistrationStatus.CANCELLED, now)
    uow.publish(registration_fact(RegistrationCancelled, event, registration, calendar=calendar_cancellation(event)))
    if held_a_seat:
        await offer_free_seats(uow, event, offer_hours)
    await uow.commit()
    return registration


async def accept_offer(uow: UnitOfWork, registration_id: str, actor: Principal) -> Registration:
    registration = await store.get_registration(uow.session, registration_id)
    event = await _locked(uow, registration)
    domain.check_offer_taker(actor, registration.person_id)
    now = uow.now()
    domain.check_offer_open(registration.status, registration.offer_expires_at, now)
    set_status(event, registration, RegistrationStatus.CONFIRMED, now)
    registration.offer_expires_at = None
    uow.publish(registration_fact(RegistrationPromoted, event, registration))
    await uow.commit()
    return registration


async def lapse_offers_of(uow: UnitOfWork, event_id: str, offer_hours: float) -> int:
    """Offers past their time lapse; their seats go to the next in line. Returns how many lapsed."""
    now = uow.now()
    event = await store.lock_event(uow.session, event_id)
    lapsed = 0
    for registration in await store.registrations_of_event(uow.session, event.id):
        if domain.offer_has_lapsed(registration.status, registration.offer_expires_at, now):
            set_status(event, registration, RegistrationStatus.LAPSED, now)
            uow.publish(registration_fact(RegistrationLapsed, event, registration))
            lapsed += 1
    if lapsed and domain.offers_continue(event.status, event.starts_at, now):
        await offer_free_seats(uow, event, offer_hours)
    await uow.commit()
    return lapsed


async def decide_registration(
    uow: UnitOfWork, registration_id: str, actor: Principal, rejection_reason: str | None
) -> Registration:
    """The organiser approves (a seat, or the waitlist) or rejects a registration waiting for approval."""
    registration = await store.get_registration(uow.session, registration_id)
    event = await _locked(uow, registration)
    domain.check_organiser(actor, event.organiser_company_id)
    domain.check_awaiting_approval(registration.status)
    now = uow.now()
    if rejection_reason is not None:
        set_status(event, registration, RegistrationStatus.REJECTED, now)
        uow.publish(registration_fact(RegistrationRejected, event, registration, reason=rejection_reason))
    else:
        waiting = event.waiting
        seats = domain.SeatCounts(
            capacity=event.capacity, seats_held=event.seats_held, waiting=waiting, company_active=0, company_limit=None
        )
        set_status(event, registration, domain.seat_for_newcomer(seats), now)
        announce_seat_decision(uow, event, registration, waiting_before=waiting)
    await uow.commit()
    return registration


async def registrations_of_organised_event(uow: UnitOfWork, event_id: str, actor: Principal) -> list[Registration]:
    """Everyone registered for the event, in order of arrival, for its organisers."""
    await organised_event(uow, event_id, actor)
    return await store.registrations_of_event(uow.session, event_id)
