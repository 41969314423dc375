"""Wiring of the funding service: `uvicorn --factory services.funding.app:create_app`, or `create_app(settings)`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI

from services.funding import commands, handlers, sources
from services.funding.api import ROUTERS
from services.funding.events import PUBLISHED_EVENTS
from services.funding.settings import FundingSettings
from shared.auth import KeySource
from shared.clock import Clock, utc_now
from shared.runtime import ServiceRuntime
from shared.unit_of_work import UnitOfWork

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(
    settings: FundingSettings | None = None, key_source: KeySource | None = None, clock: Clock = utc_now
) -> FastAPI:
    """`key_source` replaces the members service's JWKS (tests sign their own tokens); `clock` the time the
    service lives in (tests move it)."""
    settings = settings or FundingSettings()
    runtime = ServiceRuntime("funding", settings, MIGRATIONS, PUBLISHED_EVENTS, key_source=key_source, clock=clock)
    handlers.subscribe(runtime)
    feeds = sources.feeds(settings)

    for feed in feeds:

        async def read_if_due(feed: sources.Feed = feed) -> None:
            await sources.read_if_due(feed, runtime.unit_of_work, settings.source_timeout_seconds)

        runtime.every(settings.scheduler_interval_seconds, f"read-{feed.source}", read_if_due)

    async def calendar() -> None:
        await follow_the_calendar(runtime.unit_of_work)

    runtime.every(settings.scheduler_interval_seconds, "calendar", calendar)
    runtime.report_in_readyz("sources", lambda: sources.sources_report(runtime.unit_of_work))
    app = runtime.create_app(
        "Filiera — funding",
        "EU and Italian funding calls for the Capannori footwear district: read from the EU Funding & Tenders "
        "Portal and incentivi.gov.it or entered by staff, matched to member companies with reasons, saved "
        "searches and deadline reminders.",
        ROUTERS,
    )
    app.state.feeds = feeds
    return app


async def follow_the_calendar(unit_of_work: Callable[[], UnitOfWork]) -> None:
    """One pass of the calendar job: calls' statuses follow their dates, then the reminders that are due go out."""
    async with unit_of_work() as uow:
        await commands.refresh_statuses(uow)
    async with unit_of_work() as uow:
        await commands.send_reminders(uow)
