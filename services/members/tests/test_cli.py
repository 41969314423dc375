"""The first network admin can be created from a shell, before or while the service runs."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx

from services.members.app import create_app
from services.members.settings import MembersSettings
from tests.support.infrastructure import KafkaReader

PASSWORD = "polo-tecnologico-2026"


def create_admin(database_url: str, email: str, password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MEMBERS_DATABASE_URL": database_url, "MEMBERS_FIRST_ADMIN_PASSWORD": password}
    return subprocess.run(
        [sys.executable, "-m", "services.members.cli", "create-admin", "--email", email],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_the_cli_creates_the_first_admin_once_and_the_service_announces_them(
    database_url: str, kafka_bootstrap: str, kafka_reader: KafkaReader
) -> None:
    created = create_admin(database_url, "segreteria@example.com")
    assert created.returncode == 0, created.stderr
    again = create_admin(database_url, "someone-else@example.com")
    assert again.returncode == 1
    assert "already has an admin" in again.stdout

    app = create_app(
        MembersSettings(
            database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap, outbox_poll_interval_seconds=0.3
        )
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://members") as client,
    ):
        login = await client.post(
            "/auth/token", data={"grant_type": "password", "username": "segreteria@example.com", "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        me = await client.get("/people/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"})
        assert me.json()["role"] == "network_admin"
        await kafka_reader.read("members.people.v1", lambda evs: any(e.get("subject") == me.json()["id"] for e in evs))


def test_the_cli_refuses_a_weak_password_and_says_why(database_url: str) -> None:
    refused = create_admin(database_url, "segreteria@example.com", password="short")
    assert refused.returncode == 2
    assert "refused:" in refused.stderr and "12 characters" in refused.stderr
