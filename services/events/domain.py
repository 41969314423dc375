"""The events service's rules: an event's lifecycle, who organises it, who gets a seat, when a registration may
change, who may check in and leave feedback.

Nothing here touches the database or HTTP. Seat decisions are made here from counts the store reads while it
holds the event's lock, so that two registrations can never both take the last seat. The use cases (commands)
authorise through the rules here, given the caller's Principal; routes only authenticate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from shared.auth import Principal
from shared.errors import Conflict, DomainError, Forbidden
from shared.membership import MembershipStatus, Role


class EventType(StrEnum):
    TRADE_FAIR = "trade_fair"
    TRAINING = "training"
    NETWORKING = "networking"
    B2B_MEETING = "b2b_meeting"
    COMPANY_EVENT = "company_event"
    WEBINAR = "webinar"
    MISSION = "mission"


class Language(StrEnum):
    """The languages Filiera writes to people in; a guest chooses theirs when registering."""

    IT = "it"
    EN = "en"


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

# What the public lists show: the upcoming events, and with `include_past` the ones that took place.
LISTED = [EventStatus.PUBLISHED]
LISTED_WITH_PAST = [EventStatus.PUBLISHED, EventStatus.COMPLETED]
# The public calendar feed also keeps cancelled events, so that calendar apps strike them out.
IN_PUBLIC_CALENDAR = [EventStatus.PUBLISHED, EventStatus.CANCELLED, EventStatus.COMPLETED]


def next_event_status(current: EventStatus, action: EventAction) -> EventStatus:
    allowed_from, target = _EVENT_TRANSITIONS[action]
    if current not in allowed_from:
        raise Conflict(f"cannot {action} an event that is {current}")
    return target


# What an event's calendar entry shows people: a change to any of them must replace the entry in the calendars
# holding it, which they do only for a higher SEQUENCE (RFC 5545 §3.8.7.4). Descriptions, seats and prices do not.
CALENDAR_ENTRY_FIELDS = frozenset({"title_it", "title_en", "starts_at", "ends_at", "venue", "online_url"})


def calendar_uid(event_id: str) -> str:
    """The UID every calendar entry of the event carries (the .ics, the feeds, the emails' attachments)."""
    return f"{event_id}@filiera"


def calendar_revision(revision: int, changed: Iterable[str]) -> int:
    """The event's revision (its entries' SEQUENCE) after an edit of the fields `changed`."""
    return revision + 1 if CALENDAR_ENTRY_FIELDS.intersection(changed) else revision


def calendar_revision_on(revision: int, action: EventAction) -> int:
    """Cancelling the event strikes its entry out (STATUS:CANCELLED): a revision. Publishing a draft (never
    in a calendar) and completing the event (its entry unchanged) are not."""
    return revision + 1 if action == EventAction.CANCEL else revision


def cancellation_sequence(revision: int) -> int:
    """The SEQUENCE of the CANCEL a registrant gets for their own cancelled registration: above the entries they
    were sent for the event as it now is, whose SEQUENCE is the event's revision."""
    return revision + 1


def check_editable(status: EventStatus) -> None:
    if status in (EventStatus.CANCELLED, EventStatus.COMPLETED):
        raise Conflict(f"the event is {status}: it can no longer be edited")


def may_organise(actor: Principal, organiser_company_id: str | None) -> bool:
    """Staff organise everything; a company's admins organise their own company's events."""
    if actor.is_staff:
        return True
    own_company = actor.company_id is not None and actor.company_id == organiser_company_id
    return actor.role == Role.COMPANY_ADMIN and own_company


def check_organiser(actor: Principal, organiser_company_id: str | None) -> None:
    if not may_organise(actor, organiser_company_id):
        raise Forbidden("only the network's staff or the organising company's admins may do this")


def is_visible(status: EventStatus, organiser_company_id: str | None, viewer: Principal | None) -> bool:
    """Drafts are seen by their organisers only."""
    if status != EventStatus.DRAFT:
        return True
    return viewer is not None and may_organise(viewer, organiser_company_id)


@dataclass(frozen=True)
class NewEventOrganiser:
    company_id: str | None  # None: the network organises it
    must_be_active_member: bool  # a company's admin hosts events only while the company is a member


def organiser_of_new_event(actor: Principal, requested_company_id: str | None) -> NewEventOrganiser:
    """Staff create events for the network or for any company; a company's admin for their own company only."""
    if actor.is_staff:
        return NewEventOrganiser(requested_company_id, must_be_active_member=False)
    if actor.role != Role.COMPANY_ADMIN or not actor.company_id:
        raise Forbidden("only the network's staff and member companies' admins create events")
    if requested_company_id not in (None, actor.company_id):
        raise Forbidden("a company's admin creates events for their own company only")
    return NewEventOrganiser(actor.company_id, must_be_active_member=True)


def check_active_member(status: MembershipStatus | None) -> None:
    """`status`: the company's membership as the members service last told us; None when it has not yet."""
    if status != MembershipStatus.ACTIVE:
        raise Forbidden(f"your company is not an active member of the network ({status or 'not known here yet'})")


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
# Who the organisers expect at the door: the seated, and those who may still get a seat.
ON_ATTENDANCE_LIST = {RegistrationStatus.CONFIRMED, RegistrationStatus.OFFERED, RegistrationStatus.WAITLISTED}
# What a GDPR erasure leaves of a person's registration: the seat and its counts, not who held it.
ERASED_NAME = "(erased)"


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


def check_registrant(actor: Principal | None, as_guest: bool, audience: Audience) -> None:
    """Members register themselves with their token; guests, without one, on public events only."""
    if actor is None:
        if not as_guest:
            raise Forbidden("log in to register, or register as a guest (name, company, email) on a public event")
        if audience != Audience.PUBLIC:
            raise Forbidden("this event is for members of the network: log in to register")
        return
    if actor.kind != "person":
        raise Forbidden("partner systems cannot register for events")
    if as_guest:
        raise Conflict("a logged-in member registers themselves; leave out `guest`")


def price_due(is_member: bool, price_member_cents: int, price_other_cents: int) -> int:
    return price_member_cents if is_member else price_other_cents


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


def status_of_new_registration(requires_approval: bool, counts: SeatCounts) -> RegistrationStatus:
    """On events that require approval, a registration holds no seat until the organiser decides."""
    return RegistrationStatus.PENDING if requires_approval else seat_for_newcomer(counts)


def check_awaiting_approval(status: RegistrationStatus) -> None:
    if status != RegistrationStatus.PENDING:
        raise Conflict(f"the registration is {status}, not waiting for approval")


def seats_to_offer(capacity: int, seats_held: int, waiting: int) -> int:
    return max(0, min(capacity - seats_held, waiting))


def offer_expiry(now: datetime, offer_hours: float, starts_at: datetime) -> datetime:
    """A freed seat is held for the next in line for `offer_hours`, never past the event's start."""
    return min(now + timedelta(hours=offer_hours), starts_at)


def check_offer_open(status: RegistrationStatus, expires_at: datetime | None, now: datetime) -> None:
    if status != RegistrationStatus.OFFERED:
        raise Conflict(f"there is no open offer: the registration is {status}")
    if offer_has_lapsed(status, expires_at, now):
        raise Conflict("the offer has lapsed")


def offer_has_lapsed(status: RegistrationStatus, expires_at: datetime | None, now: datetime) -> bool:
    return status == RegistrationStatus.OFFERED and expires_at is not None and expires_at <= now


def offers_continue(status: EventStatus, starts_at: datetime, now: datetime) -> bool:
    """A lapsed offer's seat passes to the next in line only while the event is still ahead."""
    return status == EventStatus.PUBLISHED and starts_at > now


def is_registrant(actor: Principal, person_id: str | None) -> bool:
    return person_id is not None and person_id == actor.subject


def check_registrant_or_organiser(actor: Principal, person_id: str | None, organiser_company_id: str | None) -> None:
    if not is_registrant(actor, person_id):
        check_organiser(actor, organiser_company_id)


def may_see_check_in_code(actor: Principal, person_id: str | None) -> bool:
    """The code the door scans is the registrant's ticket: they see it, and the network's staff, who help at the
    door; an organising company's admins see who registered, not their tickets."""
    return is_registrant(actor, person_id) or actor.is_staff


def check_ticket_viewer(actor: Principal, person_id: str | None) -> None:
    if not may_see_check_in_code(actor, person_id):
        raise Forbidden("only the registrant and the network's staff may see the ticket")


def check_ticket_admits(status: RegistrationStatus) -> None:
    """A ticket is shown only for a confirmed seat: the door admits no one else (check_check_in)."""
    if status != RegistrationStatus.CONFIRMED:
        raise Conflict(f"the registration is {status}: there is no ticket to show")


def check_offer_taker(actor: Principal, person_id: str | None) -> None:
    if not is_registrant(actor, person_id):
        raise Forbidden("only the registrant may accept the offer")


def check_cancellation(
    actor: Principal,
    person_id: str | None,
    organiser_company_id: str | None,
    now: datetime,
    deadline: datetime | None,
    starts_at: datetime,
) -> None:
    """The registrant cancels until the deadline (default: the start); the organisers at any time."""
    if is_registrant(actor, person_id):
        check_self_cancellation(now, deadline, starts_at)
    else:
        check_organiser(actor, organiser_company_id)


def check_self_cancellation(now: datetime, deadline: datetime | None, starts_at: datetime) -> None:
    if now >= (deadline or starts_at):
        raise Conflict("the cancellation deadline has passed; contact the organiser")


def check_cancellable(status: RegistrationStatus) -> None:
    if status not in ACTIVE:
        raise Conflict(f"the registration is already {status}")


def check_check_in(name: str, status: RegistrationStatus, checked_in_at: datetime | None) -> None:
    """One check-in per registration, and only with a confirmed seat."""
    if checked_in_at is not None:
        raise Conflict(f"{name} is already checked in (at {checked_in_at.isoformat()})")
    if status != RegistrationStatus.CONFIRMED:
        raise Conflict(f"{name} has no confirmed seat (registration {status})")


def check_feedback(checked_in_at: datetime | None, now: datetime, starts_at: datetime, already_left: bool) -> None:
    """Attendees (checked in) rate an event once, from its start."""
    if checked_in_at is None:
        raise Forbidden("only people who attended the event may leave feedback")
    if now < starts_at:
        raise Conflict("feedback opens when the event starts")
    if already_left:
        raise Conflict("you have already left feedback for this event")


def check_rating(rating: int) -> None:
    if not 1 <= rating <= 5:
        raise DomainError("rating must be between 1 and 5")


class Queued(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def status(self) -> RegistrationStatus: ...


def waitlist_positions(in_arrival_order: Iterable[Queued]) -> dict[str, int]:
    """Each waitlisted registration's place in line (1 = next to be offered a seat), from the event's
    registrations in order of arrival."""
    waiting = [r.id for r in in_arrival_order if r.status == RegistrationStatus.WAITLISTED]
    return {registration_id: place for place, registration_id in enumerate(waiting, start=1)}
