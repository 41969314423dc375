"""Funding across the platform: a company approved in members is matched to a call in funding, each service in
its own process on its own database, talking only through Kafka; the company's own people see the match with a
token the members service signed, and a withdrawal from the network withdraws the match."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.funding.tests.conftest import call_body
from services.members.tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, APPLICANT_PASSWORD, PARTITE_IVA, application
from tests.support.infrastructure import KafkaReader
from tests.support.journeys import beside_members, eventually


@pytest.fixture
def services(postgres: Any, kafka_bootstrap: str, tmp_path: Path) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    with beside_members("funding", postgres, kafka_bootstrap, tmp_path) as clients:
        yield clients


async def test_an_approved_company_is_told_of_the_calls_that_fit_it(
    services: tuple[httpx.Client, httpx.Client], kafka_reader: KafkaReader
) -> None:
    members, funding = services
    staff = _token(members, ADMIN_EMAIL, ADMIN_PASSWORD)
    call = funding.post("/calls", headers=staff, json=call_body()).json()  # footwear, Tuscany, SMEs
    company = members.post("/companies/applications", json=application(PARTITE_IVA[1], "titolare@example.com")).json()
    members.post(f"/companies/{company['id']}/approve", headers=staff)
    owner = _token(members, "titolare@example.com", APPLICANT_PASSWORD)

    def matched() -> httpx.Response:
        answer = funding.get(f"/companies/{company['id']}/matches", headers=owner)
        return httpx.Response(200 if answer.is_success and answer.json() else 404, text=answer.text)

    assert eventually(matched).status_code == 200
    match = funding.get(f"/companies/{company['id']}/matches", headers=owner).json()[0]
    assert match["call_id"] == call["id"]
    assert match["reasons"][:3] == [
        "ATECO 15.20.10 eligible (call open to 15.20)",
        "open to companies in Toscana",
        "open to small companies",
    ]

    members.post(f"/companies/{company['id']}/withdraw", headers=staff, json={"reason": "cessata attività"})
    facts = await kafka_reader.read(
        "funding.matches.v1",
        lambda fs: any(f["subject"] == company["id"] and f["type"] == "funding.match.withdrawn" for f in fs),
        timeout=60,
    )
    assert [f["type"] for f in facts if f["subject"] == company["id"]] == [
        "funding.match.found",
        "funding.match.withdrawn",
    ]


def _token(members: httpx.Client, email: str, password: str) -> dict[str, str]:
    response = members.post("/auth/token", data={"grant_type": "password", "username": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
