"""Webhooks to partner systems, as the Standard Webhooks spec has them: signed deliveries a receiver verifies with
the `standardwebhooks` library, retried on schedule (the clock is the test's), logged, replayable, and never sent
to the platform's own network."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from services.notifications.domain import WEBHOOK_RETRY_DELAYS
from services.notifications.models import WebhookDelivery
from services.notifications.tests.conftest import (
    STAFF,
    Mailbox,
    NotificationsApi,
    Receiver,
    notifications_service,
    plain_text,
    webhook_receiver,
)
from shared.membership import Role
from tests.support import partner_facts as facts
from tests.support.clock import MovableClock
from tests.support.tokens import bearer, partner_bearer

PARTNER = partner_bearer("camera-di-commercio-lucca", "webhooks:manage")
PUBLIC_ADDRESS = "93.184.215.14"


class Dns:
    """What names resolve to, as the test says (the machine has no outside DNS)."""

    def __init__(self) -> None:
        self.answers: dict[str, list[str]] = {
            "partner.example.org": [PUBLIC_ADDRESS],
            "intranet.localdomain": ["127.0.0.1"],
        }

    async def resolve(self, host: str) -> list[str]:
        if host.replace(".", "").isdigit() or ":" in host:
            return [host]
        return self.answers[host]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


@pytest.fixture
def dns() -> Dns:
    return Dns()


@pytest.fixture
async def notifications(
    database_url: str, kafka_bootstrap: str, smtp: tuple[Mailbox, int], dns: Dns
) -> AsyncIterator[NotificationsApi]:
    """The service, its DNS answered by the test's `dns`."""
    mailbox, port = smtp
    async with notifications_service(database_url, kafka_bootstrap, mailbox, port, resolver=dns.resolve) as api:
        yield api


async def register(
    api: NotificationsApi, url: str, event_types: list[str], headers: dict[str, str] = PARTNER
) -> dict[str, Any]:
    answer = await api.client.post(
        "/webhooks/endpoints",
        headers=headers,
        json={
            "url": url,
            "event_types": event_types,
            "description": "Registro eventi della Camera di Commercio",
            "contact_email": "sistemi@camera-lucca.example",
        },
    )
    assert answer.status_code == 201, answer.text
    endpoint: dict[str, Any] = answer.json()
    return endpoint


async def publish_event(api: NotificationsApi) -> str:
    event = facts.event_summary(str(uuid.uuid4()), title_it="Fiera MICAM Milano: visita collettiva")
    return await api.publish(facts.event_published(event))


async def delivery(api: NotificationsApi, fact_id: str) -> WebhookDelivery | None:
    """The delivery of one fact (facts other tests left on the topics may bring deliveries of their own)."""
    found = await api.messages_of(WebhookDelivery, event_id=fact_id)
    return found[0] if found else None


def requests_of(receiver: Receiver, delivery_id: str) -> list[Any]:
    return [request for request in receiver.received if request.headers["webhook-id"] == delivery_id]


async def until(condition: Callable[[], Awaitable[bool]], timeout: float = 20) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def attempts_reach(api: NotificationsApi, fact_id: str, count: int) -> WebhookDelivery:
    async def reached() -> bool:
        found = await delivery(api, fact_id)
        return found is not None and found.attempts >= count

    await until(reached)
    found = await delivery(api, fact_id)
    assert found is not None
    return found


async def jump_to_next_attempt(api: NotificationsApi, clock: MovableClock, fact_id: str) -> None:
    """Move the clock to the moment the failed delivery is due again, instead of waiting for it."""
    found = await delivery(api, fact_id)
    assert found is not None and found.next_attempt_at is not None
    due = found.next_attempt_at
    clock.advance(due - clock() + timedelta(milliseconds=10))


