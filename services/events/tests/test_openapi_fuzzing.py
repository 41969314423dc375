"""Schemathesis against the events OpenAPI document, on a real events process (PostgreSQL, the real broker),
authenticated as staff. The process verifies tokens against a JWKS served here, as it would the members
service's. Exceptions for rules no schema can state are in schemathesis.toml."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.events.tests.conftest import STAFF
from tests.support.infrastructure import PostgresDatabases, run_schemathesis, service_process


@pytest.fixture
def events_process(postgres: PostgresDatabases, kafka_bootstrap: str, jwks_url: str, tmp_path: Path) -> Iterator[str]:
    env = {
        "EVENTS_DATABASE_URL": postgres.new_database(),
        "EVENTS_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "EVENTS_JWKS_URL": jwks_url,
        "EVENTS_LOG_LEVEL": "WARNING",
    }
    with service_process("services.events.app:create_app", env, tmp_path / "events.log") as url:
        yield url


def test_the_events_api_honours_its_openapi_document(events_process: str) -> None:
    token = STAFF["Authorization"].removeprefix("Bearer ")
    result = run_schemathesis(f"{events_process}/openapi.json", token)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
