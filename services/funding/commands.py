"""Use cases of the funding service: each loads what it needs, applies the domain's rules, records the facts it
publishes, and commits once (handlers' commands leave the commit to the idempotent consumer)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from services.funding import domain, store
from services.funding.domain import CallRecord, CallStatus, Matcher, Quarantined, Source
from services.funding.events import (
    CallClosingSoon,
    CallPublished,
    CallSummary,
    CallUpdated,
    MatchFound,
    MatchUpdated,
    MatchWithdrawn,
    SearchMatched,
)
from services.funding.models import (
    CallCreate,
    CallFields,
    CallMatch,
    CallUpdate,
    CompanyFact,
    FundingCall,
    MemberCompany,
    QuarantinedRecord,
    ReminderSent,
    SavedSearch,
    SavedSearchCreate,
    SearchHit,
    SourceState,
)
from shared.auth import Principal
from shared.clock import utc_now
from shared.errors import Conflict, DomainError, Forbidden, NotFound
from shared.ids import new_id
from shared.unit_of_work import UnitOfWork

# Lead times of the closing-soon reminders, in days before each deadline.
REMINDER_DAYS = (14, 3)


def call_summary(call: FundingCall) -> CallSummary:
    return CallSummary.model_validate(call, from_attributes=True)


# ---- ingesting calls from a source -----------------------------------------------------------------------------


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


async def ingest(uow: UnitOfWork, source: Source, records: list[domain.ParsedRecord]) -> IngestReport:
    """Take one batch of a source's records: new calls are published, changed ones updated with what changed,
    unreadable ones quarantined; new and changed calls are matched and offered to saved searches. Running the
    same batch again changes nothing and publishes nothing."""
    now = utc_now()
    report = IngestReport(records_read=len(records))
    readable = [record for record in records if isinstance(record, CallRecord)]
    for record in records:
        if isinstance(record, Quarantined):
            await _quarantine(uow, record)
            report.quarantined += 1
    known = await store.calls_by_external_id(uow.session, source, [record.external_id for record in readable])
    touched: list[FundingCall] = []
    for record in _last_of_each(readable):
        values = call_values(record, now)
        if reason := _unstorable(values):
            await _quarantine(
                uow,
                Quarantined(
                    source, record.external_id, reason, raw=json.dumps(asdict(record), default=str, ensure_ascii=False)
                ),
            )
            report.quarantined += 1
            continue
        if (call := known.get(record.external_id)) is None:
            call = FundingCall(source=source, external_id=record.external_id, **values)
            uow.session.add(call)
            uow.publish(CallPublished(call_id=call.id, call=call_summary(call)))
            report.published.append(call.id)
        elif changed := _apply(call, values, now):
            uow.publish(CallUpdated(call_id=call.id, call=call_summary(call), changed=changed))
            report.updated.append(call.id)
        else:
            continue
        touched.append(call)
    await _match_calls(uow, touched)
    await _offer_to_saved_searches(uow, [call for call in touched if call.id in set(report.published)])
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


def _last_of_each(records: list[CallRecord]) -> list[CallRecord]:
    """A source that lists one call twice in a run is taken at its last word."""
    return list({record.external_id: record for record in records}.values())


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
        "search_text": domain.fold(
            " ".join(
                [
                    record.title_it or "",
                    record.title_en or "",
                    record.summary,
                    record.programme or "",
                    record.external_id,
                    *record.keywords,
                    *record.tags,
                ]
            )
        ),
        **_derived(record.status, record.opens_at, tuple(deadlines), now),
    }


def _derived(
    stated: CallStatus | None, opens_at: datetime | None, deadlines: tuple[datetime, ...], now: datetime
) -> dict[str, Any]:
    return {
        "status": domain.status_on(now, stated, opens_at, deadlines),
        "next_deadline": domain.next_deadline(now, deadlines),
    }


# Stored for queries, derived from what is announced: changes to them are not news of their own.
_DERIVED = {"next_deadline", "stated_status", "eligibility", "search_text"}


def _apply(call: FundingCall, values: dict[str, Any], now: datetime) -> list[str]:
    """Set what differs and name what is news (`next_deadline` moves with time alone)."""
    changed = sorted(name for name, value in values.items() if getattr(call, name) != value)
    for name in changed:
        setattr(call, name, values[name])
    announced = [name for name in changed if name not in _DERIVED]
    if announced:
        call.updated_at = now
    return announced


async def _quarantine(uow: UnitOfWork, record: Quarantined) -> None:
    """Kept once per source, record and reason: a source that keeps sending the same bad record is not news."""
    if await store.quarantined_already(uow.session, record.source, record.external_id, record.reason):
        return
    uow.session.add(
        QuarantinedRecord(source=record.source, external_id=record.external_id, reason=record.reason, raw=record.raw)
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
    state.last_attempt_at = utc_now()
    state.last_error = error[:1000]
    state.consecutive_failures += 1
    await uow.commit()


async def _source_state(uow: UnitOfWork, source: Source) -> SourceState:
    if (state := await uow.session.get(SourceState, source)) is None:
        state = SourceState(source=source)
        uow.session.add(state)
    return state


# ---- calls entered by staff ------------------------------------------------------------------------------------


def _ensure_staff(actor: Principal) -> None:
    if not actor.is_staff:
        raise Forbidden("only the network's staff may enter or edit calls")


async def create_call(uow: UnitOfWork, data: CallCreate, actor: Principal) -> FundingCall:
    _ensure_staff(actor)
    report = await ingest(uow, Source.STAFF, [_staff_record(data, external_id=new_id())])
    return await store.get_call(uow.session, report.published[0])


async def update_call(uow: UnitOfWork, call_id: str, update: CallUpdate, actor: Principal) -> FundingCall:
    """Staff edit the calls they entered; the feeds' calls follow their source."""
    _ensure_staff(actor)
    call = await store.get_call(uow.session, call_id)
    if call.source != Source.STAFF:
        raise Conflict(f"this call comes from {call.source} and follows it; only staff-entered calls are edited here")
    current = call.model_dump(include=set(CallFields.model_fields)) | {"status": call.stated_status}
    try:  # the call as it would be, checked whole again
        edited = CallCreate.model_validate(current | update.model_dump(exclude_unset=True))
    except ValidationError as error:
        raise DomainError("; ".join(e["msg"].removeprefix("Value error, ") for e in error.errors())) from error
    now = utc_now()
    if changed := _apply(call, call_values(_staff_record(edited, call.external_id), now), now):
        uow.publish(CallUpdated(call_id=call.id, call=call_summary(call), changed=changed))
        await _match_calls(uow, [call])
        await uow.commit()
    return call