async def test_a_partner_registers_an_endpoint_and_receives_signed_deliveries(
    notifications: NotificationsApi, receiver: Receiver, kafka_reader: Any
) -> None:
    endpoint = await register(notifications, receiver.url, ["events.event.published"])
    assert endpoint["secret"].startswith("whsec_") and endpoint["enabled"] is True
    fact_id = await publish_event(notifications)

    sent = await attempts_reach(notifications, fact_id, 1)
    [request] = requests_of(receiver, sent.id)
    payload = Webhook(endpoint["secret"]).verify(request.body, request.headers)
    assert payload["type"] == "events.event.published"
    assert payload["data"]["event"]["title_it"] == "Fiera MICAM Milano: visita collettiva"
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 43 + "=").verify(request.body, request.headers)

    log = (await notifications.client.get(f"/webhooks/endpoints/{endpoint['id']}/deliveries", headers=PARTNER)).json()
    [logged] = [item for item in log["items"] if item["event_id"] == fact_id]
    assert logged["id"] == request.headers["webhook-id"] and logged["status"] == "succeeded"
    outcomes = await kafka_reader.read(
        "notifications.deliveries.v1",
        lambda events: any(
            event["type"] == "notifications.webhook.delivered" and event["data"]["delivery_id"] == logged["id"]
            for event in events
        ),
    )
    assert any(
        event["data"].get("status_code") == 204 and event["data"].get("delivered_type") == "events.event.published"
        for event in outcomes
        if event["data"].get("delivery_id") == logged["id"]
    )


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://partner.example.org/hooks", "must use https"),
        ("https://10.1.2.3/hooks", "non-public address (10.1.2.3)"),
        ("https://169.254.169.254/latest/meta-data", "non-public address (169.254.169.254)"),
        ("https://intranet.localdomain/hooks", "non-public address (127.0.0.1)"),
        ("https://[::ffff:192.168.1.10]/hooks", "non-public address (192.168.1.10)"),
        ("https://user:pass@partner.example.org/hooks", "must not carry credentials"),
    ],
)
async def test_addresses_inside_the_platform_network_are_refused(
    notifications: NotificationsApi, url: str, reason: str
) -> None:
    answer = await notifications.client.post(
        "/webhooks/endpoints",
        headers=PARTNER,
        json={"url": url, "event_types": ["events.event.published"], "contact_email": "it@partner.example.org"},
    )
    assert answer.status_code == 422, answer.text
    assert reason in answer.json()["detail"]


async def test_only_staff_and_partners_allowed_to_manage_webhooks_register_known_event_types(
    notifications: NotificationsApi,
) -> None:
    body = {
        "url": "https://partner.example.org/hooks",
        "event_types": ["events.event.published"],
        "contact_email": "it@partner.example.org",
    }
    refused = {
        "partner without the scope": partner_bearer("fiera-milano", "directory:read"),
        "a company's person": bearer(str(uuid.uuid4()), role=Role.COMPANY_ADMIN, company_id=str(uuid.uuid4())),
    }
    for who, headers in refused.items():
        answer = await notifications.client.post("/webhooks/endpoints", headers=headers, json=body)
        assert answer.status_code == 403, who
    assert (await notifications.client.post("/webhooks/endpoints", headers=STAFF, json=body)).status_code == 201
    unknown = await notifications.client.post(
        "/webhooks/endpoints", headers=PARTNER, json={**body, "event_types": ["members.person.joined"]}
    )
    assert unknown.status_code == 422, "facts about people are not offered to partners"
    assert unknown.json()["detail"][0]["input"] == "members.person.joined"
    catalogue = (await notifications.client.get("/webhooks/event-types")).json()
    assert {"events.event.published", "funding.call.published"} <= {entry["type"] for entry in catalogue}

    mine = (await notifications.client.get("/webhooks/endpoints", headers=PARTNER)).json()
    assert mine == [], "a partner sees only its own endpoints"
    other = (await notifications.client.get("/webhooks/endpoints", headers=STAFF)).json()[0]
    assert (await notifications.client.get(f"/webhooks/endpoints/{other['id']}", headers=PARTNER)).status_code == 404


