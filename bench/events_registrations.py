"""Registrations per second on one hot event, and the time to confirm a seat.

One events process (uvicorn, one worker) on PostgreSQL and a real Kafka broker, all on this machine. wrk
registers guests (each with an address of their own) for one public event: every request takes the event's
lock, counts the seats, writes the registration and its `events.registration.confirmed` or `.waitlisted`
outbox row in one transaction. The answer carries the decision, so the request's latency is the time to confirm.
Afterwards the benchmark checks the database never gave more seats than the capacity.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.common import infrastructure, peak_rss_mb, run_wrk, write_results
from deploy.local.ports import free_port
from deploy.local.processes import start_service, wait_ready
from shared.membership import Role
from tests.support.tokens import bearer, serving_jwks

DURATION_SECONDS = 20
CONCURRENCY_LEVELS = (4, 8, 32)
# Half the registrations of a run get a seat, the rest the waitlist: both paths are measured.
CAPACITY = 3000

WRK_SCRIPT = """
local counter = 0
local prefix = "%s"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  local body = string.format(
    '{"guest": {"name": "Buyer %%d", "company": "Schuhhaus", "email": "%%s-%%d@example.com"}}',
    counter, prefix, counter)
  return wrk.format(nil, "/events/%s/registrations", nil, body)
end
"""


async def hot_event(client: httpx.AsyncClient, staff: dict[str, str]) -> str:
    created = await client.post(
        "/events",
        headers=staff,
        json={
            "title_it": "Expo Riva Schuh — visita collettiva",
            "event_type": "trade_fair",
            "audience": "public",
            "starts_at": "2027-06-12T09:00:00",
            "ends_at": "2027-06-15T18:00:00",
            "capacity": CAPACITY,
        },
    )
    created.raise_for_status()
    event_id: str = created.json()["id"]
    (await client.post(f"/events/{event_id}/publish", headers=staff)).raise_for_status()
    return event_id


async def measure(url: str, work: Path) -> list[dict[str, Any]]:
    staff = bearer(str(uuid.uuid4()), role=Role.NETWORK_ADMIN)
    runs = []
    for concurrency in CONCURRENCY_LEVELS:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            event_id = await hot_event(client, staff)
        print(f"==> {DURATION_SECONDS}s of registrations, {concurrency} at a time, for one event", flush=True)
        wrk = await run_wrk(url, WRK_SCRIPT % (uuid.uuid4().hex[:8], event_id), work, concurrency, DURATION_SECONDS)
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            event = (await client.get(f"/events/{event_id}")).json()
        seats_taken = CAPACITY - event["seats_left"]
        runs.append(
            {
                "concurrency": concurrency,
                "duration_s": round(wrk["seconds"], 1),
                "requests": wrk["requests"],
                "errors": wrk["errors"],
                "registrations_per_second": round((wrk["requests"] - wrk["errors"]) / wrk["seconds"], 1),
                "time_to_confirm_ms": {"p50": round(wrk["p50_ms"], 1), "p99": round(wrk["p99_ms"], 1)},
                "seats_taken": seats_taken,
                "waitlisted": event["waiting"],
                "capacity": CAPACITY,
                "overbooked": seats_taken > CAPACITY,
            }
        )
    return runs


def main() -> None:
    with infrastructure() as infra, serving_jwks() as jwks_url:
        env = {
            **os.environ,
            "EVENTS_DATABASE_URL": infra.postgres.create_database("events"),
            "EVENTS_KAFKA_BOOTSTRAP_SERVERS": infra.kafka.bootstrap_servers,
            "EVENTS_JWKS_URL": jwks_url,
            "EVENTS_LOG_LEVEL": "WARNING",
        }
        port = free_port()
        server = start_service("services.events.app:create_app", port, env)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url, server)
            runs = asyncio.run(measure(url, infra.work))
            result = {"runs": runs, "events_peak_rss_mb": peak_rss_mb(server.pid), "machine": infra.machine()}
        finally:
            server.terminate()
            server.wait(timeout=30)
    write_results("events_registrations", result)


if __name__ == "__main__":
    main()
