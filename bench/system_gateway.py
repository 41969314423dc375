"""The platform as a whole, through its gateway: directory searches and event registrations per second with their
p50/p99, the time from a funding call being entered to its alert in a person's inbox, and each process's memory.

Everything runs on this machine (bench/local_platform.py): Kafka, PostgreSQL with a database per service, the four
services in a process each, nginx in front, wrk and this process. Clients use the gateway only — seeding, searching,
registering, entering calls and reading the inbox all go through /api/<service>/ — except logins, which go to the
members service directly: the gateway lets one client address log in 5 times a minute, and 600 people log in here.

Rate limits. The gateway limits each client address to 50 requests a second (burst 200), and all of this load comes
from one address, 127.0.0.1: through the gateway as deployed, a benchmark measures the limit. So the directory is
searched once through a second gateway with the deployed limit (what one client gets), and every figure is taken
through a gateway whose limit is raised (FILIERA_API_RATE / FILIERA_API_BURST) far above what the platform serves:
nginx still runs the limiter on every request, but what is measured is what the platform sustains for many
clients, each within its own limit.

Seeding (not timed): 150 companies apply and are approved, each with 4 people (the applicant, who is the company's
admin, and 3 colleagues): 600 people, and a directory of 150. The first 10 companies are watched: their admins hold
the inbox's live stream open. Before each measurement the platform is let settle (every outbox published, every
consumer group caught up, no email waiting), so no figure carries an earlier step's backlog.

1. Directory: wrk for 15 s at 8, 32 and 64 connections, cycling through six searches (everything, free text,
   capability, ATECO prefix, export market, page 2 in English). The public directory needs no token.
2. Registration: for each connection count a new members-only event with seats for everyone, published (its
   announcement reaches all 600 inboxes, and is let settle first); the 600 people log in, and wrk registers them,
   each request with the next person's token, until 600 minus the connection count have been answered (each person
   registers once: wrk cannot go round again). Timed by wrk; the answer carries the seat, so its latency is the time
   to confirm.
3. Funding alert: 3 unmeasured then 60 measured calls entered by staff (POST /api/funding/calls), one at a time,
   each open to one watched company only (two keywords that only that company has among its interests), timed from
   sending the POST until the alert comes down that company admin's live stream (GET /api/notifications/inbox/stream
   through the gateway, server-sent events). Between calls a random pause of 0.2-1 s, so that calls do not keep
   step with the stream's 0.5 s polling. Then 3 calls open to the whole footwear sector (ATECO 15.20), timed the
   same way to each of the 10 watchers and, in notifications' database, until every matched person's in-app alert
   and email are written and sent.
4. Memory: each component's processes read every second for the whole run (bench/machine.py): the largest peak
   RSS of any of its processes, and the peak of their summed PSS.

Every timed step also reports the CPU seconds each component used, and what the rest of the machine used meanwhile
("other_processes": someone's tests running alongside).

The district and its seeding are bench/seeded_district.py; the funding alerts (3.) bench/funding_alerts.py.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from typing import Any

import httpx

from bench.common import code_version, load_average, run_wrk, write_results
from bench.funding_alerts import alerts
from bench.local_platform import WEB_ORIGIN, LocalPlatform, local_platform
from bench.machine import CpuMeter, MemoryPeaks, ram_gb
from bench.seeded_district import COMPANIES, PEOPLE, District, log_in_all, seed, staff_headers
from deploy.local.gateway import Gateway
from deploy.local.ports import free_port

# Far above what the platform serves from one address, so that the platform, not the limiter, is measured.
RAISED_API_RATE, RAISED_API_BURST = "100000r/s", 100_000
DIRECTORY_CONCURRENCY = (8, 32, 64)
DIRECTORY_SECONDS = 15
AS_DEPLOYED_CONCURRENCY, AS_DEPLOYED_SECONDS = 32, 30
REGISTRATION_CONCURRENCY = (8, 32, 64)

# Slow answers are measured, not dropped: wrk's default 2 s timeout would leave them out of the percentiles.
WRK_TIMEOUT_SECONDS = 60


def per_second(wrk: dict[str, Any]) -> float:
    """Answers with a 2xx (or 3xx) status per second."""
    answered: float = (wrk["requests"] - wrk["http_errors"]) / wrk["seconds"]
    return round(answered, 1)


def wrk_figures(wrk: dict[str, Any]) -> dict[str, Any]:
    return {
        "duration_s": round(wrk["seconds"], 1),
        "requests": wrk["requests"],
        "http_errors": wrk["http_errors"],
        "other_errors": wrk["errors"] - wrk["http_errors"],
        "latency_ms": {"p50": round(wrk["p50_ms"], 1), "p99": round(wrk["p99_ms"], 1)},
    }


DIRECTORY_SCRIPT = """
local paths = {"/api/members/directory", "/api/members/directory?q=suole", "/api/members/directory?capability=uppers",
  "/api/members/directory?ateco=15.20", "/api/members/directory?market=JP",
  "/api/members/directory?q=calzature&lang=en&page=2"}
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end
"""


async def directory_run(platform: LocalPlatform, url: str, concurrency: int, seconds: int) -> dict[str, Any]:
    cpu = CpuMeter(platform.components())
    wrk = await run_wrk(url, DIRECTORY_SCRIPT, platform.infra.work, concurrency, seconds, timeout_s=WRK_TIMEOUT_SECONDS)
    return {
        "concurrency": concurrency,
        "searches_per_second": per_second(wrk),
        **wrk_figures(wrk),
        "cpu_seconds": cpu.used(),
    }


async def directory(platform: LocalPlatform) -> dict[str, Any]:
    runs = []
    for concurrency in DIRECTORY_CONCURRENCY:
        print(f"==> directory: {DIRECTORY_SECONDS}s of searches, {concurrency} at a time", flush=True)
        runs.append(await directory_run(platform, platform.gateway.url, concurrency, DIRECTORY_SECONDS))
    print(f"==> directory through a gateway with the deployed limit, {AS_DEPLOYED_CONCURRENCY} at a time", flush=True)
    deployed = Gateway(platform.infra.work / "gateway-as-deployed", free_port(), platform.upstreams(), WEB_ORIGIN)
    deployed.start()
    try:
        as_deployed = await directory_run(platform, deployed.url, AS_DEPLOYED_CONCURRENCY, AS_DEPLOYED_SECONDS)
    finally:
        deployed.stop()
    as_deployed["refused_per_second"] = round(as_deployed["http_errors"] / as_deployed["duration_s"], 1)
    del as_deployed["cpu_seconds"]  # that gateway's nginx is not among the components measured
    return {"runs": runs, "one_client_as_deployed": as_deployed}


REGISTRATION_SCRIPT = """
local tokens = {%s}
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("POST", "/api/events/events/%s/registrations",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. tokens[counter]}, "{}")
end
"""


async def members_event(client: httpx.AsyncClient, staff: dict[str, str], n: int) -> str:
    created = await client.post(
        "/api/events/events",
        headers=staff,
        json={
            "title_it": f"Assemblea della rete {n}: il distretto e la transizione 5.0",
            "event_type": "networking",
            "audience": "members",
            "starts_at": "2027-03-12T17:00:00",
            "ends_at": "2027-03-12T20:00:00",
            "capacity": PEOPLE,
        },
    )
    created.raise_for_status()
    event_id = str(created.json()["id"])
    (await client.post(f"/api/events/events/{event_id}/publish", headers=staff)).raise_for_status()
    return event_id


async def registrations(platform: LocalPlatform, client: httpx.AsyncClient, district: District) -> list[dict[str, Any]]:
    staff = await staff_headers(platform)
    event_ids = [await members_event(client, staff, n) for n, _ in enumerate(REGISTRATION_CONCURRENCY)]
    print(f"==> registrations: {len(event_ids)} events announced to {PEOPLE} people; settling", flush=True)
    await platform.settle()
    print(f"==> registrations: {PEOPLE} people log in (members directly)", flush=True)
    tokens = await log_in_all(platform, district.emails)
    quoted = ", ".join(f'"{token}"' for token in tokens)
    runs = []
    for concurrency, event_id in zip(REGISTRATION_CONCURRENCY, event_ids, strict=True):
        answers = PEOPLE - concurrency  # requests sent never exceed answers + connections: no token is used twice
        print(f"==> registrations: {answers} people registering, {concurrency} at a time", flush=True)
        cpu = CpuMeter(platform.components())
        wrk = await run_wrk(
            platform.gateway.url,
            REGISTRATION_SCRIPT % (quoted, event_id),
            platform.infra.work,
            concurrency,
            seconds=600,
            stop_after=answers,
            timeout_s=WRK_TIMEOUT_SECONDS,
        )
        used = cpu.used()
        event = (await client.get(f"/api/events/events/{event_id}", headers=staff)).json()
        # Seats can exceed the answers counted: requests in flight when wrk stopped were still served.
        runs.append(
            {
                "concurrency": concurrency,
                "registrations_per_second": per_second(wrk),
                **wrk_figures(wrk),
                "seats_taken": PEOPLE - event["seats_left"],
                "waitlisted": event["waiting"],
                "cpu_seconds": used,
                "settled_after_s": await platform.settle(),
            }
        )
    return runs


async def measure(platform: LocalPlatform) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=platform.gateway.url, timeout=60) as client:
        started = time.perf_counter()
        district = await seed(platform, client)
        seeded = {
            "companies": COMPANIES,
            "people": PEOPLE,
            "seconds": round(time.perf_counter() - started),
            "settled_after_s": await platform.settle(),
        }
        searched = await directory(platform)
        registered = await registrations(platform, client, district)
        alerted = await alerts(platform, client, district)
    return {"seeding": seeded, "directory_search": searched, "event_registration": registered, "funding_alert": alerted}


def main() -> None:
    # A benchmark stopped with SIGTERM still stops everything it started (the with-blocks' exits run).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    load_before, code = load_average(), code_version()
    with local_platform(RAISED_API_RATE, RAISED_API_BURST) as platform, MemoryPeaks(platform.components()) as memory:
        figures = asyncio.run(measure(platform))
        where = f"{platform.infra.machine()}, {ram_gb()} GB RAM"
    write_results(
        "system_gateway",
        {
            **figures,
            "memory_mb": memory.report(),
            "gateway_limit_while_measuring": {"rate": RAISED_API_RATE, "burst": RAISED_API_BURST},
            "load_average_before": load_before,
            "load_average_after": load_average(),
            "code": code,
            "machine": where,
        },
    )


if __name__ == "__main__":
    main()