async def test_partners_see_only_listed_companies_and_only_their_public_profile(
    notifications: NotificationsApi, receiver: Receiver
) -> None:
    endpoint = await register(notifications, receiver.url, ["members.company.approved"])
    unlisted, listed = str(uuid.uuid4()), str(uuid.uuid4())
    hidden = await notifications.publish(facts.company_approved(facts.company_profile(unlisted, public_listing=False)))
    shown = await notifications.publish(
        facts.company_approved(facts.company_profile(listed, legal_name="Suolificio Lucchese"))
    )

    sent = await attempts_reach(notifications, shown, 1)
    assert await delivery(notifications, hidden) is None
    [request] = requests_of(receiver, sent.id)
    data = Webhook(endpoint["secret"]).verify(request.body, request.headers)["data"]
    assert data["company"]["legal_name"] == "Suolificio Lucchese"
    assert "interests" not in data["company"] and "employees" not in data["company"]


async def test_failures_are_retried_on_the_standard_schedule_then_given_up_after_three_days(
    notifications: NotificationsApi, receiver: Receiver, kafka_reader: Any
) -> None:
    endpoint = await register(notifications, receiver.url, ["events.event.published"])
    receiver.answer(500, times=100)
    fact_id = await publish_event(notifications)

    current = await attempts_reach(notifications, fact_id, 1)
    for attempt in range(2, 20):
        if current.status != "pending":
            break
        await jump_to_next_attempt(notifications, notifications.clock, fact_id)
        current = await attempts_reach(notifications, fact_id, attempt)
    gave_up = current
    assert gave_up.status == "failed" and gave_up.last_status_code == 500
    assert len(requests_of(receiver, gave_up.id)) == gave_up.attempts == 9, (
        "at once, 6 scheduled retries, then daily to day 3"
    )

    detail = (await notifications.client.get(f"/webhooks/deliveries/{gave_up.id}", headers=PARTNER)).json()
    moments = [datetime.fromisoformat(attempt["attempted_at"]) for attempt in detail["attempt_log"]]
    waits = [later - earlier for earlier, later in itertools.pairwise(moments)]
    for wait, planned in zip(waits, [*WEBHOOK_RETRY_DELAYS, timedelta(days=1), timedelta(days=1)], strict=False):
        assert planned * 0.9 <= wait <= planned * 1.1 + timedelta(seconds=2), (wait, planned)
    assert moments[-1] - moments[0] <= timedelta(days=3)
    outcomes = await kafka_reader.read(
        "notifications.deliveries.v1",
        lambda events: any(
            event["type"] == "notifications.webhook.failed" and event["data"]["delivery_id"] == gave_up.id
            for event in events
        ),
    )
    [failed] = [
        event
        for event in outcomes
        if event["type"] == "notifications.webhook.failed" and event["data"]["delivery_id"] == gave_up.id
    ]
    assert failed["data"]["reason"].startswith("gave up after 9 attempts: HTTP 500")

    # Still failing once three days have passed: the next delivery disables the endpoint; its owner is told.
    notifications.clock.advance(timedelta(days=3) - (notifications.clock() - moments[0]) + timedelta(minutes=1))
    await publish_event(notifications)
    await until(lambda: _endpoint_disabled(notifications, endpoint["id"]))
    [told] = await notifications.mailbox.until_received(1, "sistemi@camera-lucca.example")
    assert told["Subject"].strip() == f"Webhook disattivato: {receiver.url}"
    assert "every delivery has failed for 3 days" in plain_text(told)


async def _endpoint_disabled(api: NotificationsApi, endpoint_id: str) -> bool:
    answer = await api.client.get(f"/webhooks/endpoints/{endpoint_id}", headers=PARTNER)
    return answer.json()["enabled"] is False


async def test_a_receiver_asking_for_patience_with_retry_after_gets_it(
    notifications: NotificationsApi, receiver: Receiver
) -> None:
    await register(notifications, receiver.url, ["events.event.published"])
    receiver.answer(503, {"Retry-After": "3600"}, times=3)  # facts other tests left may take an answer or two
    fact_id = await publish_event(notifications)
    first = await attempts_reach(notifications, fact_id, 1)
    assert first.last_status_code == 503
    assert first.next_attempt_at is not None and first.first_attempt_at is not None
    assert first.next_attempt_at - first.first_attempt_at >= timedelta(seconds=3600)

    receiver.answers.clear()
    await jump_to_next_attempt(notifications, notifications.clock, fact_id)
    assert (await attempts_reach(notifications, fact_id, 2)).status == "succeeded"


