"""The rules of notifications, without I/O: who may be written to about what, on which channel and how often;
when a failed delivery is tried again; who may manage webhooks, what partners see and which webhook addresses
are acceptable."""

from __future__ import annotations

import base64
import ipaddress
import random
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from shared.auth import Principal
from shared.errors import DomainError, Forbidden

DISTRICT_TIME = ZoneInfo("Europe/Rome")


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
    }
)

CATEGORY_OF: dict[Kind, Category] = {
    Kind.APPLICATION_RECEIVED: Category.MEMBERSHIP,
    Kind.COMPANY_APPROVED: Category.MEMBERSHIP,
    Kind.COMPANY_REJECTED: Category.MEMBERSHIP,
    Kind.WELCOME: Category.MEMBERSHIP,
    Kind.FEE_OVERDUE: Category.MEMBERSHIP,
    Kind.ENDPOINT_DISABLED: Category.MEMBERSHIP,
    Kind.REGISTRATION_CONFIRMED: Category.EVENTS,
    Kind.REGISTRATION_WAITLISTED: Category.EVENTS,
    Kind.SEAT_OFFERED: Category.EVENTS,
    Kind.REGISTRATION_PROMOTED: Category.EVENTS,
    Kind.REGISTRATION_REJECTED: Category.EVENTS,
    Kind.EVENT_CHANGED: Category.EVENTS,
    Kind.EVENT_CANCELLED: Category.EVENTS,
    Kind.EVENT_STARTING_SOON: Category.EVENTS,
    Kind.FEEDBACK_REQUEST: Category.EVENTS,
    Kind.FUNDING_MATCH: Category.FUNDING_ALERTS,
    Kind.SEARCH_MATCHED: Category.FUNDING_ALERTS,
    Kind.CALL_CLOSING_SOON: Category.FUNDING_ALERTS,
    Kind.EVENT_ANNOUNCED: Category.NETWORK_NEWS,
}  # a digest has no category of its own: it gathers what each category held back

# Which members.companies.v1 facts are written about, and as what (the others only update our copy).
COMPANY_NOTICES = {
    "members.company.applied": Kind.APPLICATION_RECEIVED,
    "members.company.approved": Kind.COMPANY_APPROVED,
    "members.company.rejected": Kind.COMPANY_REJECTED,
}
# Which events.registrations.v1 facts the registrant hears of, and as what.
REGISTRATION_NOTICES = {
    "events.registration.confirmed": Kind.REGISTRATION_CONFIRMED,
    "events.registration.waitlisted": Kind.REGISTRATION_WAITLISTED,
    "events.registration.offered": Kind.SEAT_OFFERED,
    "events.registration.promoted": Kind.REGISTRATION_PROMOTED,
    "events.registration.rejected": Kind.REGISTRATION_REJECTED,
}
# Registration notices that carry the event's .ics: the person now has a seat.
NOTICES_WITH_CALENDAR = frozenset({Kind.REGISTRATION_CONFIRMED, Kind.REGISTRATION_PROMOTED})
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


# Standard Webhooks' schedule: the first try at once, then these waits after each failure ...
WEBHOOK_RETRY_DELAYS = [
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
]
# ... then one try a day until this long after the first.
WEBHOOK_GIVE_UP_AFTER = timedelta(days=3)
# An endpoint whose deliveries have all failed for this long is disabled and its owner told.
ENDPOINT_FAILING_LIMIT = timedelta(days=3)
# Email: a mail server that is away is tried again after these waits, then the message is given up.
EMAIL_RETRY_DELAYS = [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2)]


def next_webhook_attempt(
    first_attempt_at: datetime,
    attempts_made: int,
    now: datetime,
    retry_after: timedelta | None = None,
    jitter: random.Random | None = None,
) -> datetime | None:
    """When to try a failed delivery again, or None to give up. Jitter (±10%) spreads a failed endpoint's
    backlog; a receiver's Retry-After is honoured when it asks for more patience than the schedule."""
    wait = WEBHOOK_RETRY_DELAYS[attempts_made - 1] if attempts_made <= len(WEBHOOK_RETRY_DELAYS) else timedelta(days=1)
    wait *= (jitter or random).uniform(0.9, 1.1)
    if retry_after is not None:
        wait = max(wait, retry_after)
    when = now + wait
    return when if when - first_attempt_at <= WEBHOOK_GIVE_UP_AFTER else None


def next_email_attempt(attempts_made: int, now: datetime) -> datetime | None:
    if attempts_made > len(EMAIL_RETRY_DELAYS):
        return None
    return now + EMAIL_RETRY_DELAYS[attempts_made - 1]


