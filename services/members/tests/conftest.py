"""A members service per test, on a real database (PostgreSQL and SQLite) and the real Kafka broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.members.app import create_app
from services.members.settings import MembersSettings
from tests.support.clock import MovableClock

ADMIN_EMAIL = "staff@example.com"
ADMIN_PASSWORD = "segromigno-in-monte-2026"
APPLICANT_PASSWORD = "tomaia-e-suola-2026"

# Valid Partite IVA (Luhn check digit) for fictional companies.
# Tests that apply by hand use the first two; `active_company` takes the rest in turn.
PARTITE_IVA = ["01234560462", "02345670463", "03456780463", "07890120467", "08901230469", "09012340460", "10123450461"]


def application(partita_iva: str, email: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "legal_name": "Calzaturificio Le Pianacce S.r.l.",
        "partita_iva": partita_iva,
        "legal_form": "S.r.l.",
        "ateco_primary": "15.20.10",
        "ateco_secondary": ["15.20.20"],
        "employees": 23,
        "turnover_eur": 4_200_000,
        "comune": "Capannori",
        "frazione": "Segromigno in Monte",
        "capabilities": ["finished_shoes", "uppers"],
        "certifications": ["ISO 9001"],
        "export_markets": ["DE", "JP"],
        "languages": ["it", "en"],
        "interests": ["sustainability"],
        "description_it": "Calzature da donna in pelle, lavorazione a mano.",
        "description_en": "Handmade women's leather shoes.",
        "applicant": {
            "given_name": "Giulia",
            "family_name": "Bertolucci",
            "email": email,
            "password": APPLICANT_PASSWORD,
        },
    }
    body.update(overrides)
    return body


class MembersApi:
    """The members HTTP API as a client sees it, with the steps most tests need."""

    def __init__(self, client: httpx.AsyncClient, settings: MembersSettings, clock: MovableClock) -> None:
        self.client = client
        self.settings = settings
        self.clock = clock
        self._next_piva = iter(PARTITE_IVA[2:])

    async def token(self, email: str, password: str) -> dict[str, str]:
        response = await self.client.post(
            "/auth/token", data={"grant_type": "password", "username": email, "password": password}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def staff(self) -> dict[str, str]:
        return await self.token(ADMIN_EMAIL, ADMIN_PASSWORD)

    async def active_company(self, admin_email: str, **overrides: Any) -> tuple[dict[str, Any], dict[str, str]]:
        """A company that applied and was approved, with its admin's auth headers."""
        response = await self.client.post(
            "/companies/applications", json=application(next(self._next_piva), admin_email, **overrides)
        )
        assert response.status_code == 201, response.text
        company = response.json()
        approved = await self.client.post(f"/companies/{company['id']}/approve", headers=await self.staff())
        assert approved.status_code == 200, approved.text
        return approved.json(), await self.token(admin_email, APPLICANT_PASSWORD)


@pytest.fixture
async def members(database_url: str, kafka_bootstrap: str) -> AsyncIterator[MembersApi]:
    settings = MembersSettings(
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap,
        first_admin_email=ADMIN_EMAIL,
        first_admin_password=ADMIN_PASSWORD,
        outbox_poll_interval_seconds=0.5,
    )
    clock = MovableClock()
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://members") as client:
            yield MembersApi(client, settings, clock)
