"""Nothing is lost when Kafka is down: the API keeps answering, and the relay catches up when Kafka is back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from deploy.local.kafka import KafkaBroker
from services.members.app import create_app
from services.members.settings import MembersSettings
from services.members.tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, PARTITE_IVA, MembersApi, application
from tests.support.clock import MovableClock
from tests.support.infrastructure import KafkaReader


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[KafkaBroker]:
    """A broker of this test's own, since the test stops it."""
    broker = KafkaBroker(tmp_path / "kafka")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
async def members_on_own_broker(database_url: str, own_broker: KafkaBroker) -> AsyncIterator[MembersApi]:
    settings = MembersSettings(
        database_url=database_url,
        kafka_bootstrap_servers=own_broker.bootstrap_servers,
        first_admin_email=ADMIN_EMAIL,
        first_admin_password=ADMIN_PASSWORD,
        outbox_poll_interval_seconds=0.5,
    )
    clock = MovableClock()
    app = create_app(settings, clock=clock)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://members") as client,
    ):
        yield MembersApi(client, settings, clock)


async def test_writes_made_while_kafka_is_down_are_published_when_it_returns(
    members_on_own_broker: MembersApi, own_broker: KafkaBroker
) -> None:
    members = members_on_own_broker
    reader = KafkaReader(own_broker.bootstrap_servers)
    before = await members.client.post("/companies/applications", json=application(PARTITE_IVA[0], "a@example.com"))
    await reader.read("members.companies.v1", lambda evs: len(evs) == 1)

    own_broker.stop()
    applied_while_down = []
    for index, partita_iva in enumerate(PARTITE_IVA[1:]):
        response = await members.client.post(
            "/companies/applications", json=application(partita_iva, f"down{index}@example.com")
        )
        assert response.status_code == 201, response.text
        applied_while_down.append(response.json()["id"])
    readiness = await members.client.get("/readyz")
    assert readiness.status_code == 503
    assert "kafka" in readiness.json()["missing"]

    await own_broker.start_async()
    expected = {before.json()["id"], *applied_while_down}
    events = await reader.read("members.companies.v1", lambda evs: {e["subject"] for e in evs} >= expected, timeout=60)
    assert {e["subject"] for e in events} == expected
    assert len({e["id"] for e in events}) == len(events)
    assert (await members.client.get("/readyz")).status_code == 200


async def test_two_replicas_on_one_database_publish_each_event_once_and_the_survivor_takes_over(
    postgres: Any, kafka_bootstrap: str
) -> None:
    """Both replicas run a relay; the advisory lock lets one publish at a time. (PostgreSQL only: SQLite is the
    embedded store of a single process.)"""
    database_url = postgres.new_database()
    async with (
        members_replica(database_url, kafka_bootstrap) as first,
        members_replica(database_url, kafka_bootstrap) as second,
    ):
        applied = []
        for index, partita_iva in enumerate(PARTITE_IVA[:4]):
            replica = (first, second)[index % 2]
            response = await replica.client.post(
                "/companies/applications", json=application(partita_iva, f"r{index}@example.com")
            )
            assert response.status_code == 201, response.text
            applied.append(response.json()["id"])
        await first.stop()
        late = await second.client.post("/companies/applications", json=application(PARTITE_IVA[4], "late@example.com"))
        applied.append(late.json()["id"])

        events = await KafkaReader(kafka_bootstrap).read(
            "members.companies.v1", lambda evs: {e["subject"] for e in evs} >= set(applied), timeout=30
        )
    mine = [e for e in events if e["subject"] in applied]
    assert sorted(e["subject"] for e in mine) == sorted(applied)  # each exactly once


class MembersReplica:
    def __init__(self, app: FastAPI, client: httpx.AsyncClient, lifespan: AbstractAsyncContextManager[object]) -> None:
        self.app, self.client, self._lifespan = app, client, lifespan
        self.stopped = False

    async def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            await self._lifespan.__aexit__(None, None, None)


@asynccontextmanager
async def members_replica(database_url: str, kafka_bootstrap: str) -> AsyncIterator[MembersReplica]:
    settings = MembersSettings(
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap,
        first_admin_email=ADMIN_EMAIL,
        first_admin_password=ADMIN_PASSWORD,
        outbox_poll_interval_seconds=0.3,
    )
    app = create_app(settings)
    lifespan = app.router.lifespan_context(app)
    await lifespan.__aenter__()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://members") as client:
        replica = MembersReplica(app, client, lifespan)
        try:
            yield replica
        finally:
            await replica.stop()
