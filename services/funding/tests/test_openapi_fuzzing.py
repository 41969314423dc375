"""Schemathesis against the funding OpenAPI document, on a real funding process (PostgreSQL, the real broker),
authenticated as staff. The process verifies tokens against a JWKS served here, as it would the members
service's. Exceptions for rules no schema can state are in schemathesis.toml."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.local.feeds import feed_environment, serving
from services.funding.tests.conftest import STAFF, FakeSources
from tests.support.infrastructure import PostgresDatabases, run_schemathesis, service_process


@pytest.fixture
def funding_process(postgres: PostgresDatabases, kafka_bootstrap: str, jwks_url: str, tmp_path: Path) -> Iterator[str]:
    with serving(FakeSources().respond) as sources_url:
        env = {
            "FUNDING_DATABASE_URL": postgres.new_database(),
            "FUNDING_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "FUNDING_JWKS_URL": jwks_url,
            "FUNDING_LOG_LEVEL": "WARNING",
            **feed_environment(sources_url),
        }
        with service_process("services.funding.app:create_app", env, tmp_path / "funding.log") as url:
            yield url


def test_the_funding_api_honours_its_openapi_document(funding_process: str) -> None:
    token = STAFF["Authorization"].removeprefix("Bearer ")
    result = run_schemathesis(f"{funding_process}/openapi.json", token)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
