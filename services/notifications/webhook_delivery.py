"""Webhook delivery to partner systems (Chamber of Commerce, trade-fair organisers, regional agencies), as the
Standard Webhooks spec has it: each public fact fanned out to the endpoints that want it, as a JSON body
`{"type", "timestamp", "data"}` signed with HMAC-SHA256 by the endpoint's `whsec_` secret (both secrets for a
while after a rotation), retried on a schedule (domain.next_webhook_attempt), every attempt logged. The
endpoints' use cases (registration, rotation, replay) are in commands.py."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from standardwebhooks import Webhook

from services.notifications import store
from services.notifications.domain import (
    PARTNER_EVENT_DESCRIPTIONS,
    PUBLIC_COMPANY_FIELDS,
    Kind,
    endpoint_failing_too_long,
    next_webhook_attempt,
    refuse_private_addresses,
    retry_after_of,
    webhook_host,
)
from services.notifications.events import EndpointDisabled, WebhookDelivered, WebhookFailed
from services.notifications.messages import DeliveryContext, Notice, Recipient
from services.notifications.models import CompanyFact, DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from shared.clock import Clock, utc_now
from shared.consumer import read_fact
from shared.envelope import CloudEvent
from shared.errors import DomainError
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

Resolver = Callable[[str], Awaitable[list[str]]]


async def resolve(host: str) -> list[str]:
    try:
        answers = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:  # UnicodeError: a name no DNS could hold (a 64+ label)
        raise DomainError(f"the webhook URL's host {host[:100]} cannot be resolved") from error
    return [str(answer[4][0]) for answer in answers]


@dataclass(frozen=True)
class UrlPolicy:
    allowed_hosts: frozenset[str]
    resolver: Resolver = resolve

    async def check(self, url: str) -> None:
        """Raises DomainError when `url` must not receive webhooks; run on registration and before each send,
        since what a name resolves to can change in between."""
        host = webhook_host(url, self.allowed_hosts)
        if host not in self.allowed_hosts:
            refuse_private_addresses(host, await self.resolver(host), self.allowed_hosts)


def partner_view(event: CloudEvent) -> dict[str, Any] | None:
    """The body partners receive for `event`, or None when it is not for them."""
    if event.type not in PARTNER_EVENT_DESCRIPTIONS:
        return None
    data = event.data
    if event.type.startswith("members.company."):
        if not read_fact(CompanyFact, data, "a company fact as members.companies.v1 carries it").company.public_listing:
            return None
        data = {
            "company_id": data["company_id"],
            "company": {name: data["company"].get(name) for name in PUBLIC_COMPANY_FIELDS},
        }
    return {"type": event.type, "timestamp": event.time.astimezone(UTC).isoformat(), "data": data}


async def fan_out(uow: UnitOfWork, event: CloudEvent, now: datetime) -> int:
    """One delivery per enabled endpoint that wants this fact, due at once; the unique (endpoint, event) key
    keeps a redelivered fact from being sent twice."""
    body = partner_view(event)
    if body is None:
        return 0
    endpoints = await store.endpoints_wanting(uow.session, event.type)
    payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    for endpoint in endpoints:
        uow.session.add(
            WebhookDelivery(
                endpoint_id=endpoint.id,
                event_id=event.id,
                event_type=event.type,
                body=payload,
                next_attempt_at=now,
                created_at=now,
            )
        )
    return len(endpoints)


def signature_headers(delivery: WebhookDelivery, endpoint: WebhookEndpoint, now: datetime) -> dict[str, str]:
    """Standard Webhooks headers; during a rotation the body is signed with both secrets, so a receiver that
    still holds the old one keeps verifying. The timestamp is the wall clock's, not the service's clock: receivers
    check it against theirs; `now` (the service's clock) decides whether the rotation is over."""
    sent_at = utc_now()
    secrets_in_use = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and now < endpoint.previous_secret_expires_at:
        secrets_in_use.append(endpoint.previous_secret)
    signatures = " ".join(Webhook(secret).sign(delivery.id, sent_at, delivery.body) for secret in secrets_in_use)
    return {
        "webhook-id": delivery.id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
    }


@dataclass(frozen=True)
class AttemptOutcome:
    """What the receiver answered to one attempt, or why there was no answer."""

    status_code: int | None
    error: str | None
    retry_after: str | None
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookSender:
    """Sends due deliveries, a bounded number at a time, and records each attempt and its consequences."""

    def __init__(
        self,
        unit_of_work: Callable[[], UnitOfWork],
        delivery_context: DeliveryContext,
        policy: UrlPolicy,
        clock: Clock,
        concurrency: int,
        timeout_seconds: float,
    ) -> None:
        """`clock` is the service's: it decides what is due and whether a rotation's old secret still signs."""
        self._unit_of_work = unit_of_work
        self._delivery_context = delivery_context
        self._policy = policy
        self._clock = clock
        self._limit = asyncio.Semaphore(concurrency)
        self._batch = concurrency * 4
        self._timeout = timeout_seconds

    async def send_due(self) -> int:
        """One pass: every delivery due now. Returns how many were attempted."""
        attempted = 0
        due = await self._due()
        if not due:
            return 0  # most passes: no client built (building one costs tens of milliseconds here)
        # No redirects: a receiver's 3xx must not lead our request somewhere the URL check did not see.
        async with httpx.AsyncClient(timeout=self._timeout, follow_redirects=False) as client:
            while due:
                await asyncio.gather(*(self._send_one(client, delivery.id) for delivery in due))
                attempted += len(due)
                due = await self._due()
        return attempted

    async def _due(self) -> list[WebhookDelivery]:
        async with self._unit_of_work() as uow:
            return await store.due_deliveries(uow.session, uow.now(), self._batch)

    async def _send_one(self, client: httpx.AsyncClient, delivery_id: str) -> None:
        async with self._limit:
            async with self._unit_of_work() as uow:
                delivery = await uow.session.get(WebhookDelivery, delivery_id)
                endpoint = await uow.session.get(WebhookEndpoint, delivery.endpoint_id) if delivery else None
            if delivery is None or endpoint is None or delivery.status != DeliveryStatus.PENDING:
                return
            outcome = await self._post(client, delivery, endpoint)
            async with self._unit_of_work() as uow:
                await self._record(uow, delivery.id, outcome)

    async def _post(
        self, client: httpx.AsyncClient, delivery: WebhookDelivery, endpoint: WebhookEndpoint
    ) -> AttemptOutcome:
        started = time.perf_counter()
        try:
            await self._policy.check(endpoint.url)
            response = await client.post(
                endpoint.url,
                content=delivery.body.encode(),
                headers=signature_headers(delivery, endpoint, self._clock()),
            )
        except DomainError as refused:
            return AttemptOutcome(None, f"refused before sending: {refused.message}", None, _ms_since(started))
        except httpx.HTTPError as error:
            return AttemptOutcome(
                None, f"{type(error).__name__}: {error}"[:500] or type(error).__name__, None, _ms_since(started)
            )
        failure = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}: {response.text[:200]}"
        return AttemptOutcome(response.status_code, failure, response.headers.get("retry-after"), _ms_since(started))

    async def _record(self, uow: UnitOfWork, delivery_id: str, outcome: AttemptOutcome) -> None:
        now = uow.now()
        delivery = await uow.session.get(WebhookDelivery, delivery_id)
        assert delivery is not None
        endpoint = await uow.session.get(WebhookEndpoint, delivery.endpoint_id)
        assert endpoint is not None
        uow.session.add(
            WebhookAttempt(
                delivery_id=delivery.id,
                attempted_at=now,
                status_code=outcome.status_code,
                error=outcome.error,
                duration_ms=outcome.duration_ms,
            )
        )
        delivery.attempts += 1
        delivery.first_attempt_at = delivery.first_attempt_at or now
        delivery.last_status_code, delivery.last_error = outcome.status_code, outcome.error
        if outcome.succeeded:
            delivery.status, delivery.next_attempt_at, delivery.finished_at = DeliveryStatus.SUCCEEDED, None, now
            endpoint.failing_since = None
            uow.publish(_outcome(WebhookDelivered, delivery))
        elif outcome.status_code == 410:
            await self._give_up(uow, delivery, "the receiver answered 410 Gone", now)
            await self._disable(uow, endpoint, "the receiver answered 410 Gone: it no longer wants deliveries", now)
        else:
            endpoint.failing_since = endpoint.failing_since or now
            retry_at = next_webhook_attempt(
                delivery.first_attempt_at, delivery.attempts, now, retry_after_of(outcome.retry_after, now)
            )
            if retry_at is None:
                await self._give_up(uow, delivery, f"gave up after {delivery.attempts} attempts: {outcome.error}", now)
            else:
                delivery.next_attempt_at = retry_at
            if endpoint_failing_too_long(endpoint.failing_since, now):
                await self._disable(uow, endpoint, "every delivery has failed for 3 days", now)
        uow.session.add(delivery)
        uow.session.add(endpoint)
        await uow.commit()

    async def _give_up(self, uow: UnitOfWork, delivery: WebhookDelivery, reason: str, now: datetime) -> None:
        delivery.status, delivery.next_attempt_at, delivery.finished_at = DeliveryStatus.FAILED, None, now
        uow.publish(_outcome(WebhookFailed, delivery, reason=reason))

    async def _disable(self, uow: UnitOfWork, endpoint: WebhookEndpoint, reason: str, now: datetime) -> None:
        """Disable the endpoint and tell its owner by email; what was pending stays pending until it is enabled
        again or replayed."""
        if not endpoint.enabled:
            return
        endpoint.enabled, endpoint.disabled_reason = False, reason
        uow.publish(EndpointDisabled(endpoint_id=endpoint.id, owner_id=endpoint.owner_id, reason=reason))
        context = {"url": endpoint.url, "reason": reason}
        notice = Notice(
            f"endpoint-disabled:{endpoint.id}:{now.isoformat()}", Kind.ENDPOINT_DISABLED, lambda _language: context
        )
        await self._delivery_context.deliver(uow, notice, [Recipient.address_only(endpoint.contact_email, "")])
        log.warning("disabled webhook endpoint %s: %s", endpoint.id, reason)


def _outcome(
    kind: type[WebhookDelivered] | type[WebhookFailed], delivery: WebhookDelivery, **extra: Any
) -> WebhookDelivered | WebhookFailed:
    return kind(
        delivery_id=delivery.id,
        endpoint_id=delivery.endpoint_id,
        event_id=delivery.event_id,
        delivered_type=delivery.event_type,
        attempts=delivery.attempts,
        status_code=delivery.last_status_code,
        **extra,
    )


def _ms_since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
