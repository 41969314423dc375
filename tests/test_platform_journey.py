"""The platform's journey end to end, as its clients and partners meet it: only through the gateway and the public
topics. The four services run as their own processes on their own PostgreSQL databases behind nginx, with a mail
catcher for their email, a recorded EU Funding & Tenders feed and a partner's webhook receiver on this machine
(tests/support/platform.py), and the web client beside them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from standardwebhooks import Webhook

from services.events.tests.conftest import event_body
from services.funding.tests.conftest import FakeSources, fixture
from services.members.tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, APPLICANT_PASSWORD, PARTITE_IVA, application
from tests.support.emails import attachment_types, calendar_entry, one_email
from tests.support.platform import Platform, running_platform

ROME = ZoneInfo("Europe/Rome")
OWNER_EMAIL = "titolare@calzaturificio-pianacce.example"
COLLEAGUE_EMAIL = "chiara.lencioni@calzaturificio-pianacce.example"
COLLEAGUE_PASSWORD = "tomaia-e-suola-2026"
# The recorded search page lists the EU's open SME calls; at first the feed has nothing new to say.
NOTHING_NEW = json.dumps(
    {**json.loads(fixture("search-open-sme-calls.json")), "results": [], "totalResults": 0}
).encode()


@pytest.fixture
def platform(postgres: Any, kafka_bootstrap: str, tmp_path: Path) -> Iterator[Platform]:
    with running_platform(postgres, kafka_bootstrap, tmp_path, FakeSources(eu_pages=[NOTHING_NEW])) as running:
        yield running


async def test_from_application_to_erasure_through_the_gateway_and_the_public_topics(platform: Platform) -> None:
    approval_request = f"journey-{uuid.uuid4()}"
    async with platform.client() as api, platform.client(approval_request) as traced:
        # Staff log in; a partner system (the Chamber of Commerce) subscribes to new funding calls.
        staff = await login(api, ADMIN_EMAIL, ADMIN_PASSWORD)
        partner = await partner_login(api, staff)
        endpoint = await api.post(
            "/notifications/webhooks/endpoints",
            headers=partner,
            json={
                "url": platform.partner_receiver.url,
                "event_types": ["funding.call.published"],
                "contact_email": "sistemi@cameracommercio-lucca.example",
            },
        )
        assert endpoint.status_code == 201, endpoint.text

        # A company applies and staff approve it, with a request id the gateway passes on.
        applied = await api.post(
            "/members/companies/applications",
            json=application(
                PARTITE_IVA[2], OWNER_EMAIL, interests=["manufacturing innovation", "industrial ecosystem"]
            ),
        )
        assert applied.status_code == 201, applied.text
        company = applied.json()
        approved = await traced.post(f"/members/companies/{company['id']}/approve", headers=staff)
        assert approved.status_code == 200, approved.text
        assert approved.headers["X-Request-ID"] == approval_request

        # Its admin adds a colleague, who registers for a training course and gets the confirmation with an .ics.
        owner = await login(api, OWNER_EMAIL, APPLICANT_PASSWORD)
        added = await api.post(
            f"/members/companies/{company['id']}/people",
            headers=owner,
            json={
                "given_name": "Chiara",
                "family_name": "Lencioni",
                "email": COLLEAGUE_EMAIL,
                "password": COLLEAGUE_PASSWORD,
            },
        )
        assert added.status_code == 201, added.text
        colleague_id = added.json()["id"]
        colleague = await login(api, COLLEAGUE_EMAIL, COLLEAGUE_PASSWORD)
        course = await published_training(api, staff)
        registered = await eventually(
            lambda: api.post(f"/events/events/{course['id']}/registrations", headers=colleague, json={})
        )
        assert registered.status_code == 201 and registered.json()["status"] == "confirmed", registered.text
        confirmation = await one_email(platform.mail, COLLEAGUE_EMAIL, lambda m: "ics" in attachment_types(m))
        entry = calendar_entry(confirmation)
        assert str(entry["UID"]).startswith(course["id"])
        assert entry.decoded("DTSTART") == datetime.fromisoformat(course["starts_at"])
        assert entry.decoded("DTEND") == datetime.fromisoformat(course["ends_at"])
        search = await api.post(
            "/funding/searches", headers=colleague, json={"name": "Innovazione", "text": "innovation"}
        )
        assert search.status_code == 201, search.text

        # A new EU call appears in the feed; the colleague, watching the inbox live, sees the alert.
        async with inbox_stream(api, colleague) as alerts:
            platform.eu_feed.eu_pages = [fixture("search-open-sme-calls.json")]
            ingested = await api.post("/funding/sources/eu_funding_tenders/runs", headers=staff)
            assert ingested.status_code == 200, ingested.text
            alert = await first_of(alerts, lambda message: message["kind"] == "funding_match")
        assert company["legal_name"] in alert["title"]
        assert "keyword: ecosystem" in alert["body"] and "keyword: innovation" in alert["body"]  # the reasons
        await one_email(platform.mail, COLLEAGUE_EMAIL, lambda m: m["Subject"] == alert["title"])

        # The partner's receiver gets signed deliveries it can verify with its secret.
        deliveries = await platform.partner_receiver.until_received(1, timeout=30)
        verified = Webhook(endpoint.json()["secret"]).verify(deliveries[0].body, deliveries[0].headers)
        assert verified["type"] == "funding.call.published"

        # A partner's plain Kafka consumer reads the course as published on the public topic.
        published = await read_public_topic(platform.kafka_bootstrap, "events.events.v1", course["id"])
        assert published["type"] == "events.event.published" and published["specversion"] == "1.0"
        assert published["data"]["event"]["title_it"] == course["title_it"]

        # The colleague asks for erasure and disappears from every service.
        erased = await api.post(f"/members/people/{colleague_id}/erasure", headers=colleague)
        assert erased.status_code == 204, erased.text
        assert (await api.get(f"/members/people/{colleague_id}", headers=staff)).status_code == 404
        await eventually(lambda: registrations_say_erased(api, course["id"], staff))
        await eventually(lambda: nothing_left(api, "/funding/searches", colleague))
        await eventually(lambda: nothing_left(api, "/notifications/inbox", colleague, key="items"))

    # The approval's request id followed it through Kafka into every service's logs.
    for service, log in platform.logs.items():
        assert approval_request in log.read_text(), f"{service} did not log {approval_request}"
    # Operators see each service's outbox backlog, and how far behind each consumer group is.
    for service, url in platform.services.items():
        metrics = httpx.get(f"{url}/metrics").text
        assert re.search(r"^filiera_outbox_backlog \d", metrics, re.MULTILINE), service
        if service != "members":  # the one service that reads no other's topics
            assert f'filiera_consumer_lag{{consumer="{service}.' in metrics, service


async def login(api: httpx.AsyncClient, email_address: str, password: str) -> dict[str, str]:
    answer = await api.post(
        "/members/auth/token", data={"grant_type": "password", "username": email_address, "password": password}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def partner_login(api: httpx.AsyncClient, staff: dict[str, str]) -> dict[str, str]:
    client = await api.post(
        "/members/partner-clients",
        headers=staff,
        json={"name": "Camera di Commercio di Lucca", "scopes": ["webhooks:manage"]},
    )
    assert client.status_code == 201, client.text
    answer = await api.post(
        "/members/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client.json()["client_id"],
            "client_secret": client.json()["client_secret"],
        },
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def published_training(api: httpx.AsyncClient, staff: dict[str, str]) -> dict[str, Any]:
    starts = (datetime.now(ROME) + timedelta(days=10)).replace(hour=14, minute=30, second=0, microsecond=0)
    created = await api.post(
        "/events/events",
        headers=staff,
        json=event_body(
            title_it="Sostenibilità nella filiera della calzatura",
            title_en="Sustainability in the footwear chain",
            starts_at=starts.isoformat(),
            ends_at=(starts + timedelta(hours=3)).isoformat(),
        ),
    )
    assert created.status_code == 201, created.text
    published = await api.post(f"/events/events/{created.json()['id']}/publish", headers=staff)
    assert published.status_code == 200, published.text
    event: dict[str, Any] = published.json()
    return event


@contextlib.asynccontextmanager
async def inbox_stream(api: httpx.AsyncClient, person: dict[str, str]) -> AsyncIterator[asyncio.Queue[Any]]:
    """The in-app inbox as a web client keeps it open: each server-sent message lands in the queue."""
    arrived: asyncio.Queue[Any] = asyncio.Queue()
    opened = asyncio.Event()

    async def listen() -> None:
        async with api.stream("GET", "/notifications/inbox/stream", headers=person, timeout=None) as stream:
            assert stream.status_code == 200
            opened.set()
            async for line in stream.aiter_lines():
                if line.startswith("data:"):
                    await arrived.put(json.loads(line.removeprefix("data:")))

    listening = asyncio.create_task(listen())
    await asyncio.wait_for(opened.wait(), timeout=10)
    try:
        yield arrived
    finally:
        listening.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listening


async def first_of(arrived: asyncio.Queue[Any], wanted: Callable[[Any], bool], timeout: float = 60) -> Any:
    async with asyncio.timeout(timeout):
        while not wanted(message := await arrived.get()):
            pass
        return message


async def read_public_topic(bootstrap: str, topic: str, subject: str) -> dict[str, Any]:
    """What a partner's own consumer sees: JSON CloudEvents on a topic, read from the start in its own group."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=f"partner-{uuid.uuid4()}", auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        async with asyncio.timeout(30):
            async for record in consumer:
                fact: dict[str, Any] = json.loads(record.value)
                if fact["subject"] == subject:
                    return fact
    finally:
        await consumer.stop()
    raise AssertionError("unreachable")


async def registrations_say_erased(api: httpx.AsyncClient, event_id: str, staff: dict[str, str]) -> httpx.Response:
    listed = (await api.get(f"/events/events/{event_id}/registrations", headers=staff)).json()
    erased = [r["name"] for r in listed] == ["(erased)"] and listed[0]["person_id"] is None
    return httpx.Response(200 if erased else 404, json=listed)


async def nothing_left(
    api: httpx.AsyncClient, path: str, person: dict[str, str], key: str | None = None
) -> httpx.Response:
    answer = (await api.get(path, headers=person)).json()
    left = answer[key] if key else answer
    return httpx.Response(404 if left else 200, json=answer)


async def eventually(attempt: Callable[[], Awaitable[httpx.Response]], timeout: float = 60) -> httpx.Response:
    """Retry until 2xx: what one service did reaches the others through Kafka."""
    async with asyncio.timeout(timeout):
        while not (response := await attempt()).is_success:
            await asyncio.sleep(0.3)
    return response
