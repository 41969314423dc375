"""The district the system benchmark seeds through the gateway: 150 companies of the district's trades, applying and
approved, each with 4 people (its admin first); the first 10 are the watched companies, each with two words among
its interests that no other has. And the logins of its people."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from bench.common import partita_iva
from bench.local_platform import STAFF, LocalPlatform
from services.members.domain import Capability

SEED = 20261125
COMPANIES = 150
PEOPLE_PER_COMPANY = 4
PEOPLE = COMPANIES * PEOPLE_PER_COMPANY
WATCHED = 10
PASSWORD = "bench-password-2026"
SEEDING_CONCURRENCY = 4

T = TypeVar("T")

# What the district's companies make: name, ATECO code, capabilities, description (it, en), weight.
TRADES = [
    (
        "Calzaturificio",
        "15.20.10",
        [Capability.FINISHED_SHOES, Capability.DESIGN, Capability.PROTOTYPING],
        "calzature da donna e da uomo in pelle",
        "women's and men's leather shoes",
        10,
    ),
    (
        "Suolificio",
        "15.20.20",
        [Capability.SOLES],
        "suole in cuoio, gomma e microporosa",
        "leather and rubber soles",
        3,
    ),
    (
        "Tomaificio",
        "15.20.20",
        [Capability.UPPERS, Capability.STITCHING],
        "tomaie cucite a mano",
        "hand-stitched uppers",
        3,
    ),
    (
        "Modelleria",
        "15.20.10",
        [Capability.PATTERN_MAKING, Capability.PROTOTYPING],
        "modelli e campionari",
        "patterns and sample collections",
        2,
    ),
    (
        "Conceria",
        "15.11.00",
        [Capability.LEATHER_CUTTING, Capability.FINISHING],
        "pellami per calzature",
        "leather for footwear",
        1,
    ),
    (
        "Formificio",
        "22.29.09",
        [Capability.LASTS, Capability.HEELS],
        "forme e tacchi in plastica",
        "plastic lasts and heels",
        1,
    ),
]
SURNAMES = [
    "Bertolucci",
    "Lazzarini",
    "Pardini",
    "Giannini",
    "Francesconi",
    "Del Carlo",
    "Nottoli",
    "Matteucci",
    "Orsi",
    "Pieretti",
    "Lucchesi",
    "Martinelli",
    "Baroni",
    "Puccinelli",
    "Marchetti",
]
FRAZIONI = ["Lunata", "Lammari", "Marlia", "Segromigno in Monte", "Camigliano", "Colle di Compito", "Tassignano"]
MARKETS = ["DE", "FR", "US", "JP", "GB", "CH", "NL", "KR"]
INTERESTS = ["sostenibilità", "digitalizzazione", "export", "formazione", "energia", "innovazione", "fiere"]
CERTIFICATIONS = ["ISO 9001", "ISO 14001", "SA8000"]


def probe_words(company: int) -> list[str]:
    """Two words among a watched company's interests that no other company has: a call naming them matches it
    alone (two keywords make the 30 points of a match), so a measured alert is one company's, not a fan-out's."""
    return [f"sonda{company:02d}", f"misura{company:02d}"]


def application(n: int, rng: random.Random) -> dict[str, Any]:
    name, ateco, capabilities, about_it, about_en, _ = (
        TRADES[0] if n < WATCHED else rng.choices(TRADES, weights=[trade[-1] for trade in TRADES])[0]
    )
    frazione, employees = rng.choice(FRAZIONI), rng.choice([4, 9, 18, 35, 60, 120])
    interests = rng.sample(INTERESTS, 2) + ([" ".join(probe_words(n))] if n < WATCHED else [])
    return {
        "legal_name": f"{name} {rng.choice(SURNAMES)} {n} S.r.l.",
        "partita_iva": partita_iva(n + 1),
        "ateco_primary": ateco,
        "employees": employees,
        "turnover_eur": employees * 150_000,
        "frazione": frazione,
        "capabilities": capabilities,
        "export_markets": rng.sample(MARKETS, 3),
        "certifications": rng.sample(CERTIFICATIONS, rng.randint(0, 2)),
        "languages": ["it", "en"],
        "interests": interests,
        "description_it": f"{name} a {frazione}, Capannori: {about_it}.",
        "description_en": f"{name} in {frazione}, Capannori: {about_en}.",
        "applicant": {"given_name": "Titolare", "family_name": str(n), "email": email(n, 0), "password": PASSWORD},
    }


def email(company: int, person: int) -> str:
    return f"persona{person}.azienda{company}@example.com"


@dataclass
class District:
    emails: list[str]  # everyone's, company by company, each company's admin first

    def admin_of(self, company: int) -> str:
        return self.emails[company * PEOPLE_PER_COMPANY]


async def bounded(work: Iterable[Awaitable[T]], limit: int) -> list[T]:
    """Awaits `work` with at most `limit` in flight."""
    gate = asyncio.Semaphore(limit)

    async def one(step: Awaitable[T]) -> T:
        async with gate:
            return await step

    return await asyncio.gather(*(one(step) for step in work))


async def login(members_url: str, username: str, password: str = PASSWORD) -> str:
    async with httpx.AsyncClient(base_url=members_url, timeout=60) as client:
        answer = await client.post(
            "/auth/token", data={"grant_type": "password", "username": username, "password": password}
        )
        answer.raise_for_status()
        return str(answer.json()["access_token"])


async def log_in_all(platform: LocalPlatform, emails: list[str]) -> list[str]:
    members = platform.services["members"].url
    return await bounded((login(members, address) for address in emails), SEEDING_CONCURRENCY)


async def staff_headers(platform: LocalPlatform) -> dict[str, str]:
    return {"Authorization": f"Bearer {await login(platform.services['members'].url, *STAFF)}"}


async def seed(platform: LocalPlatform, client: httpx.AsyncClient) -> District:
    rng = random.Random(SEED)
    staff = await staff_headers(platform)

    async def join(data: dict[str, Any]) -> str:
        answer = await client.post("/api/members/companies/applications", json=data)
        answer.raise_for_status()
        company_id = str(answer.json()["id"])
        (await client.post(f"/api/members/companies/{company_id}/approve", headers=staff)).raise_for_status()
        return company_id

    async def add_colleague(company: int, company_id: str, person: int) -> None:
        (
            await client.post(
                f"/api/members/companies/{company_id}/people",
                headers=staff,
                json={
                    "given_name": f"Persona{person}",
                    "family_name": str(company),
                    "email": email(company, person),
                    "password": PASSWORD,
                    "language": "en" if person == 3 else "it",
                },
            )
        ).raise_for_status()

    print(f"==> seeding through the gateway: {COMPANIES} companies applying and approved", flush=True)
    applications = [application(n, rng) for n in range(COMPANIES)]
    company_ids = await bounded((join(data) for data in applications), SEEDING_CONCURRENCY)
    print(f"==> seeding: {PEOPLE - COMPANIES} colleagues", flush=True)
    await bounded(
        (
            add_colleague(n, company_id, person)
            for n, company_id in enumerate(company_ids)
            for person in range(1, PEOPLE_PER_COMPANY)
        ),
        SEEDING_CONCURRENCY,
    )
    return District([email(n, person) for n in range(COMPANIES) for person in range(PEOPLE_PER_COMPANY)])
