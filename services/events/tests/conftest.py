"""An events service per test, on a real database (PostgreSQL and SQLite) and the real Kafka broker.

Tokens are signed here with a key of the test's own (the members service is not running); the members service's
facts are published to its topics exactly as it publishes them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.events import store
from services.events.app import create_app
from services.events.settings import EventsSettings
from shared.clock import Clock, utc_now
from shared.membership import MembershipStatus, Role
from tests.support.facts import publish_fact, until_stored
from tests.support.tokens import LocalKeys, bearer

STAFF = bearer(str(uuid.uuid4()), role=Role.NETWORK_ADMIN)


def event_body(**overrides: Any) -> dict[str, Any]:
    starts = datetime.now(UTC) + timedelta(days=10)
    body: dict[str, Any] = {
        "title_it": "Corso di modellistica 3D",
        "title_en": "3D pattern making course",
        "description_it": "Modellazione digitale della calzatura.",
        "event_type": "training",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=4)).isoformat(),
        "capacity": 20,
        "price_member_cents": 0,
        "price_other_cents": 15000,
        "audience": "members",
        "tags": ["digitale"],
    }
    body.update(overrides)
    return body


class Member:
    """A person of a member company, as the events service knows them."""

    def __init__(self, company_id: str, person_id: str, role: Role = Role.COMPANY_MEMBER) -> None:
        self.company_id = company_id
        self.id = person_id
        self.headers = bearer(person_id, role=role, company_id=company_id)


class EventsApi:
    def __init__(self, client: httpx.AsyncClient, app: Any, kafka_bootstrap: str) -> None:
        self.client = client
        self.app = app
        self.kafka_bootstrap = kafka_bootstrap

    async def published_event(self, headers: dict[str, str] = STAFF, **overrides: Any) -> dict[str, Any]:
        created = await self.client.post("/events", headers=headers, json=event_body(**overrides))
        assert created.status_code == 201, created.text
        published = await self.client.post(f"/events/{created.json()['id']}/publish", headers=headers)
        assert published.status_code == 200, published.text
        event: dict[str, Any] = published.json()
        return event

    async def tell_members_fact(self, topic: str, event_type: str, subject: str, data: dict[str, Any]) -> None:
        await publish_fact(self.kafka_bootstrap, topic, event_type, subject, data)

    async def company(
        self, status: MembershipStatus = MembershipStatus.ACTIVE, legal_name: str = "Suolificio Il Castagno S.r.l."
    ) -> str:
        company_id = str(uuid.uuid4())
        await self.set_company_status(company_id, status, legal_name)
        return company_id

    async def set_company_status(
        self, company_id: str, status: MembershipStatus, legal_name: str = "Suolificio S.r.l."
    ) -> None:
        await self.tell_members_fact(
            "members.companies.v1",
            f"members.company.{status}",
            company_id,
            {"company_id": company_id, "company": {"id": company_id, "legal_name": legal_name, "status": status}},
        )
        await self.until(lambda session: _company_status_is(session, company_id, status))

    async def member(
        self,
        company_id: str | None = None,
        role: Role = Role.COMPANY_MEMBER,
        name: tuple[str, str] = ("Giulia", "Bertolucci"),
    ) -> Member:
        company_id = company_id or await self.company()
        person_id = str(uuid.uuid4())
        await self.tell_members_fact(
            "members.people.v1",
            "members.person.joined",
            person_id,
            {
                "person_id": person_id,
                "person": {
                    "id": person_id,
                    "company_id": company_id,
                    "given_name": name[0],
                    "family_name": name[1],
                    "email": f"{person_id[:8]}@example.com",
                },
            },
        )
        await self.until(lambda session: _person_known(session, person_id))
        return Member(company_id, person_id, role)

    async def until(self, condition: Any, timeout: float = 30) -> None:
        await until_stored(self.app.state.runtime.sessions, condition, timeout)


async def _company_status_is(session: Any, company_id: str, status: MembershipStatus) -> bool:
    company = await store.member_company(session, company_id)
    return company is not None and company.status == status


async def _person_known(session: Any, person_id: str) -> bool:
    return await store.member_person(session, person_id) is not None


def events_settings(database_url: str, kafka_bootstrap: str, **overrides: Any) -> EventsSettings:
    return EventsSettings(
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap,
        outbox_poll_interval_seconds=0.5,
        scheduler_interval_seconds=0.5,
        **overrides,
    )


@asynccontextmanager
async def events_service(
    database_url: str, kafka_bootstrap: str, clock: Clock = utc_now, **settings: Any
) -> AsyncIterator[EventsApi]:
    app = create_app(events_settings(database_url, kafka_bootstrap, **settings), key_source=LocalKeys(), clock=clock)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://events") as client,
    ):
        yield EventsApi(client, app, kafka_bootstrap)


@pytest.fixture
async def events(database_url: str, kafka_bootstrap: str) -> AsyncIterator[EventsApi]:
    async with events_service(database_url, kafka_bootstrap) as api:
        yield api


async def eventually(condition: Callable[[], Awaitable[bool]], timeout: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.2)
