"""Funding: ingesting 10,000 calls, matching one new call against 10,000 companies, re-matching 10,000 calls
against 1,000 companies, and the memory it takes.

The data are made here, shaped like the district (most companies in ATECO 15.20, in Tuscany, small) and like the
feeds (most calls open to any sector, some to manufacturing or footwear, some to one region or size; keywords
from the feeds' own vocabulary). Ingest runs as the service runs it — `sources.run_feed` in batches of 500, each
a transaction that writes the calls, their outbox rows, their matches against the district's active companies
and a `funding.match.found` fact for each — on PostgreSQL. Matching is the service's `Matcher`, in process.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import resource
import shutil
import statistics
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bench.common import percentile, write_results
from deploy.local.postgres import PostgresCluster
from services.funding import sources
from services.funding.app import MIGRATIONS
from services.funding.domain import CallFacts, CallRecord, CompanyProfile, Matcher, SizeClass, Source, words
from services.funding.models import CallMatch, MemberCompany
from shared.db import create_engine, session_factory
from shared.membership import MembershipStatus
from shared.migrations import upgrade_to_head
from shared.unit_of_work import UnitOfWork

SEED = 20261125
# The network has 65 and more member companies: ingest is measured with room to grow.
DISTRICT = 100
FIXTURES = Path(__file__).resolve().parents[1] / "services" / "funding" / "tests" / "fixtures"
# What member companies say they care about (capabilities and interests, as members.companies.v1 carries them).
INTERESTS = [
    "finished_shoes",
    "soles",
    "uppers",
    "pattern_making",
    "leather_cutting",
    "components",
    "lasts",
    "heels",
    "stitching",
    "finishing",
    "digitalisation",
    "sustainability",
    "export",
    "training",
    "energy",
    "innovation",
    "research",
    "recycling",
    "design",
    "robotics",
    "ecommerce",
    "fairs",
    "marketing",
    "automation",
    "welfare",
    "skills",
    "logistics",
    "certification",
    "circular",
    "internationalisation",
    "startup",
    "investment",
    "leather",
    "fashion",
    "textile",
    "ict",
    "cybersecurity",
    "photovoltaic",
    "patents",
    "apprenticeship",
]
ATECO_COMPANIES = ["15.20.10"] * 6 + ["15.20.20"] * 2 + ["15.11.00", "14.19.10", "22.29.09", "46.42.20"]
ATECO_CALLS = ["15.20", "15", "13", "14", "22", "46.42", "55", "56", "90"]
REGIONS = ["Toscana"] * 8 + ["Veneto", "Marche", "Lombardia", "Emilia-Romagna", "Campania", "Puglia"]


def feed_vocabulary() -> list[str]:
    """The words the national catalogue's recorded calls use: what call titles and summaries are made of."""
    docs = json.loads((FIXTURES / "open-data-sample.json").read_text())["response"]["docs"]
    text = " ".join(f"{d['Titolo']} {d['Descrizione']} {' '.join(d.get('Obiettivo_Finalita', []))}" for d in docs)
    return sorted({word for word in words(text) if len(word) > 4})


def companies(count: int, rng: random.Random) -> list[CompanyProfile]:
    return [
        CompanyProfile(
            id=f"company-{n}",
            name=f"Calzaturificio {n}",
            active=True,
            size_class=rng.choices(list(SizeClass), weights=[4, 4, 2, 1])[0],
            region=rng.choice(REGIONS),
            ateco_codes=tuple(rng.sample(ATECO_COMPANIES, rng.randint(1, 2))),
            interests=tuple(rng.sample(INTERESTS, rng.randint(2, 4))),
        )
        for n in range(count)
    ]


def calls(count: int, rng: random.Random, vocabulary: list[str]) -> list[CallRecord]:
    now = datetime.now(UTC)
    made = []
    for n in range(count):
        limited_sector = rng.random() < 0.3
        topics = rng.sample(INTERESTS, rng.randint(0, 2))
        made.append(
            CallRecord(
                source=Source.INCENTIVI_GOV_IT,
                external_id=f"bench-{n}",
                title_it=f"Bando {n}: {' '.join(rng.sample(vocabulary, 5))}",
                summary=f"Contributi per {' e '.join(rng.sample(vocabulary, 4))}.",
                description="Cos'è. A chi si rivolge. Cosa prevede. " * 20,
                programme=rng.choice(["Regione Toscana", "MIMIT", "Camera di Commercio di Lucca", "Invitalia"]),
                opens_at=now - timedelta(days=rng.randint(0, 60)),
                deadlines=tuple(sorted(now + timedelta(days=rng.randint(5, 400)) for _ in range(rng.randint(1, 2)))),
                budget_eur=rng.randint(1, 500) * 100_000,
                grant_max_eur=rng.randint(1, 100) * 10_000,
                sizes=frozenset(rng.sample(list(SizeClass), rng.randint(2, 3))) if rng.random() < 0.4 else frozenset(),
                regions=frozenset(rng.sample(REGIONS, 2)) if rng.random() < 0.3 else frozenset(),
                ateco_codes=tuple(rng.sample(ATECO_CALLS, rng.randint(1, 3))) if limited_sector else (),
                keywords=tuple(topics),
                tags=tuple(rng.sample(vocabulary, 2)),
                url=f"https://www.incentivi.gov.it/it/catalogo/bench-{n}",
            )
        )
    return made


