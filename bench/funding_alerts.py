"""The system benchmark's funding alerts: calls entered by staff through the gateway, timed until their alert comes
down a watched company admin's live inbox stream; and calls for the whole sector, timed to every watcher and until
every matched person's in-app alert and email are written."""

from __future__ import annotations

import asyncio
import json
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from bench.common import percentile, until_count
from bench.local_platform import LocalPlatform
from bench.machine import CpuMeter
from bench.seeded_district import PEOPLE_PER_COMPANY, SEED, WATCHED, District, log_in_all, probe_words, staff_headers

ALERT_WARMUP, ALERT_CALLS, SECTOR_CALLS = 3, 60, 3
ALERT_TIMEOUT_SECONDS = 60
TARGET_ALERT_P99_MS = 1000.0


class LiveInbox:
    """A person's in-app inbox as the web client reads it: the live stream (server-sent events) through the gateway.
    Each funding alert's arrival is stamped here, by call."""

    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client = client
        self.token = token
        self.opened = asyncio.Event()
        self._arrivals: dict[str, asyncio.Future[float]] = {}

    def arrival(self, call_id: str) -> asyncio.Future[float]:
        """When the alert for `call_id` came (perf_counter), whether it came before or after this is asked."""
        return self._arrivals.setdefault(call_id, asyncio.get_running_loop().create_future())

    async def read(self) -> None:
        async with self.client.stream(
            "GET",
            "/api/notifications/inbox/stream",
            timeout=httpx.Timeout(30, read=None),
            headers={"Authorization": f"Bearer {self.token}"},
        ) as stream:
            stream.raise_for_status()
            self.opened.set()
            async for line in stream.aiter_lines():
                if line.startswith("data:"):
                    message = json.loads(line.removeprefix("data:"))
                    if message["kind"] == "funding_match":
                        arrived = self.arrival(message["link"].rsplit("/", 1)[-1])
                        if not arrived.done():
                            arrived.set_result(time.perf_counter())


def funding_call(title: str, keywords: list[str], ateco_codes: list[str]) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "title_it": title,
        "summary": "Contributo a fondo perduto per le imprese della rete.",
        "programme": "Camera di Commercio di Lucca",
        "opens_at": (now - timedelta(days=1)).isoformat(),
        "deadlines": [(now + timedelta(days=60)).isoformat()],
        "budget_eur": 500_000,
        "keywords": keywords,
        "ateco_codes": ateco_codes,
    }


async def enter_call(client: httpx.AsyncClient, staff: dict[str, str], call: dict[str, Any]) -> tuple[str, float]:
    """The call's id and the moment (perf_counter) its POST was sent."""
    sent = time.perf_counter()
    answer = await client.post("/api/funding/calls", headers=staff, json=call)
    answer.raise_for_status()
    return str(answer.json()["id"]), sent


async def matched_companies(client: httpx.AsyncClient, staff: dict[str, str], call_id: str) -> int:
    answer = await client.get(f"/api/funding/calls/{call_id}/matches", headers=staff)
    answer.raise_for_status()
    return len(answer.json())


async def one_company_call(client: httpx.AsyncClient, staff: dict[str, str], inboxes: list[LiveInbox], n: int) -> float:
    """A call open to watched company n % WATCHED only; returns the ms from its POST to its alert on the stream."""
    company = n % WATCHED
    call_id, sent = await enter_call(
        client, staff, funding_call(f"Contributo mirato numero {n}", probe_words(company), [])
    )
    arrived = await asyncio.wait_for(inboxes[company].arrival(call_id), ALERT_TIMEOUT_SECONDS)
    assert await matched_companies(client, staff, call_id) == 1, "a measured call must match one company"
    return (arrived - sent) * 1000


async def sector_call(
    client: httpx.AsyncClient,
    staff: dict[str, str],
    inboxes: list[LiveInbox],
    notifications: asyncpg.Connection,
    n: int,
) -> dict[str, Any]:
    call_id, sent = await enter_call(
        client, staff, funding_call(f"Bando distrettuale per il settore calzaturiero numero {n}", [], ["15.20"])
    )
    watchers = sorted(
        await asyncio.wait_for(asyncio.gather(*(inbox.arrival(call_id) for inbox in inboxes)), ALERT_TIMEOUT_SECONDS)
    )
    alerts = await matched_companies(client, staff, call_id) * PEOPLE_PER_COMPANY
    of_this_call = f"FROM message WHERE kind = 'funding_match' AND link LIKE '%/{call_id}'"
    in_app = await until_count(notifications, f"SELECT count(*) {of_this_call} AND channel = 'in_app'", alerts)
    emails = await until_count(
        notifications, f"SELECT count(*) {of_this_call} AND channel = 'email' AND status = 'sent'", alerts
    )
    return {
        "people_alerted": alerts,
        "first_watcher_ms": round((watchers[0] - sent) * 1000),
        "last_watcher_ms": round((watchers[-1] - sent) * 1000),
        "all_in_app_written_s": round(in_app - sent, 1),
        "all_emails_sent_s": round(emails - sent, 1),
    }


def summary_ms(values: list[float]) -> dict[str, float]:
    return {"p50": round(percentile(values, 50)), "p99": round(percentile(values, 99)), "max": round(max(values))}


async def alerts(platform: LocalPlatform, client: httpx.AsyncClient, district: District) -> dict[str, Any]:
    staff = await staff_headers(platform)
    watchers = [district.admin_of(company) for company in range(WATCHED)]
    inboxes = [LiveInbox(client, token) for token in await log_in_all(platform, watchers)]
    readers = [asyncio.create_task(inbox.read()) for inbox in inboxes]
    notifications = await asyncpg.connect(platform.services["notifications"].database)
    pause = random.Random(SEED)
    try:
        await asyncio.wait_for(asyncio.gather(*(inbox.opened.wait() for inbox in inboxes)), 30)
        print(
            f"==> funding alerts: {ALERT_WARMUP} + {ALERT_CALLS} calls, each for one company, one at a time", flush=True
        )
        cpu = CpuMeter(platform.components())
        latencies = []
        for n in range(ALERT_WARMUP + ALERT_CALLS):
            latencies.append(await one_company_call(client, staff, inboxes, n))
            await asyncio.sleep(pause.uniform(0.2, 1.0))
        used = cpu.used()
        warmup, measured = latencies[:ALERT_WARMUP], latencies[ALERT_WARMUP:]
        sector = []
        for n in range(SECTOR_CALLS):
            print(f"==> funding alerts: a call for the whole sector ({n + 1} of {SECTOR_CALLS})", flush=True)
            await platform.settle()
            sector.append(await sector_call(client, staff, inboxes, notifications, n))
    finally:
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        await notifications.close()
    return {
        "one_company_calls": {
            "calls": ALERT_CALLS,
            "post_to_inbox_ms": summary_ms(measured),
            "target_p99_ms": TARGET_ALERT_P99_MS,
            "target_met": percentile(measured, 99) <= TARGET_ALERT_P99_MS,
            "warmup_ms": [round(value) for value in warmup],
            "cpu_seconds": used,
        },
        "sector_calls": sector,
    }
