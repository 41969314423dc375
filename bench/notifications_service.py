"""The notifications service as the benchmark runs it: its own uvicorn process on a fresh PostgreSQL database, the
topics it reads made first, and the other services' facts published to it through one producer."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.common import Infrastructure
from bench.machine import Components, CpuMeter, postmaster_pid
from bench.partner_facts import Record
from deploy.local.ports import free_port
from deploy.local.processes import start_service, wait_ready
from shared import topics

# What the service subscribes to (its handlers), so that each exists, with its partitions, before it starts.
TOPICS_READ = (
    topics.MEMBERS_COMPANIES,
    topics.MEMBERS_PEOPLE,
    topics.MEMBERS_FEES,
    topics.EVENTS_EVENTS,
    topics.EVENTS_REGISTRATIONS,
    topics.FUNDING_CALLS,
    topics.FUNDING_MATCHES,
    topics.FUNDING_SEARCHES,
)


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


def message_count_sql(kind: str, channel: str, status: str = "sent") -> str:
    """The query counting the service's messages of `kind` on `channel` that reached `status`."""
    return f"SELECT count(*) FROM message WHERE kind = '{kind}' AND channel = '{channel}' AND status = '{status}'"


async def publish(producer: AIOKafkaProducer, records: list[Record]) -> float:
    """Everything through one producer, then a flush; returns when the first was handed to it (perf_counter)."""
    started = time.perf_counter()
    pending = [await producer.send(topic, value, key=key) for topic, value, key in records]
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
            [NewTopic(topic, num_partitions=3, replication_factor=1) for topic in TOPICS_READ if topic not in existing]
        )
    finally:
        await admin.close()