def _staff_record(data: CallCreate, external_id: str) -> CallRecord:
    fields = data.model_dump(exclude={"status", "deadlines", "sizes", "regions", "ateco_codes", "keywords", "tags"})
    return CallRecord(
        source=Source.STAFF,
        external_id=external_id,
        status=data.status,
        deadlines=tuple(data.deadlines),
        sizes=frozenset(data.sizes),
        regions=frozenset(data.regions),
        ateco_codes=tuple(data.ateco_codes),
        keywords=tuple(data.keywords),
        tags=tuple(data.tags),
        **fields,
    )


# ---- matching --------------------------------------------------------------------------------------------------


def company_profile(company: MemberCompany) -> domain.CompanyProfile:
    return domain.CompanyProfile(
        id=company.id,
        name=company.legal_name,
        active=company.status == domain.ACTIVE_MEMBERSHIP,
        size_class=company.size_class,
        region=company.region,
        ateco_codes=tuple(company.ateco_codes),
        interests=tuple(company.interests),
    )


def call_facts(call: FundingCall) -> domain.CallFacts:
    return domain.CallFacts.of(
        call.id,
        domain.CallRecord(
            source=call.source,
            external_id=call.external_id,
            title_it=call.title_it,
            title_en=call.title_en,
            summary=call.summary,
            sizes=frozenset(call.sizes),
            regions=frozenset(call.regions),
            ateco_codes=tuple(call.ateco_codes),
            keywords=tuple(call.keywords),
            tags=tuple(call.tags),
        ),
    )


async def _match_calls(uow: UnitOfWork, calls: list[FundingCall]) -> None:
    """Match new and changed calls against every active company, announcing what is new, changed or gone."""
    matchable = [call for call in calls if call.status in domain.MATCHABLE]
    if not matchable:
        return
    matcher = Matcher([company_profile(c) for c in await store.active_companies(uow.session)])
    stored = await store.matches_of_calls(uow.session, [call.id for call in matchable])
    for call in matchable:
        found = matcher.matches(call_facts(call))
        _settle_matches(uow, call, found, {m.company_id: m for m in stored.get(call.id, [])})


async def _match_company(uow: UnitOfWork, company: MemberCompany) -> None:
    """Match a new or changed company against every open or forthcoming call."""
    profile = company_profile(company)
    stored = await store.matches_of_company(uow.session, company.id)
    for call in await store.matchable_calls(uow.session):
        result = domain.match(call_facts(call), profile)
        _settle_one(uow, call, company.id, result, stored.get(call.id))
    # Calls that closed keep their matches as history; those still open and no longer fitting are withdrawn above.


def _settle_matches(
    uow: UnitOfWork, call: FundingCall, found: dict[str, domain.Match], stored: dict[str, CallMatch]
) -> None:
    for company_id in found.keys() | stored.keys():
        _settle_one(uow, call, company_id, found.get(company_id), stored.get(company_id))


