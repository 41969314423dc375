"""Notifications: one funding call matched to 1,000 companies of 3 people each, written to all 3,000 of them in the
inbox and by email; and signed webhook deliveries per second to a partner's receiver.

The service runs as the platform runs it: its own uvicorn process on PostgreSQL (a fresh database), against a
real Kafka broker, with its default settings (email and webhook senders looking for due work every second, 4
SMTP connections, 16 webhook deliveries in flight). In this process: an SMTP server (aiosmtpd) that counts what
it accepts and keeps nothing, an HTTP receiver for the webhooks, a JWKS for the partner's token, and one Kafka
producer publishing the other services' facts, written as a partner would (bench/partner_facts.py), to their
real topics.

Fan-out. Seeding first: 1,000 `members.company.approved` and 3,000 `members.person.joined` (2 Italian and 1
English speaker per company), waited for in the service's own tables; each join sends a welcome (in-app and
email), and those are waited for too, until the mail server has accepted all 3,000: the welcomes are not in the
figures. Then 1,000 `funding.match.found` (one call, 1,000 companies) as fast as one producer sends them. Timed
from the first one handed to the producer: until the service's database holds 3,000 in-app messages of kind
`funding_match` (polled every 100 ms), and until the SMTP server has accepted 3,000 more emails (its own clock;
afterwards the database must say those 3,000 are the `funding_match` emails, sent).

Webhooks. A second service process on a second fresh database (so an announced event has no members to write to
and only the webhooks are measured; the first service's 3,000 people would each get an `event_announced` message
per fact). Run A: one endpoint subscribed to `events.event.published`, 2,000 `events.event.published` facts —
consumer and sender together. Run B: 10 endpoints, 200 facts — 2,000 deliveries from a tenth of the facts, so
mostly the sender. Timed from the first fact until the database marks the 2,000th delivery succeeded.

Each timed part also reports the CPU seconds the service, PostgreSQL, Kafka, this process and everything else on
the machine used meanwhile: "other_processes" above a few seconds means someone's tests disturbed the run.

Diagnostics (figures printed, not written): `--profile` samples the service with py-spy during the fan-out and
webhooks run B and prints where its time went; `--in-app-only` starts the service with its email and webhook
senders looking for work once an hour instead of every second, so the consumer's own pace shows (the fan-out's
in-app part only).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

from bench.common import (
    CountingMailbox,
    Infrastructure,
    code_version,
    infrastructure,
    load_average,
    peak_rss_mb,
    until_count,
    write_results,
)
from bench.notifications_service import (
    create_topics,
    message_count_sql,
    publish,
    service_cpu,
    start_notifications,
    stop,
)
from bench.partner_facts import company_approved, event_published, funding_call, match_found, person_joined, records
from bench.service_profile import print_profile, start_profiler
from bench.webhook_receiver import Receiver, webhook_receiver
from deploy.local.mailcatcher import smtp_server
from services.notifications.settings import NotificationsSettings
from tests.support.tokens import partner_bearer, serving_jwks

COMPANIES = 1_000
PEOPLE_PER_COMPANY = 3
PEOPLE = COMPANIES * PEOPLE_PER_COMPANY
TARGET_IN_APP_SECONDS = 10.0
WEBHOOK_DELIVERIES = 2_000
WEBHOOK_ENDPOINTS_B = 10
PARTNER = partner_bearer("bench", "webhooks:manage")


async def seed(
    producer: AIOKafkaProducer, db: asyncpg.Connection, mailbox: CountingMailbox, emails: bool
) -> dict[str, Any]:
    companies = [company_approved(n) for n in range(COMPANIES)]
    people = [
        person_joined(company.subject, n, PEOPLE_PER_COMPANY)
        for n, company in enumerate(company for company in companies for _ in range(PEOPLE_PER_COMPANY))
    ]
    started = await publish(producer, records(companies))
    await until_count(db, "SELECT count(*) FROM contact_company", COMPANIES)
    companies_s = time.perf_counter() - started
    print(f"    {COMPANIES} companies stored in {companies_s:.1f}s", flush=True)
    started = await publish(producer, records(people))
    people_at = await until_count(db, "SELECT count(*) FROM contact_person", PEOPLE)
    welcomes_at = await until_count(db, message_count_sql("welcome", "in_app"), PEOPLE)
    if not emails:
        return {"people_stored_s": round(people_at - started, 1)}
    emails_at = await mailbox.until(PEOPLE)
    await until_count(db, message_count_sql("welcome", "email"), PEOPLE)
    print(
        f"    {PEOPLE} people stored in {people_at - started:.1f}s, their welcomes in the inbox in "
        f"{welcomes_at - started:.1f}s, by email in {emails_at - started:.1f}s",
        flush=True,
    )
    return {
        "companies_stored_s": round(companies_s, 1),
        "people_stored_s": round(people_at - started, 1),
        "welcome_in_app_s": round(welcomes_at - started, 1),
        "welcome_emails_accepted_s": round(emails_at - started, 1),
    }


async def fan_out(
    infra: Infrastructure,
    server: subprocess.Popen[bytes],
    database: str,
    mailbox: CountingMailbox,
    profile: Path | None,
    emails: bool = True,
) -> dict[str, Any]:
    db = await asyncpg.connect(database)
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka.bootstrap_servers)
    await producer.start()
    try:
        print(f"==> seeding {COMPANIES:,} companies and {PEOPLE:,} people (and waiting for their welcomes)", flush=True)
        seeded = await seed(producer, db, mailbox, emails)
        await asyncio.sleep(2)  # nothing else in flight: the welcomes are all sent
        before = mailbox.accepted
        assert before == (PEOPLE if emails else 0), f"{before} emails accepted before the fan-out: not the welcomes"
        call = funding_call()
        companies = [row["id"] for row in await db.fetch("SELECT id FROM contact_company")]
        facts = records(match_found(call, company_id) for company_id in companies)
        print(f"==> {COMPANIES:,} funding.match.found for one call: {PEOPLE:,} in-app messages and emails", flush=True)
        profiler = start_profiler(server.pid, profile) if profile else None
        cpu = service_cpu(infra, server)
        progress: dict[int, float] = {}
        first_at: list[float] = []

        def milestones(found: int) -> None:
            if found and not first_at:
                first_at.append(time.perf_counter())
            for mark in (750, 1500, 2250, 3000):
                if found >= mark and mark not in progress:
                    progress[mark] = time.perf_counter()

        started = await publish(producer, facts)
        published_at = time.perf_counter()
        in_app_at = await until_count(db, message_count_sql("funding_match", "in_app"), PEOPLE, on_poll=milestones)
        emails_at = await mailbox.until(before + PEOPLE) if emails else float("nan")
        cpu_used = cpu.used()
        if profiler:
            profiler.send_signal(2)  # SIGINT: py-spy writes what it sampled
            profiler.wait(timeout=60)
        if emails:  # the sender marks a batch sent once the server took all of it: just after the last email
            await until_count(db, message_count_sql("funding_match", "email"), PEOPLE, timeout=30)
        emails_in_db = await db.fetchval(message_count_sql("funding_match", "email"))
        in_app_s, emails_s = in_app_at - started, emails_at - started
        return {
            "seed": seeded,
            "facts": COMPANIES,
            "people": PEOPLE,
            "publish_s": round(published_at - started, 2),
            "first_in_app_s": round(first_at[0] - started, 2),
            "in_app_progress_s": {str(mark): round(at - started, 1) for mark, at in sorted(progress.items())},
            "in_app_s": round(in_app_s, 1),
            "in_app_per_second": round(PEOPLE / in_app_s, 1),
            "target_in_app_s": TARGET_IN_APP_SECONDS,
            "target_met": in_app_s <= TARGET_IN_APP_SECONDS,
            "emails_accepted_s": round(emails_s, 1),
            "emails_per_second": round(PEOPLE / emails_s, 1),
            "emails_accepted": mailbox.accepted - before,
            "emails_marked_sent": emails_in_db,
            "cpu_seconds_during": cpu_used,
        }
    finally:
        await producer.stop()
        await db.close()


async def register(client: httpx.AsyncClient, url: str) -> str:
    answer = await client.post(
        "/webhooks/endpoints",
        headers=PARTNER,
        json={
            "url": url,
            "event_types": ["events.event.published"],
            "description": "Benchmark receiver",
            "contact_email": "sistemi@partner.example",
        },
    )
    answer.raise_for_status()
    return str(answer.json()["id"])


async def webhook_run(
    producer: AIOKafkaProducer,
    db: asyncpg.Connection,
    receiver: Receiver,
    endpoints: list[str],
    facts: int,
    infra: Infrastructure,
    server: subprocess.Popen[bytes],
    profile: Path | None = None,
) -> dict[str, Any]:
    deliveries = facts * len(endpoints)
    ids = ", ".join(f"'{endpoint}'" for endpoint in endpoints)
    received_before = receiver.received
    messages_out = records(event_published(n) for n in range(facts))
    profiler = start_profiler(server.pid, profile) if profile else None
    cpu = service_cpu(infra, server)
    started = await publish(producer, messages_out)
    succeeded_at = await until_count(
        db, f"SELECT count(*) FROM webhook_delivery WHERE endpoint_id IN ({ids}) AND status = 'succeeded'", deliveries
    )
    seconds = succeeded_at - started
    if profiler:
        profiler.send_signal(2)
        profiler.wait(timeout=60)
    return {
        "endpoints": len(endpoints),
        "facts": facts,
        "deliveries": deliveries,
        "seconds": round(seconds, 1),
        "deliveries_per_second": round(deliveries / seconds, 1),
        "receiver_got": receiver.received - received_before,
        "receiver_last_s": round(receiver.last_at - started, 1),
        "attempts": await db.fetchval(
            f"SELECT count(*) FROM webhook_attempt a JOIN webhook_delivery d "
            f"ON a.delivery_id = d.id WHERE d.endpoint_id IN ({ids})"
        ),
        "cpu_seconds_during": cpu.used(),
    }


async def webhooks(
    infra: Infrastructure, server: subprocess.Popen[bytes], url: str, database: str, profile: Path | None = None
) -> dict[str, Any]:
    db = await asyncpg.connect(database)
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka.bootstrap_servers)
    await producer.start()
    try:
        with webhook_receiver() as (receiver, receiver_url):
            async with httpx.AsyncClient(base_url=url, timeout=30) as client:
                one = await register(client, f"{receiver_url}/hooks/a")
                print(f"==> webhooks A: {WEBHOOK_DELIVERIES:,} events.event.published to 1 endpoint", flush=True)
                run_a = await webhook_run(producer, db, receiver, [one], WEBHOOK_DELIVERIES, infra, server)
                (await client.delete(f"/webhooks/endpoints/{one}", headers=PARTNER)).raise_for_status()
                several = [await register(client, f"{receiver_url}/hooks/b{n}") for n in range(WEBHOOK_ENDPOINTS_B)]
            facts_b = WEBHOOK_DELIVERIES // WEBHOOK_ENDPOINTS_B
            print(f"==> webhooks B: {facts_b} events.event.published to {WEBHOOK_ENDPOINTS_B} endpoints", flush=True)
            run_b = await webhook_run(producer, db, receiver, several, facts_b, infra, server, profile)
            assert receiver.unsigned == 0, f"{receiver.unsigned} deliveries without Standard Webhooks headers"
        return {"one_endpoint": run_a, "ten_endpoints": run_b}
    finally:
        await producer.stop()
        await db.close()


def defaults(*names: str) -> dict[str, Any]:
    return {name: NotificationsSettings.model_fields[name].default for name in names}


def main() -> None:
    profiling, in_app_only = "--profile" in sys.argv[1:], "--in-app-only" in sys.argv[1:]
    mailbox = CountingMailbox()
    with infrastructure() as infra, serving_jwks() as jwks_url, smtp_server(mailbox) as smtp_port:
        asyncio.run(create_topics(infra.kafka.bootstrap_servers))
        load_before, code = load_average(), code_version()
        if in_app_only:
            server, _, database = start_notifications(
                infra, "notifications", smtp_port, jwks_url, dispatch_interval_seconds="3600"
            )
            profile = infra.work / "in-app-profile.txt" if profiling else None
            try:
                print(
                    json.dumps(asyncio.run(fan_out(infra, server, database, mailbox, profile, emails=False)), indent=2)
                )
            finally:
                stop(server)
            if profile:
                print_profile(profile, "the fan-out")
            return
        server, _, database = start_notifications(infra, "notifications", smtp_port, jwks_url)
        profile = infra.work / "fanout-profile.txt" if profiling else None
        try:
            fanned = asyncio.run(fan_out(infra, server, database, mailbox, profile))
            fanned["service_peak_rss_mb"] = peak_rss_mb(server.pid)
        finally:
            stop(server)
        server, url, database = start_notifications(infra, "notifications_webhooks", smtp_port, jwks_url)
        try:
            hooks_profile = infra.work / "webhooks-profile.txt" if profiling else None
            hooks = asyncio.run(webhooks(infra, server, url, database, hooks_profile))
            hooks["service_peak_rss_mb"] = peak_rss_mb(server.pid)
        finally:
            stop(server)
        if profile and hooks_profile:
            print_profile(profile, "the fan-out")
            print_profile(hooks_profile, "webhooks B")
        result = {
            "fan_out": fanned,
            "webhooks": hooks,
            "settings": defaults("dispatch_interval_seconds", "smtp_connections", "webhook_concurrency"),
            "load_average_before": load_before,
            "load_average_after": load_average(),
            "code": code,
            "machine": infra.machine(),
        }
    if not profiling:
        write_results("notifications_fanout", result)
    else:
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
