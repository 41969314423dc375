"""A funding service per test, on a real database (PostgreSQL and SQLite) and the real Kafka broker.

The outside sources are local HTTP servers answering with the responses recorded from the real ones
(`fixtures/`); tokens are signed here (the members service is not running), and the members service's facts
are published to its topics exactly as it publishes them.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select

from deploy.local.feeds import RecordedFeeds, feed_settings, serving
from services.funding.app import create_app
from services.funding.models import CallMatch, MemberCompany, SourceState
from services.funding.settings import FundingSettings
from shared import topics
from shared.clock import Clock, utc_now
from shared.membership import MembershipStatus, Role
from tests.support.facts import publish_fact, until_stored
from tests.support.infrastructure import start_consumer_groups_at_the_end
from tests.support.tokens import LocalKeys, bearer

FIXTURES = Path(__file__).parent / "fixtures"
STAFF = bearer(str(uuid.uuid4()), role=Role.NETWORK_ADMIN)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass
class StoppedClock:
    """The service's time, standing where the test sets it (an absolute date), instead of waited for."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class FakeSources(RecordedFeeds):
    """The recorded responses of fixtures/, served; tests change them between runs, or take both sources down."""

    eu_pages: list[bytes] = field(default_factory=lambda: [fixture("search-open-sme-calls.json")])
    incentivi: tuple[str, bytes] = ("application/json", fixture("open-data-sample.json"))
    down: bool = False

    def respond(self, method: str, path: str, body: bytes) -> tuple[int, str, bytes]:
        if self.down:
            return 503, "text/plain", b"Service Unavailable"
        return super().respond(method, path, body)


def company_profile(
    company_id: str, status: MembershipStatus = MembershipStatus.ACTIVE, **overrides: Any
) -> dict[str, Any]:
    """A company as members.companies.v1 carries it."""
    profile: dict[str, Any] = {
        "id": company_id,
        "legal_name": "Calzaturificio Lucchese S.r.l.",
        "partita_iva": "01234567897",
        "status": status,
        "size_class": "small",
        "employees": 25,
        "ateco_primary": "15.20.10",
        "ateco_secondary": [],
        "comune": "Capannori",
        "frazione": "Segromigno in Monte",
        "province": "LU",
        "region": "Toscana",
        "website": None,
        "capabilities": ["finished_shoes"],
        "certifications": [],
        "export_markets": ["DE"],
        "languages": ["it"],
        "interests": ["digitalisation", "sustainability"],
        "public_listing": True,
    }
    profile.update(overrides)
    return profile


class FundingApi:
    def __init__(self, client: httpx.AsyncClient, app: Any, kafka_bootstrap: str, sources: FakeSources) -> None:
        self.client = client
        self.app = app
        self.kafka_bootstrap = kafka_bootstrap
        self.sources = sources

    async def run(self, source: str) -> httpx.Response:
        return await self.client.post(f"/sources/{source}/runs", headers=STAFF)

    async def company(self, status: MembershipStatus = MembershipStatus.ACTIVE, **overrides: Any) -> str:
        company_id = str(uuid.uuid4())
        await self.tell_company(company_id, status, **overrides)
        return company_id

    async def tell_company(
        self, company_id: str, status: MembershipStatus = MembershipStatus.ACTIVE, **overrides: Any
    ) -> dict[str, Any]:
        """Publish the company as members would, and wait until this service holds that version of it."""
        profile = company_profile(company_id, status, **overrides)
        verb = {MembershipStatus.ACTIVE: "approved"}.get(status, status)
        await publish_fact(
            self.kafka_bootstrap,
            "members.companies.v1",
            f"members.company.{verb}",
            company_id,
            {"company_id": company_id, "company": profile},
        )

        async def applied(session: Any) -> bool:
            known = await session.get(MemberCompany, company_id)
            return (
                known is not None
                and known.status == status
                and known.ateco_codes == [profile["ateco_primary"], *profile["ateco_secondary"]]
                and known.size_class == profile["size_class"]
            )

        await until_stored(self.app.state.runtime.sessions, applied)
        return profile

    async def matches_stored(self, company_id: str) -> list[CallMatch]:
        async with self.app.state.runtime.sessions() as session:
            return list((await session.exec(select(CallMatch).where(CallMatch.company_id == company_id))).all())

    async def create_call(self, **overrides: Any) -> dict[str, Any]:
        response = await self.client.post("/calls", headers=STAFF, json=call_body(**overrides))
        assert response.status_code == 201, response.text
        call: dict[str, Any] = response.json()
        return call