def _settle_one(
    uow: UnitOfWork, call: FundingCall, company_id: str, result: domain.Match | None, known: CallMatch | None
) -> None:
    """Compare one (call, company) match with what was announced before, and announce the difference once."""
    now = utc_now()
    if result is None:
        if known is not None and known.active:
            known.active, known.updated_at = False, now
            uow.publish(
                MatchWithdrawn(
                    call_id=call.id,
                    company_id=company_id,
                    score=0,
                    reasons=["no longer fits the call's conditions or the company's profile"],
                    call=call_summary(call),
                )
            )
        return
    reasons = list(result.reasons)
    if known is None:
        uow.session.add(CallMatch(call_id=call.id, company_id=company_id, score=result.score, reasons=reasons))
        uow.publish(
            MatchFound(
                call_id=call.id, company_id=company_id, score=result.score, reasons=reasons, call=call_summary(call)
            )
        )
    elif not known.active or known.score != result.score or known.reasons != reasons:
        previous = known.score if known.active else 0
        known.active, known.score, known.reasons, known.updated_at = True, result.score, reasons, now
        uow.publish(
            MatchUpdated(
                call_id=call.id,
                company_id=company_id,
                score=result.score,
                reasons=reasons,
                previous_score=previous,
                call=call_summary(call),
            )
        )


# ---- member companies (from members.companies.v1) --------------------------------------------------------------


async def remember_company(uow: UnitOfWork, company: CompanyFact) -> None:
    """Keep the copy of a member company that matching reads, and match it again when what matters changed."""
    values = {
        "legal_name": company.legal_name,
        "status": company.status,
        "size_class": company.size_class,
        "region": domain.canonical_region(company.region or ""),
        "ateco_codes": [company.ateco_primary, *company.ateco_secondary],
        "interests": [*company.capabilities, *company.interests, *company.certifications, *company.export_markets],
    }
    known = await uow.session.get(MemberCompany, company.id)
    if known is None:
        known = MemberCompany(id=company.id, **values)
        uow.session.add(known)
    elif all(getattr(known, name) == value for name, value in values.items()):
        return
    else:
        for name, value in values.items():
            setattr(known, name, value)
        known.updated_at = utc_now()
    await _match_company(uow, known)


# ---- saved searches --------------------------------------------------------------------------------------------


async def save_search(uow: UnitOfWork, data: SavedSearchCreate, actor: Principal) -> SavedSearch:
    if actor.kind != "person":
        raise Forbidden("searches are saved by people, to be told about new calls")
    search = SavedSearch(**data.model_dump(), person_id=actor.subject, company_id=actor.company_id)
    uow.session.add(search)
    await uow.commit()
    return search


async def delete_search(uow: UnitOfWork, search_id: str, actor: Principal) -> None:
    search = await store.get_search(uow.session, search_id)
    if search.person_id != actor.subject and not actor.is_staff:
        raise NotFound(f"no saved search with id {search_id}")
    await store.delete_searches(uow.session, [search])
    await uow.commit()


async def _offer_to_saved_searches(uow: UnitOfWork, new_calls: list[FundingCall]) -> None:
    if not new_calls:
        return
    by_id = {call.id: call for call in new_calls}
    await uow.session.flush()  # the search below reads the new calls
    for search in await store.all_searches(uow.session):
        for call_id in sorted(await store.fitting_calls(uow.session, search, list(by_id))):
            uow.session.add(SearchHit(search_id=search.id, call_id=call_id))
            uow.publish(
                SearchMatched(
                    search_id=search.id,
                    search_name=search.name,
                    person_id=search.person_id,
                    call=call_summary(by_id[call_id]),
                )
            )


async def forget_person(uow: UnitOfWork, person_id: str) -> None:
    """GDPR erasure: the person's saved searches go; nothing else here says who they are."""
    await store.delete_searches(uow.session, await store.searches_of(uow.session, person_id))


# ---- time passing ----------------------------------------------------------------------------------------------


async def refresh_statuses(uow: UnitOfWork) -> int:
    """Calls whose dates say they opened or closed since: announce it, and match those that opened."""
    now = utc_now()
    moved = []
    for call in await store.calls_due_for_status_check(uow.session, now):
        if changed := _apply(call, _derived(call.stated_status, call.opens_at, tuple(call.deadlines), now), now):
            uow.publish(CallUpdated(call_id=call.id, call=call_summary(call), changed=changed))
            moved.append(call)
    await _match_calls(uow, moved)
    await uow.commit()
    return len(moved)


async def send_reminders(uow: UnitOfWork, leads_in_days: tuple[int, ...] = REMINDER_DAYS) -> int:
    """`funding.call.closing_soon` before each deadline of an open call, once per deadline and lead time, naming
    the companies the call matches. Marked sent in the transaction that announces it, so a restart or a second
    replica never sends it twice."""
    now = utc_now()
    sent = 0
    for call in await store.calls_with_deadline_before(uow.session, now + timedelta(days=max(leads_in_days))):
        for deadline in call.deadlines:
            lead = domain.reminder_due(now, deadline, leads_in_days)
            if lead is None or await store.reminder_sent(uow.session, call.id, deadline, lead):
                continue
            uow.session.add(ReminderSent(call_id=call.id, deadline=deadline, days_before=lead))
            if company_ids := await store.matched_companies(uow.session, call.id):
                uow.publish(
                    CallClosingSoon(
                        call_id=call.id,
                        call=call_summary(call),
                        deadline=deadline,
                        days_before=lead,
                        company_ids=company_ids,
                    )
                )
                sent += 1
    await uow.commit()
    return sent
