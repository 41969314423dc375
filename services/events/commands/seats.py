"""How a registration's status changes move an event's seats: the counters kept true, the seat decisions
announced, and freed seats offered to the next in line. The caller holds the event's lock (store.lock_event)."""

from __future__ import annotations

from datetime import datetime

from services.events import domain, store
from services.events.commands.published_facts import registration_fact
from services.events.domain import RegistrationStatus
from services.events.events import RegistrationConfirmed, RegistrationOffered, RegistrationWaitlisted
from services.events.models import Event, Registration
from shared.unit_of_work import UnitOfWork


def set_status(
    event: Event, registration: Registration, status: RegistrationStatus, now: datetime, is_new: bool = False
) -> None:
    """Move a registration and keep the event's seat counters true."""
    held, waiting = domain.counter_changes(None if is_new else registration.status, status)
    event.seats_held += held
    event.waiting += waiting
    registration.status = status
    registration.updated_at = now


def announce_seat_decision(uow: UnitOfWork, event: Event, registration: Registration, waiting_before: int) -> None:
    """A seat or a place on the waitlist is told; a registration pending approval is not, yet."""
    if registration.status == RegistrationStatus.CONFIRMED:
        uow.publish(registration_fact(RegistrationConfirmed, event, registration))
    elif registration.status == RegistrationStatus.WAITLISTED:
        uow.publish(registration_fact(RegistrationWaitlisted, event, registration, position=waiting_before + 1))


async def offer_free_seats(uow: UnitOfWork, event: Event, offer_hours: float) -> None:
    """Offer every free seat to the next in line, each until the offer lapses."""
    to_offer = domain.seats_to_offer(event.capacity, event.seats_held, event.waiting)
    if to_offer == 0:
        return
    await uow.session.flush()  # the waitlist query must see this transaction's changes
    now = uow.now()
    expires = domain.offer_expiry(now, offer_hours, event.starts_at)
    for registration in (await store.waitlist(uow.session, event.id))[:to_offer]:
        set_status(event, registration, RegistrationStatus.OFFERED, now)
        registration.offer_expires_at = expires
        uow.publish(registration_fact(RegistrationOffered, event, registration))
