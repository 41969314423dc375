"""Members write throughput with the transactional outbox, and the outbox's commit-to-Kafka latency.

One members process (uvicorn, one worker) on PostgreSQL and a real Kafka broker, all on this machine. The load
comes from wrk (C, so the load generator does not eat the server's CPU) over loopback: PATCH /companies/{id}
requests that each commit a change and its `members.company.updated` outbox row in one transaction, spread over
50 companies. A plain consumer reads the topic meanwhile.

Relay latency = Kafka record timestamp (set by the producer when the relay sends) - the event's `time`
(stamped when the row joins the transaction); consumer latency adds the broker and the consumer's fetch.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer

from bench.common import infrastructure, partita_iva, peak_rss_mb, percentile, run_wrk, write_results
from deploy.local.ports import free_port
from deploy.local.processes import start_service, wait_ready

COMPANIES = 50
DURATION_SECONDS = 20
# 8 connections keep one process just below saturation; 32 show what saturation does to latency.
CONCURRENCY_LEVELS = (8, 32)
ADMIN = ("bench-admin@example.com", "bench-admin-password")


async def prepare(client: httpx.AsyncClient) -> tuple[dict[str, str], list[str]]:
    token = (
        await client.post("/auth/token", data={"grant_type": "password", "username": ADMIN[0], "password": ADMIN[1]})
    ).json()["access_token"]
    staff = {"Authorization": f"Bearer {token}"}
    ids = []
    for n in range(1, COMPANIES + 1):
        response = await client.post(
            "/companies/applications",
            json={
                "legal_name": f"Calzaturificio Bench {n} S.r.l.",
                "partita_iva": partita_iva(n),
                "ateco_primary": "15.20.10",
                "employees": 20,
                "turnover_eur": 3_000_000,
                "applicant": {
                    "given_name": "Bench",
                    "family_name": str(n),
                    "email": f"bench{n}@example.com",
                    "password": "bench-password-123",
                },
            },
        )
        response.raise_for_status()
        ids.append(response.json()["id"])
        (await client.post(f"/companies/{ids[-1]}/approve", headers=staff)).raise_for_status()
    return staff, ids


WRK_SCRIPT = """
local ids = {%s}
local counter = 0
wrk.method = "PATCH"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "%s"
request = function()
  counter = counter + 1
  local body = string.format('{"description_en": "Handmade leather shoes, batch %%d"}', counter)
  return wrk.format(nil, "/companies/" .. ids[(counter %% #ids) + 1], nil, body)
end
"""


async def read_updates(
    bootstrap: str, expected: asyncio.Future[int], relay: list[float], consumed: list[float]
) -> None:
    consumer = AIOKafkaConsumer(
        "members.companies.v1", bootstrap_servers=bootstrap, group_id="bench", auto_offset_reset="latest"
    )
    await consumer.start()
    try:
        await consumer.seek_to_end()
        while not expected.done() or len(relay) < expected.result():
            batches = await consumer.getmany(timeout_ms=1000)
            now = time.time()
            for records in batches.values():
                for record in records:
                    event = json.loads(record.value)
                    if event["type"] != "members.company.updated":
                        continue
                    stamped = datetime.fromisoformat(event["time"]).timestamp()
                    relay.append(record.timestamp / 1000 - stamped)
                    consumed.append(now - stamped)
    finally:
        await consumer.stop()


async def measure(url: str, bootstrap: str, work: Path) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        staff, ids = await prepare(client)
    return [await measure_at(url, bootstrap, work, staff, ids, concurrency) for concurrency in CONCURRENCY_LEVELS]


async def measure_at(
    url: str, bootstrap: str, work: Path, staff: dict[str, str], ids: list[str], concurrency: int
) -> dict[str, Any]:
    print(f"==> {DURATION_SECONDS}s of writes, {concurrency} at a time, against one members process", flush=True)
    relay: list[float] = []
    consumed: list[float] = []
    expected: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    reader = asyncio.create_task(read_updates(bootstrap, expected, relay, consumed))
    await asyncio.sleep(2)  # the reader has joined and sits at the end of the topic
    script = WRK_SCRIPT % (", ".join(f'"{i}"' for i in ids), staff["Authorization"])
    wrk = await run_wrk(url, script, work, concurrency, DURATION_SECONDS)
    expected.set_result(wrk["requests"] - wrk["errors"])
    await asyncio.wait_for(reader, timeout=120)
    ms = 1000
    return {
        "concurrency": concurrency,
        "duration_s": round(wrk["seconds"], 1),
        "requests": wrk["requests"],
        "errors": wrk["errors"],
        "writes_per_second": round((wrk["requests"] - wrk["errors"]) / wrk["seconds"], 1),
        "request_ms": {"p50": round(wrk["p50_ms"], 1), "p99": round(wrk["p99_ms"], 1)},
        "relay_commit_to_kafka_ms": {
            "p50": round(percentile(relay, 50) * ms, 1),
            "p99": round(percentile(relay, 99) * ms, 1),
        },
        "commit_to_consumer_ms": {
            "p50": round(percentile(consumed, 50) * ms, 1),
            "p99": round(percentile(consumed, 99) * ms, 1),
        },
    }


def main() -> None:
    with infrastructure() as infra:
        env = {
            **os.environ,
            "MEMBERS_DATABASE_URL": infra.postgres.create_database("members"),
            "MEMBERS_KAFKA_BOOTSTRAP_SERVERS": infra.kafka.bootstrap_servers,
            "MEMBERS_FIRST_ADMIN_EMAIL": ADMIN[0],
            "MEMBERS_FIRST_ADMIN_PASSWORD": ADMIN[1],
            "MEMBERS_LOG_LEVEL": "WARNING",
        }
        port = free_port()
        server = start_service("services.members.app:create_app", port, env)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url, server)
            runs = asyncio.run(measure(url, infra.kafka.bootstrap_servers, infra.work))
            result = {"runs": runs, "members_peak_rss_mb": peak_rss_mb(server.pid), "machine": infra.machine()}
        finally:
            server.terminate()
            server.wait(timeout=30)
    write_results("members_writes", result)


if __name__ == "__main__":
    main()