def endpoint_failing_too_long(failing_since: datetime | None, now: datetime) -> bool:
    return failing_since is not None and now - failing_since >= ENDPOINT_FAILING_LIMIT


def retry_after_of(header: str | None, now: datetime) -> timedelta | None:
    """A Retry-After header, in seconds (the form receivers use); dates and nonsense are ignored."""
    if header is None or not header.strip().isdigit():
        return None
    return min(timedelta(seconds=int(header.strip())), WEBHOOK_GIVE_UP_AFTER)


MANAGE_WEBHOOKS_SCOPE = "webhooks:manage"


@dataclass(frozen=True)
class WebhookManager:
    """Someone allowed to manage webhook endpoints: network staff (every endpoint) or a partner system with the
    scope (its own)."""

    subject: str
    sees_every_endpoint: bool

    def may_manage(self, owner_id: str) -> bool:
        return self.sees_every_endpoint or owner_id == self.subject


def webhook_manager(principal: Principal) -> WebhookManager:
    """Raises Forbidden unless `principal` may manage webhook endpoints."""
    if principal.is_staff or (principal.kind == "partner" and MANAGE_WEBHOOKS_SCOPE in principal.scopes):
        return WebhookManager(principal.subject, sees_every_endpoint=principal.is_staff)
    raise Forbidden(
        f"webhook endpoints are managed by network staff or partner systems with scope {MANAGE_WEBHOOKS_SCOPE}"
    )


def new_webhook_secret() -> str:
    """A Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class PartnerEventType(StrEnum):
    """The public facts partner systems may subscribe to. Facts about people never leave the platform."""

    COMPANY_APPROVED = "members.company.approved"
    COMPANY_UPDATED = "members.company.updated"
    COMPANY_WITHDRAWN = "members.company.withdrawn"
    EVENT_PUBLISHED = "events.event.published"
    EVENT_UPDATED = "events.event.updated"
    EVENT_CANCELLED = "events.event.cancelled"
    CALL_PUBLISHED = "funding.call.published"
    CALL_UPDATED = "funding.call.updated"


PARTNER_EVENT_DESCRIPTIONS: dict[PartnerEventType, str] = {
    PartnerEventType.COMPANY_APPROVED: "A company joined the network (companies listed in the public directory)",
    PartnerEventType.COMPANY_UPDATED: "A listed member company changed its public profile",
    PartnerEventType.COMPANY_WITHDRAWN: "A listed company left the network",
    PartnerEventType.EVENT_PUBLISHED: "A trade fair, training course or company event was announced",
    PartnerEventType.EVENT_UPDATED: "An announced event changed (time, place, capacity...)",
    PartnerEventType.EVENT_CANCELLED: "An announced event was cancelled",
    PartnerEventType.CALL_PUBLISHED: "A funding call was found in the EU or Italian feeds, or entered by the network",
    PartnerEventType.CALL_UPDATED: "A funding call changed (deadline, budget, status...)",
}


# What partners see of a member company: its public directory entry, not its interests or contacts.
PUBLIC_COMPANY_FIELDS = (
    "id",
    "legal_name",
    "partita_iva",
    "size_class",
    "ateco_primary",
    "ateco_secondary",
    "comune",
    "frazione",
    "province",
    "region",
    "website",
    "capabilities",
    "certifications",
    "export_markets",
    "languages",
)


def webhook_host(url: str, allowed_hosts: frozenset[str]) -> str:
    """The host a webhook URL names, after the rules that need no network: https (plain http only for allowed
    hosts), no credentials in the URL. Raises DomainError saying what is wrong."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError as error:  # e.g. an unbalanced "[" read as the start of an IPv6 address
        raise DomainError(f"the webhook URL cannot be read: {error}") from error
    if not host:
        raise DomainError("the webhook URL has no host")
    if parts.username or parts.password:
        raise DomainError("the webhook URL must not carry credentials; the signature authenticates us")
    if parts.scheme != "https" and not (parts.scheme == "http" and host in allowed_hosts):
        raise DomainError("the webhook URL must use https")
    return host


def refuse_private_addresses(host: str, addresses: list[str], allowed_hosts: frozenset[str]) -> None:
    """Refuse a host that resolves to loopback, private, link-local or other non-public addresses: a webhook
    must not become a way to reach the platform's own network."""
    if host in allowed_hosts:
        return
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if not ip.is_global:
            raise DomainError(f"the webhook URL's host {host} resolves to a non-public address ({ip})")
