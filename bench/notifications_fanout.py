"""Notifications: one funding call matched to 1,000 companies of 3 people each, written to all 3,000 of them in the
inbox and by email; and signed webhook deliveries per second to a partner's receiver.

The service runs as the platform runs it: its own uvicorn process on PostgreSQL (a fresh database), against a
real Kafka broker, with its default settings (email and webhook senders looking for due work every second, 4
SMTP connections, 16 webhook deliveries in flight). In this process: an SMTP server (aiosmtpd) that counts what
it accepts and keeps nothing, an HTTP receiver for the webhooks, a JWKS for the partner's token, and one Kafka
producer publishing the other services' facts, built with their own event classes, to their real topics.

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
import collections
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import uvicorn
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

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
from bench.machine import Components, CpuMeter, postmaster_pid
from deploy.local.mailcatcher import smtp_server
from deploy.local.ports import free_port
from deploy.local.processes import start_service, wait_ready
from services.events.events import EventPublished, EventSummary
from services.funding.events import CallSummary, MatchFound
from services.members.events import CompanyApproved, CompanyProfile, PersonJoined, PersonProfile
from services.notifications.handlers import TOPICS
from services.notifications.settings import NotificationsSettings
from shared.envelope import IntegrationEvent
from tests.support.tokens import partner_bearer, serving_jwks

COMPANIES = 1_000
PEOPLE_PER_COMPANY = 3
PEOPLE = COMPANIES * PEOPLE_PER_COMPANY
TARGET_IN_APP_SECONDS = 10.0
WEBHOOK_DELIVERIES = 2_000
WEBHOOK_ENDPOINTS_B = 10
PARTNER = partner_bearer("bench", "webhooks:manage")


# ---- a webhook receiver ---------------------------------------------------------------------------------------


@dataclass
class Receiver:
    """A partner's endpoint: answers 204 to every signed POST and counts them."""

    received: int = 0
    unsigned: int = 0
    last_at: float = 0.0

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        more = True
        while more:
            more = (await receive()).get("more_body", False)
        headers = dict(scope["headers"])
        if not (b"webhook-id" in headers and b"webhook-signature" in headers):
            self.unsigned += 1
        self.received += 1
        self.last_at = time.perf_counter()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@contextmanager
def webhook_receiver() -> Iterator[tuple[Receiver, str]]:
    """The receiver on its own thread and event loop, so the benchmark's polling does not slow it down."""
    receiver = Receiver()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(receiver, host="127.0.0.1", port=port, lifespan="off", log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield receiver, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# ---- the facts ------------------------------------------------------------------------------------------------


def company_approved(n: int) -> CompanyApproved:
    company_id = str(uuid.uuid4())
    return CompanyApproved(
        company_id=company_id,
        company=CompanyProfile(
            id=company_id,
            legal_name=f"Calzaturificio {n} S.r.l.",
            partita_iva=f"{n:011d}",
            status="active",
            size_class="small",
            employees=18,
            ateco_primary="15.20.10",
            ateco_secondary=[],
            comune="Capannori",
            frazione="Lunata",
            province="LU",
            region="Toscana",
            website=None,
            capabilities=["calzature donna"],
            certifications=[],
            export_markets=["DE"],
            languages=["it", "en"],
            interests=["sostenibilità"],
            public_listing=True,
        ),
    )


def person_joined(company_id: str, n: int) -> PersonJoined:
    person_id = str(uuid.uuid4())
    language = "en" if n % PEOPLE_PER_COMPANY == 2 else "it"
    role = "company_admin" if n % PEOPLE_PER_COMPANY == 0 else "company_member"
    return PersonJoined(
        person_id=person_id,
        person=PersonProfile(
            id=person_id,
            company_id=company_id,
            given_name=f"Persona{n}",
            family_name="Bertolucci",
            email=f"persona{n}.{person_id[:8]}@example.com",
            language=language,
            role=role,
            job_title=None,
        ),
    )


def the_call() -> CallSummary:
    now = datetime.now(UTC).replace(microsecond=0)
    return CallSummary(
        id=str(uuid.uuid4()),
        source="incentivi_gov_it",
        external_id="bench-fanout",
        title_it="Transizione 5.0: investimenti in digitalizzazione ed efficienza energetica",
        title_en="Transition 5.0: investments in digitalisation and energy efficiency",
        programme="MIMIT",
        status="open",
        opens_at=now - timedelta(days=3),
        deadlines=[now + timedelta(days=60)],
        budget_eur=6_300_000_000,
        url="https://www.incentivi.gov.it/it/catalogo/transizione-50",
    )


def match_found(call: CallSummary, company_id: str) -> MatchFound:
    return MatchFound(
        call_id=call.id,
        company_id=company_id,
        score=80,
        call=call,
        reasons=["settore 15.20 (calzature)", "PMI", "Toscana"],
    )


def event_published(n: int) -> EventPublished:
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=10 + n % 300)
    event_id = str(uuid.uuid4())
    return EventPublished(
        event_id=event_id,
        event=EventSummary(
            id=event_id,
            title_it=f"Fiera MICAM Milano: visita collettiva {n}",
            title_en=f"MICAM Milano visit {n}",
            event_type="trade_fair",
            status="published",
            audience="public",
            starts_at=starts,
            ends_at=starts + timedelta(hours=8),
            time_zone="Europe/Rome",
            venue="Fiera Milano, Rho",
            online_url=None,
            organiser_company_id=None,
            capacity=40,
            tags=["fiera"],
        ),
    )


