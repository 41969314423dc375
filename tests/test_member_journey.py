"""A member company's journey across services, each in its own process on its own database, talking only
through Kafka, with the tokens the members service signs and the events service verifies from its JWKS."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.events.tests.conftest import event_body
from services.members.tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, APPLICANT_PASSWORD, PARTITE_IVA, application
from tests.support.journeys import beside_members, eventually


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
    with beside_members("events", postgres, kafka_bootstrap, tmp_path) as (members, events):
        yield Platform(members, events)


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
