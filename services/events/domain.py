"""The events service's rules: an event's lifecycle, who gets a seat, when a registration may change.

Nothing here touches the database or HTTP. Seat decisions are made here from counts the store reads while it
holds the event's lock, so that two registrations can never both take the last seat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shared.errors import Conflict, DomainError


class EventType(StrEnum):
    TRADE_FAIR = "trade_fair"
    TRAINING = "training"
    NETWORKING = "networking"
    B2B_MEETING = "b2b_meeting"
    COMPANY_EVENT = "company_event"
    WEBINAR = "webinar"
    MISSION = "mission"


class Audience(StrEnum):
    MEMBERS = "members"
    PUBLIC = "public"


class EventStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


class EventAction(StrEnum):
    PUBLISH = "publish"
    CANCEL = "cancel"
    COMPLETE = "complete"


_EVENT_TRANSITIONS: dict[EventAction, tuple[set[EventStatus], EventStatus]] = {
    EventAction.PUBLISH: ({EventStatus.DRAFT}, EventStatus.PUBLISHED),
    EventAction.CANCEL: ({EventStatus.DRAFT, EventStatus.PUBLISHED}, EventStatus.CANCELLED),
    EventAction.COMPLETE: ({EventStatus.PUBLISHED}, EventStatus.COMPLETED),
}


def next_event_status(current: EventStatus, action: EventAction) -> EventStatus:
    allowed_from, target = _EVENT_TRANSITIONS[action]
    if current not in allowed_from:
        raise Conflict(f"cannot {action} an event that is {current}")
    return target


class RegistrationStatus(StrEnum):
    PENDING = "pending"  # waits for the organiser's approval; holds no seat
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    OFFERED = "offered"  # a freed seat held for this registration until the offer lapses
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    LAPSED = "lapsed"  # an offer not taken in time; the seat went to the next in line


HOLDS_A_SEAT = {RegistrationStatus.CONFIRMED, RegistrationStatus.OFFERED}
ACTIVE = {
    RegistrationStatus.PENDING,
    RegistrationStatus.CONFIRMED,
    RegistrationStatus.WAITLISTED,
    RegistrationStatus.OFFERED,
}


def counter_changes(before: RegistrationStatus | None, after: RegistrationStatus) -> tuple[int, int]:
    """How a registration moving from `before` (None: new) to `after` changes the event's seats held and
    waitlist length. Every status change goes through this, so the event's counters stay true."""

    def held(status: RegistrationStatus | None) -> int:
        return 1 if status in HOLDS_A_SEAT else 0

    def waiting(status: RegistrationStatus | None) -> int:
        return 1 if status == RegistrationStatus.WAITLISTED else 0

    return held(after) - held(before), waiting(after) - waiting(before)


def check_schedule(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise DomainError("the event must end after it starts")


def check_registration_window(opens_at: datetime | None, closes_at: datetime | None, starts_at: datetime) -> None:
    if opens_at and closes_at and closes_at <= opens_at:
        raise DomainError("registrations must close after they open")
    if closes_at and closes_at > starts_at:
        raise DomainError("registrations must close before the event starts")


def check_capacity(capacity: int, seats_held: int) -> None:
    if capacity < seats_held:
        raise Conflict(f"capacity {capacity} is below the {seats_held} seats already confirmed or offered")


def check_open_for_registration(
    status: EventStatus, now: datetime, opens_at: datetime | None, closes_at: datetime | None, starts_at: datetime
) -> None:
    if status != EventStatus.PUBLISHED:
        raise Conflict(f"the event is {status}: registrations are closed")
    if opens_at and now < opens_at:
        raise Conflict(f"registrations open at {opens_at.isoformat()}")
    if now >= (closes_at or starts_at):
        raise Conflict("registrations are closed")


@dataclass(frozen=True)
class SeatCounts:
    """What the store counted under the event's lock."""

    capacity: int
    seats_held: int  # confirmed + offered
    waiting: int  # waitlisted
    company_active: int  # this registrant's company's active registrations
    company_limit: int | None


def check_company_limit(counts: SeatCounts) -> None:
    if counts.company_limit is not None and counts.company_active >= counts.company_limit:
        raise Conflict(
            f"your company already has {counts.company_active} registrations for this event "
            f"(limit {counts.company_limit})"
        )


def seat_for_newcomer(counts: SeatCounts) -> RegistrationStatus:
    """A free seat goes to a newcomer only when nobody is waiting: the waitlist is served in order."""
    if counts.seats_held < counts.capacity and counts.waiting == 0:
        return RegistrationStatus.CONFIRMED
    return RegistrationStatus.WAITLISTED


def seats_to_offer(capacity: int, seats_held: int, waiting: int) -> int:
    return max(0, min(capacity - seats_held, waiting))


def check_self_cancellation(now: datetime, deadline: datetime | None, starts_at: datetime) -> None:
    if now >= (deadline or starts_at):
        raise Conflict("the cancellation deadline has passed; contact the organiser")


def check_rating(rating: int) -> None:
    if not 1 <= rating <= 5:
        raise DomainError("rating must be between 1 and 5")
