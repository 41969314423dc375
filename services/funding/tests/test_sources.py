"""When a feed is due: read from its source's recorded runs and the time it is, never from the wall clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.funding.domain import ParsedRecord, Source
from services.funding.models import SourceState
from services.funding.sources import Feed

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


async def _nothing(_client: object) -> list[ParsedRecord]:
    return []


FEED = Feed(Source.EU_FUNDING_TENDERS, _nothing, poll_seconds=3600, retry_seconds=60)


def test_a_feed_never_read_is_due() -> None:
    assert FEED.due(None, NOW)
    assert FEED.due(SourceState(source=Source.EU_FUNDING_TENDERS), NOW)


def test_a_feed_read_successfully_is_due_again_after_its_poll_interval() -> None:
    read = SourceState(source=Source.EU_FUNDING_TENDERS, last_attempt_at=NOW - timedelta(minutes=59))
    assert not FEED.due(read, NOW)
    assert FEED.due(read, NOW + timedelta(minutes=1))


def test_a_feed_that_failed_is_tried_again_after_the_retry_interval() -> None:
    failed = SourceState(
        source=Source.EU_FUNDING_TENDERS, last_attempt_at=NOW - timedelta(seconds=59), consecutive_failures=1
    )
    assert not FEED.due(failed, NOW)
    assert FEED.due(failed, NOW + timedelta(seconds=1))
