"""Overdue annual fees are announced on members.fees.v1 as `members.fee.overdue`, once per fee, ever."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from typing import Any

import httpx
import jsonschema

from services.members import commands
from services.members.app import create_app
from services.members.settings import MembersSettings
from services.members.tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, MembersApi
from shared.clock import rome_date, utc_now
from shared.runtime import ServiceRuntime
from tests.support.clock import MovableClock
from tests.support.infrastructure import KafkaReader

FEES = "members.fees.v1"
OVERDUE = "members.fee.overdue"
TODAY = rome_date(utc_now())  # the service's day, as its overdue-fees job reads it


@asynccontextmanager
async def members_service(
    database_url: str, kafka_bootstrap: str, scheduler_interval_seconds: float, clock: MovableClock | None = None
) -> AsyncIterator[tuple[MembersApi, ServiceRuntime]]:
    """The members service as the `members` fixture runs it, with the overdue-fees job every so often (and on
    `clock`, if given); the runtime is there for calling commands directly. Starting it twice on one database is
    a restart."""
    settings = MembersSettings(
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap,
        first_admin_email=ADMIN_EMAIL,
        first_admin_password=ADMIN_PASSWORD,
        outbox_poll_interval_seconds=0.5,
        scheduler_interval_seconds=scheduler_interval_seconds,
    )
    clock = clock or MovableClock()  # left where it is, the real time
    app = create_app(settings, clock=clock)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://members") as client,
    ):
        yield MembersApi(client, settings, clock), app.state.runtime


async def assess(
    members: MembersApi, company_id: str, year: int, due_date: date, staff: dict[str, str] | None = None
) -> dict[str, Any]:
    response = await members.client.post(
        f"/companies/{company_id}/fees",
        headers=staff or await members.staff(),
        json={"year": year, "amount_cents": 60_000, "due_date": str(due_date)},
    )
    assert response.status_code == 201, response.text
    fee: dict[str, Any] = response.json()
    return fee


async def pay(members: MembersApi, fee_id: str, cents: int) -> None:
    response = await members.client.post(
        f"/fees/{fee_id}/payments", headers=await members.staff(), json={"amount_cents": cents, "paid_on": str(TODAY)}
    )
    assert response.status_code == 200, response.text


def overdue_years(events: list[dict[str, Any]], company_id: str) -> list[int]:
    return [e["data"]["year"] for e in events if e["subject"] == company_id and e["type"] == OVERDUE]


async def test_an_unpaid_fee_past_its_due_date_is_announced_once(
    database_url: str, kafka_bootstrap: str, kafka_reader: KafkaReader
) -> None:
    # Every fee here falls due after today, so the wired job (run at start-up, whenever that lands) finds none
    # overdue; the command is asked about days to come instead.
    day = TODAY + timedelta(days=30)
    async with members_service(database_url, kafka_bootstrap, scheduler_interval_seconds=3600) as (members, runtime):
        company, _ = await members.active_company("owner@example.com")
        paid = await assess(members, company["id"], 2024, day - timedelta(days=20))
        await pay(members, paid["id"], 60_000)
        partly_paid = await assess(members, company["id"], 2025, day - timedelta(days=10))
        await pay(members, partly_paid["id"], 20_000)
        due_that_day = await assess(members, company["id"], 2026, day)
        not_yet_due = await assess(members, company["id"], 2027, day + timedelta(days=60))
        suspended, _ = await members.active_company("suspended@example.com")
        await assess(members, suspended["id"], 2025, day - timedelta(days=10))
        response = await members.client.post(
            f"/companies/{suspended['id']}/suspend", headers=await members.staff(), json={"reason": "Statuto art. 7"}
        )
        assert response.status_code == 200, response.text

        announced = []
        for _ in range(2):
            async with runtime.unit_of_work() as uow:
                announced.append(await commands.announce_overdue_fees(uow, day))
        assert announced == [1, 0]
        # Later on the 2026 and 2027 fees are overdue too, and only they are announced.
        async with runtime.unit_of_work() as uow:
            assert await commands.announce_overdue_fees(uow, day + timedelta(days=61)) == 2

        # The last announcements were committed after both first runs, on the same key: once they are read, a
        # second announcement of the 2025 fee would have been read too.
        events = await kafka_reader.read(FEES, lambda evs: len(overdue_years(evs, company["id"])) >= 3)
        assert overdue_years(events, company["id"]) == [2025, 2026, 2027]  # each run in order of due date
        assert overdue_years(events, suspended["id"]) == []
        first = next(e for e in events if e["subject"] == company["id"] and e["type"] == OVERDUE)
        assert first["_key"] == company["id"]
        assert first["data"] == {
            "fee_id": partly_paid["id"],
            "company_id": company["id"],
            "year": 2025,
            "amount_cents": 60_000,
            "paid_cents": 20_000,
            "due_date": str(day - timedelta(days=10)),
        }
        jsonschema.validate(first["data"], (await members.client.get(first["dataschema"])).json())
        later = {
            e["data"]["year"]: e["data"]["fee_id"]
            for e in events
            if e["subject"] == company["id"] and e["type"] == OVERDUE and e["data"]["year"] != 2025
        }
        assert later == {2026: due_that_day["id"], 2027: not_yet_due["id"]}


async def test_the_periodic_job_announces_overdue_fees_once_across_restarts(
    database_url: str, kafka_bootstrap: str, kafka_reader: KafkaReader
) -> None:
    interval, clock = 0.5, MovableClock()
    async with members_service(database_url, kafka_bootstrap, interval, clock) as (members, _):
        company, _ = await members.active_company("owner@example.com")
        await assess(members, company["id"], 2025, TODAY - timedelta(days=10))
        await assess(members, company["id"], 2026, TODAY + timedelta(days=60))
        events = await kafka_reader.read(FEES, lambda evs: overdue_years(evs, company["id"]) != [])
        assert overdue_years(events, company["id"]) == [2025]
        # Two months on, the 2026 fee is overdue too: the marker. A run that announced 2025 again would have
        # sent it before (earlier runs, or earlier in that run's order of due dates), on the same key. Tokens
        # the service signs from then on start in two months, which verifiers (on the real clock) refuse:
        # staff log in before.
        staff = await members.staff()
        clock.advance(timedelta(days=61))
        events = await kafka_reader.read(FEES, lambda evs: 2026 in overdue_years(evs, company["id"]))
        assert overdue_years(events, company["id"]) == [2025, 2026]

    async with members_service(database_url, kafka_bootstrap, interval, clock) as (members, _):
        # After the restart the job has already run at start-up; a fee assessed now, already overdue, is the
        # marker: it is announced after anything a repeated run could have sent again.
        await assess(members, company["id"], 2024, TODAY - timedelta(days=400), staff)
        events = await kafka_reader.read(FEES, lambda evs: 2024 in overdue_years(evs, company["id"]))
        assert overdue_years(events, company["id"]) == [2025, 2026, 2024]
