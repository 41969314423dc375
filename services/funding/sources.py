"""Watching the sources: each enabled feed is read when it is due, on one replica at a time.

Due means never read, or read successfully longer ago than its poll interval, or failed longer ago than the retry
interval: the times are in the database, so a restart or a new replica does not read the feed again early.

A run reads the whole feed, then ingests it in batches (one transaction each), so a run of thousands of calls
never holds one huge transaction, and running it again is harmless: unchanged calls publish nothing. A feed
that cannot be read leaves everything as it was; the failure is recorded, shown in /readyz and /sources and
in the metrics, and the next poll tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from prometheus_client import Counter, Gauge

from services.funding import store
from services.funding.commands import ingest
from services.funding.connectors import eu_funding_tenders, incentivi_gov_it
from services.funding.domain import ParsedRecord, Source
from services.funding.models import SourceState
from services.funding.settings import FundingSettings
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

BATCH = 500

SOURCE_UP = Gauge("filiera_funding_source_up", "1 if the source's last run succeeded", ["source"])
SOURCE_FAILURES = Gauge("filiera_funding_source_consecutive_failures", "Runs failed in a row", ["source"])
RECORDS = Counter("filiera_funding_records_total", "Records read from a source, by outcome", ["source", "outcome"])

Fetch = Callable[[httpx.AsyncClient], Awaitable[list[ParsedRecord]]]


@dataclass(frozen=True)
class Feed:
    source: Source
    fetch: Fetch
    poll_seconds: float
    retry_seconds: float
    # One run at a time per feed in this process: a staff-triggered run waits for the scheduled one.
    running: asyncio.Lock = field(default_factory=asyncio.Lock, compare=False)

    def due(self, state: SourceState | None, now: datetime) -> bool:
        if state is None or state.last_attempt_at is None:
            return True
        since = now - state.last_attempt_at
        wait = self.retry_seconds if state.consecutive_failures else self.poll_seconds
        return since >= timedelta(seconds=wait)


def feeds(settings: FundingSettings) -> list[Feed]:
    """The sources this deployment watches: those with an address."""
    enabled = []
    retry = settings.source_retry_minutes * 60
    if eu_url := settings.eu_search_url:
        enabled.append(
            Feed(
                Source.EU_FUNDING_TENDERS,
                lambda client: eu_funding_tenders.fetch_eu_calls(client, eu_url, text=settings.eu_search_text),
                settings.eu_poll_minutes * 60,
                retry,
            )
        )
    if incentivi_url := settings.incentivi_url:
        enabled.append(
            Feed(
                Source.INCENTIVI_GOV_IT,
                lambda client: incentivi_gov_it.fetch_incentivi(client, incentivi_url),
                settings.incentivi_poll_minutes * 60,
                retry,
            )
        )
    return enabled


async def read_if_due(feed: Feed, unit_of_work: Callable[[], UnitOfWork], timeout: float) -> None:
    async with unit_of_work() as uow:
        due = feed.due(await uow.session.get(SourceState, feed.source), uow.now())
    if due:
        with contextlib.suppress(SourceDown):  # recorded and reported; the next check retries it
            await run_feed(feed, unit_of_work, timeout)


async def run_feed(feed: Feed, unit_of_work: Callable[[], UnitOfWork], timeout: float) -> ingest.IngestReport:
    """Read the feed and ingest it; a feed that cannot be read is recorded as failed and changes nothing."""
    async with feed.running:
        return await _run(feed, unit_of_work, timeout)


async def _run(feed: Feed, unit_of_work: Callable[[], UnitOfWork], timeout: float) -> ingest.IngestReport:
    try:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=True) as client:
            records = await feed.fetch(client)
    except (httpx.HTTPError, ValueError) as error:
        log.warning("source %s could not be read: %s", feed.source, error)
        async with unit_of_work() as uow:
            await ingest.record_failure(uow, feed.source, f"{type(error).__name__}: {error}")
        SOURCE_UP.labels(feed.source).set(0)
        SOURCE_FAILURES.labels(feed.source).inc()
        raise SourceDown(feed.source, error) from error
    total = ingest.IngestReport()
    for start in range(0, len(records), BATCH):
        async with unit_of_work() as uow:
            total.add(await ingest.ingest(uow, feed.source, records[start : start + BATCH]))
    SOURCE_UP.labels(feed.source).set(1)
    SOURCE_FAILURES.labels(feed.source).set(0)
    RECORDS.labels(feed.source, "read").inc(total.records_read)
    RECORDS.labels(feed.source, "quarantined").inc(total.quarantined)
    log.info(
        "source %s: %d records, %d new calls, %d updated, %d quarantined",
        feed.source,
        total.records_read,
        len(total.published),
        len(total.updated),
        total.quarantined,
    )
    return total


class SourceDown(Exception):
    def __init__(self, source: Source, cause: Exception) -> None:
        super().__init__(f"{source} could not be read: {cause}")
        self.source = source


async def sources_report(unit_of_work: Callable[[], UnitOfWork]) -> dict[str, object]:
    """For /readyz: each source's last run, and the reason of its last failure."""
    async with unit_of_work() as uow:
        states = await store.source_states(uow.session)
    return {
        state.source: {
            "ok": state.consecutive_failures == 0,
            "last_success_at": state.last_success_at.isoformat() if state.last_success_at else None,
            "last_error": state.last_error,
            "consecutive_failures": state.consecutive_failures,
        }
        for state in states
    }
