"""The rules of partners' webhooks: when a failed delivery is tried again, who may manage endpoints, what partners
see, and which webhook addresses are acceptable."""

from __future__ import annotations

import base64
import ipaddress
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from shared.auth import Principal
from shared.errors import DomainError, Forbidden

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