def facts_of(records: list[CallRecord]) -> list[CallFacts]:
    return [CallFacts.of(record.external_id, record) for record in records]


def one_call_against(company_count: int, rng: random.Random) -> dict[str, Any]:
    """A new call matched against every company: the Matcher is built once per run, as ingest builds it."""
    population = companies(company_count, rng)
    started = time.perf_counter()
    matcher = Matcher(population)
    built_ms = (time.perf_counter() - started) * 1000
    timings, found = [], []
    for facts in facts_of(calls(300, rng, feed_vocabulary())):
        started = time.perf_counter()
        found.append(len(matcher.matches(facts)))
        timings.append((time.perf_counter() - started) * 1000)
    return {
        "companies": company_count,
        "matcher_build_ms": round(built_ms, 1),
        "match_one_call_ms": {
            "p50": round(percentile(timings, 50), 2),
            "p99": round(percentile(timings, 99), 2),
            "max": round(max(timings), 2),
        },
        "companies_matched_per_call": {"mean": round(statistics.mean(found), 1), "max": max(found)},
        "target_ms": 100,
    }


def full_rematch(call_count: int, company_count: int, rng: random.Random) -> dict[str, Any]:
    """Time to score every call against every company; memory for the profiles, the calls' facts, the index
    and one call's matches at a time (as ingest holds them), measured by tracemalloc."""
    vocabulary = feed_vocabulary()
    tracemalloc.start()
    population = companies(company_count, rng)
    all_facts = facts_of(calls(call_count, rng, vocabulary))
    started = time.perf_counter()
    matcher = Matcher(population)
    pairs = sum(len(matcher.matches(facts)) for facts in all_facts)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "calls": call_count,
        "companies": company_count,
        "seconds": round(seconds, 2),
        "matches": pairs,
        "peak_mb": round(peak / 2**20, 1),
        "target_s": 60,
    }


async def ingest(database_url: str, call_count: int, company_count: int, rng: random.Random) -> dict[str, Any]:
    await asyncio.to_thread(upgrade_to_head, MIGRATIONS, database_url)
    engine = create_engine(database_url)
    sessions = session_factory(engine)

    def unit_of_work() -> UnitOfWork:
        return UnitOfWork(sessions, "/filiera/funding", lambda: None)  # the relay is not what is measured here

    async with sessions() as session:
        for profile in companies(company_count, rng):
            session.add(
                MemberCompany(
                    id=profile.id,
                    legal_name=profile.name,
                    status=MembershipStatus.ACTIVE,
                    size_class=profile.size_class,
                    region=profile.region,
                    ateco_codes=list(profile.ateco_codes),
                    interests=list(profile.interests),
                )
            )
        await session.commit()
    records = calls(call_count, rng, feed_vocabulary())

    async def fetch(_client: Any) -> list[Any]:
        return records

    feed = sources.Feed(Source.INCENTIVI_GOV_IT, fetch, poll_seconds=3600, retry_seconds=60)
    started = time.perf_counter()
    report = await sources.run_feed(feed, unit_of_work, timeout=60)
    first = time.perf_counter() - started
    started = time.perf_counter()
    again = await sources.run_feed(feed, unit_of_work, timeout=60)  # the next poll: nothing changed
    second = time.perf_counter() - started
    matches_written = await count_matches(sessions)
    await engine.dispose()
    return {
        "calls": call_count,
        "active_companies": company_count,
        "seconds": round(first, 1),
        "calls_per_second": round(call_count / first, 1),
        "published": len(report.published),
        "matches_written": matches_written,
        "unchanged_rerun_seconds": round(second, 1),
        "rerun_published": len(again.published),
    }


async def count_matches(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        matches: int = (await session.exec(select(func.count()).select_from(CallMatch))).one()
        return matches


def main() -> None:
    rng = random.Random(SEED)
    work = Path(tempfile.mkdtemp(prefix="filiera-bench-funding-"))
    postgres = PostgresCluster(work / "pg")
    print("==> starting PostgreSQL", flush=True)
    postgres.start()
    try:
        print(f"==> ingesting 10,000 calls with {DISTRICT} active companies (PostgreSQL)", flush=True)
        ingested = asyncio.run(ingest(postgres.create_database("funding"), 10_000, DISTRICT, rng))
    finally:
        postgres.stop()
        shutil.rmtree(work, ignore_errors=True)
    print("==> matching new calls against 10,000 companies", flush=True)
    one_call = one_call_against(10_000, rng)
    print("==> re-matching 10,000 calls against 1,000 companies", flush=True)
    rematch = full_rematch(10_000, 1_000, rng)
    write_results(
        "funding_matching",
        {
            "ingest": ingested,
            "match_one_call": one_call,
            "full_rematch": rematch,
            "process_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "machine": f"{os.cpu_count()} cores, PostgreSQL {postgres.bin.parent.name}",
        },
    )


if __name__ == "__main__":
    main()
