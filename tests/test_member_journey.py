"""A member company's journey across services, each in its own process on its own database, talking only
through Kafka, with the tokens the members service signs and the events service verifies from its JWKS."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.events.tests.conftest import event_body
from services.members.tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, APPLICANT_PASSWORD, PARTITE_IVA, application
from tests.support.infrastructure import service_process


@dataclass
class Platform:
    members: httpx.Client
    events: httpx.Client

    def token(self, email: str, password: str) -> dict[str, str]:
        response = self.members.post(
            "/auth/token", data={"grant_type": "password", "username": email, "password": password}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def platform(postgres: Any, kafka_bootstrap: str, tmp_path: Path) -> Iterator[Platform]:
    members_env = {
        "MEMBERS_DATABASE_URL": postgres.new_database(),
        "MEMBERS_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "MEMBERS_FIRST_ADMIN_EMAIL": ADMIN_EMAIL,
        "MEMBERS_FIRST_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "MEMBERS_OUTBOX_POLL_INTERVAL_SECONDS": "0.3",
    }
    with service_process("services.members.app:create_app", members_env, tmp_path / "members.log") as members:
        events_env = {
            "EVENTS_DATABASE_URL": postgres.new_database(),
            "EVENTS_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "EVENTS_JWKS_URL": f"{members}/.well-known/jwks.json",
        }
        with (
            service_process("services.events.app:create_app", events_env, tmp_path / "events.log") as events,
            httpx.Client(base_url=members, timeout=10) as m,
            httpx.Client(base_url=events, timeout=10) as e,
        ):
            yield Platform(m, e)


def eventually(attempt: Callable[[], httpx.Response], timeout: float = 60) -> httpx.Response:
    """Retry `attempt` until it answers 2xx: the events service learns of members' facts through Kafka."""
    deadline = time.monotonic() + timeout
    while True:
        response = attempt()
        if response.is_success or time.monotonic() > deadline:
            return response
        time.sleep(0.3)


def test_an_approved_company_registers_its_people_and_suspension_stops_new_registrations(platform: Platform) -> None:
    staff = platform.token(ADMIN_EMAIL, ADMIN_PASSWORD)
    applied = platform.members.post("/companies/applications", json=application(PARTITE_IVA[0], "titolare@example.com"))
    company = applied.json()
    event = platform.events.post("/events", headers=staff, json=event_body(capacity=10)).json()
    platform.events.post(f"/events/{event['id']}/publish", headers=staff)

    platform.members.post(f"/companies/{company['id']}/approve", headers=staff)
    owner = platform.token("titolare@example.com", APPLICANT_PASSWORD)
    registered = eventually(
        lambda: platform.events.post(f"/events/{event['id']}/registrations", headers=owner, json={})
    )
    assert registered.status_code == 201, registered.text
    assert registered.json()["status"] == "confirmed"

    def named_from_members_people() -> httpx.Response:  # the person's fact may come after the company's
        mine = platform.events.get("/me/registrations", headers=owner).json()
        return httpx.Response(200 if [r["name"] for r in mine] == ["Giulia Bertolucci"] else 404, json=mine)

    named = eventually(named_from_members_people)
    assert named.status_code == 200, named.text

    colleague = platform.members.post(
        f"/companies/{company['id']}/people",
        headers=owner,
        json={
            "given_name": "Marco",
            "family_name": "Pieroni",
            "email": "marco@example.com",
            "password": "orlatura-2026-ok",
        },
    )
    assert colleague.status_code == 201
    marco = platform.token("marco@example.com", "orlatura-2026-ok")  # valid for minutes, whatever happens next
    platform.members.post(f"/companies/{company['id']}/suspend", headers=staff, json={"reason": "fees unpaid"})

    def marco_refused_as_suspended() -> httpx.Response:
        answer = platform.events.post(f"/events/{event['id']}/registrations", headers=marco, json={})
        return httpx.Response(200 if "(suspended)" in answer.text else 409, text=answer.text)

    refused = eventually(marco_refused_as_suspended)
    assert refused.status_code == 200, refused.text
