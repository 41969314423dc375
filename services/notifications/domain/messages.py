"""The rules of what people are written to: categories, channels and frequencies, the kinds of message and which
facts become which, who may turn what off, when digests are due and when a failed email is tried again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from shared.errors import DomainError

DISTRICT_TIME = ZoneInfo("Europe/Rome")


class Language(StrEnum):
    """The languages Filiera writes in."""

    IT = "it"
    EN = "en"


class Category(StrEnum):
    """What a message is about; people choose per category and channel."""

    FUNDING_ALERTS = "funding_alerts"
    EVENTS = "events"
    NETWORK_NEWS = "network_news"
    MEMBERSHIP = "membership"  # administration of one's membership: transactional, always on


class Channel(StrEnum):
    EMAIL = "email"
    IN_APP = "in_app"


class Frequency(StrEnum):
    INSTANT = "instant"
    DAILY = "daily"
    WEEKLY = "weekly"


class Kind(StrEnum):
    """Every message the platform writes, each with its own template in templates/<language>/<kind>.j2."""

    APPLICATION_RECEIVED = "application_received"
    COMPANY_APPROVED = "company_approved"
    COMPANY_REJECTED = "company_rejected"
    WELCOME = "welcome"
    FEE_OVERDUE = "fee_overdue"
    REGISTRATION_CONFIRMED = "registration_confirmed"
    REGISTRATION_WAITLISTED = "registration_waitlisted"
    SEAT_OFFERED = "seat_offered"
    REGISTRATION_PROMOTED = "registration_promoted"
    REGISTRATION_REJECTED = "registration_rejected"
    EVENT_CHANGED = "event_changed"
    EVENT_CANCELLED = "event_cancelled"
    EVENT_STARTING_SOON = "event_starting_soon"
    FEEDBACK_REQUEST = "feedback_request"
    EVENT_ANNOUNCED = "event_announced"
    FUNDING_MATCH = "funding_match"
    SEARCH_MATCHED = "search_matched"
    CALL_CLOSING_SOON = "call_closing_soon"
    ENDPOINT_DISABLED = "endpoint_disabled"
    DIGEST = "digest"
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"
    REGISTRATION_CANCELLED = "registration_cancelled"
    INQUIRY_RECEIVED = "inquiry_received"
    INQUIRY_COPY = "inquiry_copy"


# Messages a person gets because of something they did or that changes what they are owed: they ignore
# preferences and frequencies and carry no unsubscribe link.
TRANSACTIONAL_KINDS = frozenset(
    {
        Kind.APPLICATION_RECEIVED,
        Kind.COMPANY_APPROVED,
        Kind.COMPANY_REJECTED,
        Kind.WELCOME,
        Kind.FEE_OVERDUE,
        Kind.REGISTRATION_CONFIRMED,
        Kind.REGISTRATION_WAITLISTED,
        Kind.SEAT_OFFERED,
        Kind.REGISTRATION_PROMOTED,
        Kind.REGISTRATION_REJECTED,
        Kind.EVENT_CANCELLED,
        Kind.ENDPOINT_DISABLED,
        Kind.INVITATION,
        Kind.PASSWORD_RESET,
        Kind.REGISTRATION_CANCELLED,
        Kind.INQUIRY_RECEIVED,
        Kind.INQUIRY_COPY,
    }
)

CATEGORY_OF: dict[Kind, Category] = {
    Kind.APPLICATION_RECEIVED: Category.MEMBERSHIP,
    Kind.COMPANY_APPROVED: Category.MEMBERSHIP,
    Kind.COMPANY_REJECTED: Category.MEMBERSHIP,
    Kind.WELCOME: Category.MEMBERSHIP,
    Kind.FEE_OVERDUE: Category.MEMBERSHIP,
    Kind.ENDPOINT_DISABLED: Category.MEMBERSHIP,
    Kind.INVITATION: Category.MEMBERSHIP,
    Kind.PASSWORD_RESET: Category.MEMBERSHIP,
    # A buyer writing to a company through its directory page: what the listing is for, so never turned off.
    Kind.INQUIRY_RECEIVED: Category.MEMBERSHIP,
    Kind.INQUIRY_COPY: Category.MEMBERSHIP,
    Kind.REGISTRATION_CONFIRMED: Category.EVENTS,
    Kind.REGISTRATION_WAITLISTED: Category.EVENTS,
    Kind.SEAT_OFFERED: Category.EVENTS,
    Kind.REGISTRATION_PROMOTED: Category.EVENTS,
    Kind.REGISTRATION_REJECTED: Category.EVENTS,
    Kind.REGISTRATION_CANCELLED: Category.EVENTS,
    Kind.EVENT_CHANGED: Category.EVENTS,
    Kind.EVENT_CANCELLED: Category.EVENTS,
    Kind.EVENT_STARTING_SOON: Category.EVENTS,
    Kind.FEEDBACK_REQUEST: Category.EVENTS,
    Kind.FUNDING_MATCH: Category.FUNDING_ALERTS,
    Kind.SEARCH_MATCHED: Category.FUNDING_ALERTS,
    Kind.CALL_CLOSING_SOON: Category.FUNDING_ALERTS,
    Kind.EVENT_ANNOUNCED: Category.NETWORK_NEWS,
}  # a digest has no category of its own: it gathers what each category held back

# Which members.companies.v1 facts are written about, and as what (the others only update our copy). The
# decision on an application is written to the applicant from members.correspondence.v1, which names them: when
# a company is approved or rejected, nobody of it is a person notifications knows yet.
COMPANY_NOTICES = {
    "members.company.applied": Kind.APPLICATION_RECEIVED,
}
# The decision on an application, as the applicant reads it (members.application.decided).
DECISION_NOTICES = {"approved": Kind.COMPANY_APPROVED, "rejected": Kind.COMPANY_REJECTED}
# Which events.registrations.v1 facts the registrant hears of, and as what.
REGISTRATION_NOTICES = {
    "events.registration.confirmed": Kind.REGISTRATION_CONFIRMED,
    "events.registration.waitlisted": Kind.REGISTRATION_WAITLISTED,
    "events.registration.offered": Kind.SEAT_OFFERED,
    "events.registration.promoted": Kind.REGISTRATION_PROMOTED,
    "events.registration.rejected": Kind.REGISTRATION_REJECTED,
    "events.registration.cancelled": Kind.REGISTRATION_CANCELLED,
}
# Registration notices that carry the event's .ics and the ticket's QR code: the person now has a seat.
NOTICES_WITH_TICKET = frozenset({Kind.REGISTRATION_CONFIRMED, Kind.REGISTRATION_PROMOTED})
# Registration notices whose link opens a member's own registration (the ticket, the waitlist place, the offer to
# accept); the others, and every notice to a guest (who has no login), open the event's page.
NOTICES_OF_A_STANDING_REGISTRATION = frozenset(
    {Kind.REGISTRATION_CONFIRMED, Kind.REGISTRATION_WAITLISTED, Kind.SEAT_OFFERED, Kind.REGISTRATION_PROMOTED}
)


def opens_the_registration(kind: Kind, member: bool) -> bool:
    """Whether a registration notice links to the registrant's registration rather than to the event."""
    return member and kind in NOTICES_OF_A_STANDING_REGISTRATION


