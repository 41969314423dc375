"""What the connectors' tests read of parsed records: the calls, the quarantined, and their times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from services.funding.domain import CallRecord, ParsedRecord, Quarantined

FIXTURES = Path(__file__).parent / "fixtures"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def calls(records: list[ParsedRecord]) -> dict[str, CallRecord]:
    return {record.external_id: record for record in records if isinstance(record, CallRecord)}


def quarantined(records: list[ParsedRecord]) -> list[Quarantined]:
    return [record for record in records if isinstance(record, Quarantined)]


def one_call(records: list[ParsedRecord]) -> CallRecord:
    """The only record parsed, which must be a call."""
    [record] = records
    assert isinstance(record, CallRecord), record
    return record


def assert_all_datetimes_utc(records: list[CallRecord]) -> None:
    for record in records:
        for moment in (record.opens_at, *record.deadlines):
            if moment is not None:
                assert moment.utcoffset() == timedelta(0), record.external_id
