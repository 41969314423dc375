"""Use cases of taking a source's records in: new calls published, changed ones updated with what changed,
unreadable ones quarantined, and how each run of a source went. Staff-entered calls come in the same way."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from services.funding import domain, store
from services.funding.commands import matches
from services.funding.domain import CallRecord, CallStatus, ParsedRecord, Quarantined, Source
from services.funding.events import CallPublished, CallSummary, CallUpdated
from services.funding.models import CallFields, FundingCall, QuarantinedRecord, SourceState
from shared.unit_of_work import UnitOfWork


@dataclass
class IngestReport:
    records_read: int = 0
    published: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    quarantined: int = 0

    def add(self, other: IngestReport) -> None:
        self.records_read += other.records_read
        self.published += other.published
        self.updated += other.updated
        self.quarantined += other.quarantined


async def ingest(uow: UnitOfWork, source: Source, records: list[ParsedRecord]) -> IngestReport:
    """Take one batch of a source's records: new calls are published, changed ones updated with what changed,
    unreadable ones quarantined; new and changed calls are matched and offered to saved searches. Running the
    same batch again changes nothing and publishes nothing."""
    now = uow.now()
    report = IngestReport(records_read=len(records))
    for record in records:
        if isinstance(record, Quarantined):
            await _quarantine(uow, record)
            report.quarantined += 1
    readable = domain.last_of_each(record for record in records if isinstance(record, CallRecord))
    known = await store.calls_by_external_id(uow.session, source, [record.external_id for record in readable])
    touched: list[FundingCall] = []
    for record in readable:
        values = call_values(record, now)
        if reason := _unstorable(values):
            await _quarantine(uow, _quarantined(record, reason))
            report.quarantined += 1
            continue
        if (call := known.get(record.external_id)) is None:
            call = FundingCall(source=source, external_id=record.external_id, created_at=now, updated_at=now, **values)
            uow.session.add(call)
            uow.publish(CallPublished(call_id=call.id, call=CallSummary.of(call)))
            report.published.append(call.id)
        elif changed := apply_changes(call, values, now):
            uow.publish(CallUpdated(call_id=call.id, call=CallSummary.of(call), changed=changed))
            report.updated.append(call.id)
        else:
            continue
        touched.append(call)
    await matches.match_calls(uow, touched)
    published = set(report.published)
    await matches.offer_to_saved_searches(uow, [call for call in touched if call.id in published])
    await _record_success(uow, source, report, now)
    await uow.commit()
    return report


def _unstorable(values: dict[str, Any]) -> str | None:
    """What breaks the rules every call keeps (lengths, links, codes, amounts), whichever source it came from."""
    try:
        CallFields.model_validate({name: values[name] for name in CallFields.model_fields})
    except ValidationError as error:
        first = error.errors()[0]
        return f"{'.'.join(str(part) for part in first['loc'])}: {first['msg']}"
    return None


def _quarantined(record: CallRecord, reason: str) -> Quarantined:
    raw = json.dumps(asdict(record), default=str, ensure_ascii=False)
    return Quarantined(record.source, record.external_id, reason, raw=raw)


def call_values(record: CallRecord, now: datetime) -> dict[str, Any]:
    """The stored fields of a call, as its source describes it."""
    deadlines = sorted(record.deadlines)
    return {
        "title_it": record.title_it,
        "title_en": record.title_en,
        "summary": record.summary,
        "description": record.description,
        "programme": record.programme,
        "opens_at": record.opens_at,
        "deadlines": deadlines,
        "budget_eur": record.budget_eur,
        "grant_min_eur": record.grant_min_eur,
        "grant_max_eur": record.grant_max_eur,
        "sizes": sorted(record.sizes),
        "regions": sorted(record.regions),
        "ateco_codes": list(record.ateco_codes),
        "keywords": list(record.keywords),
        "tags": list(record.tags),
        "url": record.url,
        "stated_status": record.status,
        "eligibility": domain.eligibility_keys(record.sizes, record.regions, record.ateco_codes),
        "search_text": domain.search_text(record),
        **dated_values(record.status, record.opens_at, tuple(deadlines), now),
    }


def dated_values(
    stated: CallStatus | None, opens_at: datetime | None, deadlines: tuple[datetime, ...], now: datetime
) -> dict[str, Any]:
    """The stored fields a call's dates decide, as they stand at `now`."""
    return {
        "status": domain.status_on(now, stated, opens_at, deadlines),
        "next_deadline": domain.next_deadline(now, deadlines),
    }


def apply_changes(call: FundingCall, values: dict[str, Any], now: datetime) -> list[str]:
    """Set what differs and return what is news (see domain.news)."""
    changed = [name for name, value in values.items() if getattr(call, name) != value]
    for name in changed:
        setattr(call, name, values[name])
    announced = domain.news(changed)
    if announced:
        call.updated_at = now
    return announced


async def _quarantine(uow: UnitOfWork, record: Quarantined) -> None:
    """Kept once per source, record and reason: a source that keeps sending the same bad record is not news."""
    if await store.quarantined_already(uow.session, record.source, record.external_id, record.reason):
        return
    uow.session.add(
        QuarantinedRecord(
            source=record.source,
            external_id=record.external_id,
            reason=record.reason,
            raw=record.raw,
            received_at=uow.now(),
        )
    )


async def _record_success(uow: UnitOfWork, source: Source, report: IngestReport, now: datetime) -> None:
    state = await _source_state(uow, source)
    state.last_attempt_at = state.last_success_at = now
    state.last_error = None
    state.consecutive_failures = 0
    state.records_read += report.records_read
    state.calls_published += len(report.published)
    state.calls_updated += len(report.updated)
    state.quarantined += report.quarantined


async def record_failure(uow: UnitOfWork, source: Source, error: str) -> None:
    state = await _source_state(uow, source)
    state.last_attempt_at = uow.now()
    state.last_error = error[:1000]
    state.consecutive_failures += 1
    await uow.commit()


async def _source_state(uow: UnitOfWork, source: Source) -> SourceState:
    if (state := await uow.session.get(SourceState, source)) is None:
        state = SourceState(source=source)
        uow.session.add(state)
    return state
