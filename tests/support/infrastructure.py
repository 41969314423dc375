"""The real infrastructure behind the tests, and how they reach it: a Docker engine if one answers, a database per
test from one PostgreSQL server, a plain Kafka reader (none of our code, as a partner reads), a service in its own
process, Schemathesis against a live service."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy.engine import make_url

from deploy.local.ports import free_port
from deploy.local.processes import ROOT, start_service, wait_ready
from shared.kafka import partitions_of
from shared.topics import consumer_group


def docker_engine_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


class PostgresDatabases:
    """Hands out a fresh database per test from one server."""

    def __init__(self, create: Callable[[str], str]) -> None:
        self._create = create

    def new_database(self) -> str:
        return self._create(f"t_{uuid.uuid4().hex[:12]}")


def create_database_at(url: str, name: str) -> str:
    parsed = make_url(url)

    async def create() -> None:
        connection = await asyncpg.connect(
            host=parsed.host,
            port=parsed.port,
            user=parsed.username,
            password=parsed.password,
            database=parsed.database,
        )
        await connection.execute(f'CREATE DATABASE "{name}"')
        await connection.close()

    asyncio.run(create())
    return parsed.set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)


class KafkaReader:
    """Reads a topic from the beginning as a partner would: a plain aiokafka consumer, none of our code."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap

    async def read(
        self, topic: str, until: Callable[[list[dict[str, Any]]], bool], timeout: float = 20.0
    ) -> list[dict[str, Any]]:
        """Decoded CloudEvents (plus `_key` and `_headers`) read until `until(events)` holds."""
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=self.bootstrap,
            group_id=f"reader-{uuid.uuid4().hex}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        events: list[dict[str, Any]] = []
        try:
            deadline = asyncio.get_running_loop().time() + timeout
            while not until(events):
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    raise AssertionError(
                        f"gave up on {topic} after {timeout}s with {len(events)} events: "
                        f"{[e.get('type') for e in events]}"
                    )
                batches = await consumer.getmany(timeout_ms=int(min(remaining, 1.0) * 1000))
                for records in batches.values():
                    for record in records:
                        events.append(_decode(record))
        finally:
            await consumer.stop()
        return events


def _decode(record: Any) -> dict[str, Any]:
    event: dict[str, Any]
    try:
        event = json.loads(record.value)
    except ValueError:
        event = {"_raw": record.value}
    event["_key"] = record.key.decode() if record.key else None
    event["_headers"] = {k: v.decode() for k, v in record.headers}
    return event


def run_schemathesis(openapi_url: str, token: str) -> subprocess.CompletedProcess[str]:
    """Schemathesis against a live service, authenticated, with every check (exceptions: schemathesis.toml)."""
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "st"),
            "--config-file",
            str(ROOT / "schemathesis.toml"),
            "run",
            openapi_url,
            "--checks",
            "all",
            "--max-examples",
            "25",
            "--seed",
            "20261125",
            "-H",
            f"Authorization: Bearer {token}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )


@contextmanager
def service_process(app_factory: str, env: dict[str, str], log_path: Path) -> Iterator[str]:
    """A service in its own uvicorn process, ready; yields its base URL."""
    port = free_port()
    with open(log_path, "wb") as log:
        process = start_service(app_factory, port, {**os.environ, **env}, log)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url, process, timeout=60)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)


async def start_consumer_groups_at_the_end(bootstrap: str, service: str, topics: Iterable[str]) -> None:
    """Every service's tests share one broker, and the other suites leave hundreds of people and companies on its
    topics. Moving `service`'s consumer groups to the topics' end before its first test makes that test read
    only the facts it publishes itself, whichever suites ran before it."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        for topic in topics:
            partitions = await partitions_of(admin, topic)
            if not partitions:
                continue
            consumer = AIOKafkaConsumer(
                bootstrap_servers=bootstrap, group_id=consumer_group(service, topic), enable_auto_commit=False
            )
            await consumer.start()
            try:
                consumer.assign(partitions)
                await consumer.seek_to_end(*partitions)
                await consumer.commit({partition: await consumer.position(partition) for partition in partitions})
            finally:
                await consumer.stop()
    finally:
        await admin.close()
