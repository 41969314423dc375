"""Schemathesis generates requests from the members OpenAPI document and checks every answer against it:
no server errors, documented status codes and bodies, bad input refused, good input accepted.

It runs against a real members process (uvicorn) on PostgreSQL and the real broker, authenticated as staff so
that protected operations are exercised too. Exceptions for rules no schema can state are in schemathesis.toml.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.members.tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.support.infrastructure import PostgresDatabases, run_schemathesis, service_process


@pytest.fixture
def members_process(postgres: PostgresDatabases, kafka_bootstrap: str, tmp_path: Path) -> Iterator[str]:
    env = {
        "MEMBERS_DATABASE_URL": postgres.new_database(),
        "MEMBERS_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "MEMBERS_FIRST_ADMIN_EMAIL": ADMIN_EMAIL,
        "MEMBERS_FIRST_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "MEMBERS_LOG_LEVEL": "WARNING",
    }
    with service_process("services.members.app:create_app", env, tmp_path / "members.log") as url:
        yield url


def test_the_members_api_honours_its_openapi_document(members_process: str) -> None:
    token = httpx.post(
        f"{members_process}/auth/token",
        data={"grant_type": "password", "username": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
    ).json()["access_token"]
    result = run_schemathesis(f"{members_process}/openapi.json", token)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