async def test_410_gone_disables_the_endpoint_at_once_and_its_owner_is_told(
    notifications: NotificationsApi, receiver: Receiver
) -> None:
    endpoint = await register(notifications, receiver.url, ["events.event.published"])
    receiver.answer(410)
    await publish_event(notifications)
    await until(lambda: _endpoint_disabled(notifications, endpoint["id"]))
    [told] = await notifications.mailbox.until_received(1, "sistemi@camera-lucca.example")
    assert "410 Gone" in plain_text(told)

    received = len(receiver.received)
    waiting = await publish_event(notifications)
    await notifications.until_consumed(waiting)  # handled, and the deliveries it queued written with it
    assert await delivery(notifications, waiting) is None, "a disabled endpoint does not collect deliveries"
    assert len(receiver.received) == received, "nothing more is sent to a disabled endpoint"
    enabled = await notifications.client.patch(
        f"/webhooks/endpoints/{endpoint['id']}", headers=PARTNER, json={"enabled": True}
    )
    assert enabled.status_code == 200 and enabled.json()["disabled_reason"] is None
    assert await delivery(notifications, waiting) is None, "a disabled endpoint does not collect deliveries"
    later = await publish_event(notifications)
    assert (await attempts_reach(notifications, later, 1)).status == "succeeded"


async def test_after_a_rotation_both_secrets_verify_for_a_while(
    notifications: NotificationsApi, receiver: Receiver
) -> None:
    endpoint = await register(notifications, receiver.url, ["events.event.published"])
    rotated = await notifications.client.post(f"/webhooks/endpoints/{endpoint['id']}/secret", headers=PARTNER)
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    assert new_secret != endpoint["secret"]
    during = await attempts_reach(notifications, await publish_event(notifications), 1)

    [request] = requests_of(receiver, during.id)
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (endpoint["secret"], new_secret):
        Webhook(secret).verify(request.body, request.headers)

    notifications.clock.advance(timedelta(hours=25))
    after = await attempts_reach(notifications, await publish_event(notifications), 1)
    [later] = requests_of(receiver, after.id)
    assert len(later.headers["webhook-signature"].split(" ")) == 1
    Webhook(new_secret).verify(later.body, later.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint["secret"]).verify(later.body, later.headers)


async def test_a_delivery_can_be_replayed_with_the_same_webhook_id(
    notifications: NotificationsApi, receiver: Receiver
) -> None:
    endpoint = await register(notifications, receiver.url, ["events.event.published"])
    sent = await attempts_reach(notifications, await publish_event(notifications), 1)
    [first] = requests_of(receiver, sent.id)
    replayed = await notifications.client.post(
        f"/webhooks/deliveries/{first.headers['webhook-id']}/replay", headers=PARTNER
    )
    assert replayed.status_code == 200, replayed.text
    await attempts_reach(notifications, sent.event_id, 2)
    [_, again] = requests_of(receiver, sent.id)
    assert again.headers["webhook-id"] == first.headers["webhook-id"]
    assert json.loads(again.body) == json.loads(first.body)
    stranger = partner_bearer("someone-else", "webhooks:manage")
    assert (
        await notifications.client.post(f"/webhooks/deliveries/{first.headers['webhook-id']}/replay", headers=stranger)
    ).status_code == 404
    assert (
        await notifications.client.get(f"/webhooks/endpoints/{endpoint['id']}/deliveries", headers=stranger)
    ).status_code == 404


async def test_an_address_that_turns_private_after_registration_is_refused_at_delivery(
    notifications: NotificationsApi, dns: Dns
) -> None:
    await register(notifications, "https://partner.example.org/hooks", ["events.event.published"])
    dns.answers["partner.example.org"] = ["192.168.0.7"]  # DNS rebinding
    refused = await attempts_reach(notifications, await publish_event(notifications), 1)
    assert refused.last_status_code is None
    assert (
        refused.last_error == "refused before sending: the webhook URL's host partner.example.org resolves "
        "to a non-public address (192.168.0.7)"
    )
