"""Schemathesis against the notifications OpenAPI document, on a real notifications process (PostgreSQL, the real
broker), authenticated as staff. The process verifies tokens against a JWKS served here, as it would the members
service's. Exceptions for rules no schema can state are in schemathesis.toml."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.notifications.tests.conftest import STAFF
from tests.support.infrastructure import PostgresDatabases, run_schemathesis, service_process


@pytest.fixture
def notifications_process(
    postgres: PostgresDatabases, kafka_bootstrap: str, jwks_url: str, tmp_path: Path
) -> Iterator[str]:
    env = {
        "NOTIFICATIONS_DATABASE_URL": postgres.new_database(),
        "NOTIFICATIONS_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "NOTIFICATIONS_JWKS_URL": jwks_url,
        "NOTIFICATIONS_LOG_LEVEL": "WARNING",
        "NOTIFICATIONS_SMTP_PORT": "9",
    }
    with service_process("services.notifications.app:create_app", env, tmp_path / "notifications.log") as url:
        yield url


def test_the_notifications_api_honours_its_openapi_document(notifications_process: str) -> None:
    token = STAFF["Authorization"].removeprefix("Bearer ")
    result = run_schemathesis(f"{notifications_process}/openapi.json", token)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