def encoded(facts: list[IntegrationEvent], source: str) -> list[tuple[str, bytes, bytes]]:
    """The facts as their services publish them (CloudEvent, key = the aggregate's id), ready to send."""
    return [
        (fact.topic, fact.to_cloudevent(source).model_dump_json().encode(), fact.aggregate_id().encode())
        for fact in facts
    ]


async def publish(producer: AIOKafkaProducer, messages: list[tuple[str, bytes, bytes]]) -> float:
    """Everything through one producer, then a flush; returns when the first was handed to it (perf_counter)."""
    started = time.perf_counter()
    pending = [await producer.send(topic, value, key=key) for topic, value, key in messages]
    await producer.flush()
    await asyncio.gather(*pending)
    return started


async def create_topics(bootstrap: str) -> None:
    """The topics the service reads, made before it starts, as on the platform (3 partitions, the broker's default)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        await admin.create_topics(
            [NewTopic(topic, num_partitions=3, replication_factor=1) for topic in TOPICS if topic not in existing]
        )
    finally:
        await admin.close()


# ---- the service and its database ----------------------------------------------------------------------------


def start_notifications(
    infra: Infrastructure, database: str, smtp_port: int, jwks_url: str, **settings: str
) -> tuple[subprocess.Popen[bytes], str, str]:
    database_url = infra.postgres.create_database(database)
    env = {
        **os.environ,
        "NOTIFICATIONS_DATABASE_URL": database_url,
        "NOTIFICATIONS_KAFKA_BOOTSTRAP_SERVERS": infra.kafka.bootstrap_servers,
        "NOTIFICATIONS_JWKS_URL": jwks_url,
        "NOTIFICATIONS_LOG_LEVEL": "WARNING",
        "NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
        "NOTIFICATIONS_SMTP_PORT": str(smtp_port),
        "NOTIFICATIONS_WEBHOOK_ALLOWED_HOSTS": '["127.0.0.1"]',
        **{f"NOTIFICATIONS_{name.upper()}": value for name, value in settings.items()},
    }
    port = free_port()
    server = start_service("services.notifications.app:create_app", port, env)
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, server)
    return server, url, database_url.replace("postgresql+asyncpg://", "postgresql://")


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    server.wait(timeout=30)


def service_cpu(infra: Infrastructure, server: subprocess.Popen[bytes]) -> CpuMeter:
    """CPU seconds of the service, PostgreSQL (our cluster's processes, including backends that start meanwhile),
    Kafka and this process over a window, and what the rest of the machine used."""
    assert infra.kafka.process is not None
    return CpuMeter(
        Components(
            {"service": server.pid, "kafka": infra.kafka.process.pid},
            trees={"postgres": postmaster_pid(infra.postgres)},
        )
    )


def messages(kind: str, channel: str, status: str = "sent") -> str:
    return f"SELECT count(*) FROM message WHERE kind = '{kind}' AND channel = '{channel}' AND status = '{status}'"


# ---- a profile of the service ----------------------------------------------------------------------------------


def start_profiler(pid: int, output: Path) -> subprocess.Popen[bytes]:
    py_spy = Path(sys.executable).parent / "py-spy"
    return subprocess.Popen(
        [
            str(py_spy),
            "record",
            "--pid",
            str(pid),
            "--format",
            "raw",
            "--rate",
            "200",
            "--nonblocking",
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


# What a sample was doing: the first label whose markers are all on its stack. SQLAlchemy's ORM runs in greenlets,
# which py-spy shows as stacks of their own, without the caller: they get a label of their own.
ACTIVITIES = [
    ("email: building the MIME message (email_of)", ["email_of ("]),
    ("email: serialising it for SMTP (email package)", ["SMTP.send_message (", "flatten_message ("]),
    ("email: SMTP conversation", ["SMTP.send_message ("]),
    ("email: unsubscribe link token", ["unsubscribe_url ("]),
    ("email: marking sent (one SELECT per message)", ["EmailSender._record ("]),
    ("email: other", ["EmailSender."]),
    ("webhooks: a new httpx client each pass", ["WebhookSender.send_due (", "AsyncClient.__init__ ("]),
    ("webhooks: signing", ["signature_headers ("]),
    ("webhooks: HTTP request", ["WebhookSender._post ("]),
    ("webhooks: recording the attempt", ["WebhookSender._record ("]),
    ("webhooks: other", ["WebhookSender."]),
    ("consumer: rendering templates", ["IdempotentConsumer", "Writer.write ("]),
    ("consumer: building Message rows", ["IdempotentConsumer", "Postman._message ("]),
    ("consumer: rest of Postman.deliver", ["IdempotentConsumer", "Postman.deliver ("]),
    ("consumer: commit", ["IdempotentConsumer", "UnitOfWork.commit ("]),
    ("consumer: queries and the rest", ["IdempotentConsumer"]),
    ("consumer: FastStream/aiokafka around the handler", ["_run_consume_loop ("]),
    ("outbox relay", ["OutboxRelay"]),
    ("aiokafka (fetching, producing, committing offsets)", ["aiokafka/"]),
    ("other periodic jobs and leader checks", ["_run_periodically ("]),
    ("HTTP API", ["uvicorn/protocols"]),
]

ROOTS = [
    ("email: serialising it for SMTP (email package)", ["email/"]),
    ("email: SMTP conversation", ["aiosmtplib/"]),
    ("email: other", ["notifications/mail.py"]),
    ("other threads (getfqdn for each SMTP connection's EHLO)", ["threading.py"]),
    ("database: SQLAlchemy ORM and asyncpg (caller not visible)", ["sqlalchemy/", "sqlmodel/", "asyncpg/"]),
    ("webhooks: HTTP request", ["httpx/", "httpcore/", "anyio/"]),
    ("consumer: rendering templates", [".j2", "rendering.py", "jinja2/"]),
]

# Threads waiting for work (py-spy's --nonblocking cannot always tell they are idle).
IDLE_LEAVES = ("Condition.wait (", "_worker (concurrent/futures/thread.py")


def activity_of(stack: str) -> str:
    frames = stack.split(";")
    if not frames[0].startswith("_run_module_as_main"):  # a greenlet's or a resumed coroutine's own stack
        for label, markers in ROOTS:
            if any(marker in frames[0] for marker in markers):
                return label
        return "event loop and the rest"
    for label, markers in ACTIVITIES:
        if all(marker in stack for marker in markers):
            return label
    return "event loop and the rest"


def summarise_profile(path: Path) -> list[tuple[str, float]]:
    """Share of the service's samples per activity."""
    shares: collections.Counter[str] = collections.Counter()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        leaf = stack.rsplit(";", 1)[-1]
        if count.isdigit() and not leaf.startswith(IDLE_LEAVES):
            shares[activity_of(stack)] += int(count)
    total = sum(shares.values()) or 1
    return [(label, round(100 * count / total, 1)) for label, count in shares.most_common()]


def print_profile(profile: Path, during: str) -> None:
    print(f"==> where the service's time went during {during} (share of samples; raw stacks in {profile})")
    for frame, share in summarise_profile(profile):
        print(f"    {share:5.1f}%  {frame}")


# ---- 1. the fan-out ------------------------------------------------------------------------------------------


async def seed(
    producer: AIOKafkaProducer, db: asyncpg.Connection, mailbox: CountingMailbox, emails: bool
) -> dict[str, Any]:
    companies = [company_approved(n) for n in range(COMPANIES)]
    people = [
        person_joined(company.company_id, n)
        for n, company in enumerate(company for company in companies for _ in range(PEOPLE_PER_COMPANY))
    ]
    started = await publish(producer, encoded(companies, "/filiera/members"))
    await until_count(db, "SELECT count(*) FROM contact_company", COMPANIES)
    companies_s = time.perf_counter() - started
    print(f"    {COMPANIES} companies stored in {companies_s:.1f}s", flush=True)
    started = await publish(producer, encoded(people, "/filiera/members"))
    people_at = await until_count(db, "SELECT count(*) FROM contact_person", PEOPLE)
    welcomes_at = await until_count(db, messages("welcome", "in_app"), PEOPLE)
    if not emails:
        return {"people_stored_s": round(people_at - started, 1)}
    emails_at = await mailbox.until(PEOPLE)
    await until_count(db, messages("welcome", "email"), PEOPLE)
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
        call = the_call()
        companies = [row["id"] for row in await db.fetch("SELECT id FROM contact_company")]
        facts = encoded([match_found(call, company_id) for company_id in companies], "/filiera/funding")
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
        in_app_at = await until_count(db, messages("funding_match", "in_app"), PEOPLE, on_poll=milestones)
        emails_at = await mailbox.until(before + PEOPLE) if emails else float("nan")
        cpu_used = cpu.used()
        if profiler:
            profiler.send_signal(2)  # SIGINT: py-spy writes what it sampled
            profiler.wait(timeout=60)
        if emails:  # the sender marks a batch sent once the server took all of it: just after the last email
            await until_count(db, messages("funding_match", "email"), PEOPLE, timeout=30)
        emails_in_db = await db.fetchval(messages("funding_match", "email"))
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


# ---- 2. webhooks ---------------------------------------------------------------------------------------------


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
    messages_out = encoded([event_published(n) for n in range(facts)], "/filiera/events")
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


# ---- the benchmark -------------------------------------------------------------------------------------------


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