# Registrations that still hold or wait for a seat: their people hear about changes and cancellations.
SEAT_HOLDING_REGISTRATIONS = ("pending", "confirmed", "waitlisted", "offered")
CONFIRMED_REGISTRATION = "confirmed"
# Changes to an event worth writing to its registrants about, as each language names them.
NOTEWORTHY_CHANGES = {
    "starts_at": {"it": "data e ora", "en": "date and time"},
    "ends_at": {"it": "orario di fine", "en": "end time"},
    "venue": {"it": "luogo", "en": "venue"},
    "online_url": {"it": "collegamento online", "en": "online link"},
    "title_it": {"it": "titolo", "en": "title"},
    "title_en": {"it": "titolo", "en": "title"},
}
# Completed events of this type ask their attendees for feedback.
EVENT_TYPE_ASKING_FEEDBACK = "training"


def noteworthy_changes(changed: list[str]) -> list[str]:
    """The fields of an updated event whose change its registrants hear of."""
    return [name for name in changed if name in NOTEWORTHY_CHANGES]


def changes_named(changed: list[str], language: str) -> list[str]:
    """Noteworthy changes as a registrant reads them in `language`, each name once (both titles are "title")."""
    return list(dict.fromkeys(NOTEWORTHY_CHANGES[name][language] for name in noteworthy_changes(changed)))


def deadline_to_tell(deadlines: list[datetime], now: datetime) -> datetime | None:
    """The deadline a message about a funding call names: the next one, or the last when all have passed."""
    ordered = sorted(deadlines)
    return next((moment for moment in ordered if moment > now), ordered[-1] if ordered else None)


@dataclass(frozen=True)
class Choice:
    """What a person chose for one category on one channel."""

    enabled: bool = True
    frequency: Frequency = Frequency.INSTANT


def default_choice(category: Category, channel: Channel) -> Choice:
    """What a person gets before choosing: everything at once, except the network's news by email, which comes
    as a weekly digest (a new event every few days would otherwise crowd a company's inbox)."""
    if category == Category.NETWORK_NEWS and channel == Channel.EMAIL:
        return Choice(frequency=Frequency.WEEKLY)
    return Choice()


def ensure_choice_allowed(category: Category, choice: Choice) -> None:
    if category == Category.MEMBERSHIP and choice != Choice():
        raise DomainError("membership administration messages are transactional: always on, sent at once")


def delivery_plan(kind: Kind, choice: Choice) -> Frequency | None:
    """How a message of `kind` reaches a person on a channel given their choice: at once, held for a digest,
    or not at all (None)."""
    if kind in TRANSACTIONAL_KINDS:
        return Frequency.INSTANT
    if not choice.enabled:
        return None
    return choice.frequency


def digest_period(frequency: Frequency, now: datetime, hour: int, weekday: int) -> tuple[str, datetime] | None:
    """The digest due at `now` — its key (one digest per key, person and channel, ever) and the cut-off of what it
    holds — or None before the first send time of the period (the district's morning)."""
    local = now.astimezone(DISTRICT_TIME)
    send_time = datetime.combine(local.date(), time(hour), DISTRICT_TIME)
    if frequency == Frequency.DAILY:
        if local < send_time:
            return None
        return f"daily:{local.date().isoformat()}", send_time
    if frequency == Frequency.WEEKLY:
        days_since = (local.weekday() - weekday) % 7
        send_day: date = local.date() - timedelta(days=days_since)
        send_time = datetime.combine(send_day, time(hour), DISTRICT_TIME)
        if local < send_time:
            return None
        year, week, _ = send_day.isocalendar()
        return f"weekly:{year}-W{week:02d}", send_time
    raise ValueError("instant messages have no digest")


# Email: a mail server that is away is tried again after these waits, then the message is given up.
EMAIL_RETRY_DELAYS = [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2)]


def next_email_attempt(attempts_made: int, now: datetime) -> datetime | None:
    if attempts_made > len(EMAIL_RETRY_DELAYS):
        return None
    return now + EMAIL_RETRY_DELAYS[attempts_made - 1]
