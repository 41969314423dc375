"""What the journeys across services stand on: a members process with its first staff account, beside which a
journey starts the service it follows (its tokens verified from this members' JWKS), and a retry for what
reaches a service through Kafka."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from services.members.tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.support.infrastructure import service_process


@contextmanager
def members_process(postgres: Any, kafka_bootstrap: str, logs: Path) -> Iterator[str]:
    """The members service in its own process on its own database; yields its base URL."""
    members_env = {
        "MEMBERS_DATABASE_URL": postgres.new_database(),
        "MEMBERS_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "MEMBERS_FIRST_ADMIN_EMAIL": ADMIN_EMAIL,
        "MEMBERS_FIRST_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "MEMBERS_OUTBOX_POLL_INTERVAL_SECONDS": "0.3",
    }
    with service_process("services.members.app:create_app", members_env, logs / "members.log") as members:
        yield members


@contextmanager
def beside_members(
    service: str, postgres: Any, kafka_bootstrap: str, logs: Path
) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Members and `service` ("events", "funding"), each in its own process; yields a client of each."""
    with members_process(postgres, kafka_bootstrap, logs) as members:
        prefix = service.upper()
        env = {
            f"{prefix}_DATABASE_URL": postgres.new_database(),
            f"{prefix}_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            f"{prefix}_JWKS_URL": f"{members}/.well-known/jwks.json",
        }
        with (
            service_process(f"services.{service}.app:create_app", env, logs / f"{service}.log") as url,
            httpx.Client(base_url=members, timeout=10) as members_client,
            httpx.Client(base_url=url, timeout=10) as service_client,
        ):
            yield members_client, service_client


def eventually(attempt: Callable[[], httpx.Response], timeout: float = 60) -> httpx.Response:
    """Retry `attempt` until it answers 2xx: the other services learn of members' facts through Kafka."""
    deadline = time.monotonic() + timeout
    while True:
        response = attempt()
        if response.is_success or time.monotonic() > deadline:
            return response
        time.sleep(0.3)