def call_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title_it": "Voucher digitalizzazione PMI calzaturiere toscane",
        "title_en": "Digitalisation vouchers for Tuscan footwear SMEs",
        "summary": "Contributi a fondo perduto per la digitalizzazione e la sostenibilità dei processi produttivi.",
        "programme": "Regione Toscana — FESR 2021-2027",
        "deadlines": ["2027-03-31T17:00:00+02:00"],
        "budget_eur": 2_000_000,
        "grant_min_eur": 5_000,
        "grant_max_eur": 50_000,
        "sizes": ["micro", "small", "medium"],
        "regions": ["Toscana"],
        "ateco_codes": ["15.20"],
        "keywords": ["digitalisation"],
        "tags": ["voucher"],
        "url": "https://www.regione.toscana.it/bandi",
    }
    body.update(overrides)
    return body


@pytest.fixture
def fake_sources() -> Iterator[tuple[FakeSources, str]]:
    sources = FakeSources()
    with serving(sources.respond) as url:
        yield sources, url


def funding_settings(database_url: str, kafka_bootstrap: str, sources_url: str, **overrides: Any) -> FundingSettings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "kafka_bootstrap_servers": kafka_bootstrap,
        "outbox_poll_interval_seconds": 0.5,
        "scheduler_interval_seconds": 3600,
        **feed_settings(sources_url),
        # Polled by the tests through POST /sources/{source}/runs, not by the timer.
        "eu_poll_minutes": 600,
        "incentivi_poll_minutes": 600,
    }
    return FundingSettings(**{**values, **overrides})


@asynccontextmanager
async def funding_service(
    database_url: str,
    kafka_bootstrap: str,
    sources: FakeSources,
    sources_url: str,
    clock: Clock = utc_now,
    **settings: Any,
) -> AsyncIterator[FundingApi]:
    """The service once ready: connected to Kafka, and every feed it is given read once (it reads them at start)."""
    config = funding_settings(database_url, kafka_bootstrap, sources_url, **settings)
    app = create_app(config, key_source=LocalKeys(), clock=clock)
    async with app.router.lifespan_context(app):
        await until_stored(app.state.runtime.sessions, lambda session: _every_feed_read(session, app))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://funding") as client:
            yield FundingApi(client, app, kafka_bootstrap, sources)


async def _every_feed_read(session: Any, app: Any) -> bool:
    if not app.state.runtime.kafka.connected:
        return False
    states = {state.source: state for state in (await session.exec(select(SourceState))).all()}
    return all(feed.source in states and states[feed.source].last_attempt_at for feed in app.state.feeds)


@pytest.fixture(autouse=True)
def _consumers_start_after_other_suites_facts(request: pytest.FixtureRequest) -> None:
    """For the tests on the real broker only (asked for here, not declared, so the unit tests stay off it)."""
    if "kafka_bootstrap" in request.fixturenames:
        request.getfixturevalue("_consumer_groups_at_the_topics_end")


@pytest.fixture(scope="session")
async def _consumer_groups_at_the_topics_end(kafka_bootstrap: str) -> None:
    # Else the first test here matches its calls against the companies other suites left on the broker.
    await start_consumer_groups_at_the_end(
        kafka_bootstrap, "funding", [topics.MEMBERS_COMPANIES, topics.MEMBERS_PEOPLE]
    )


@pytest.fixture
async def funding(
    database_url: str, kafka_bootstrap: str, fake_sources: tuple[FakeSources, str]
) -> AsyncIterator[FundingApi]:
    sources, url = fake_sources
    async with funding_service(database_url, kafka_bootstrap, sources, url) as api:
        yield api
