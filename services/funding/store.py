"""Queries over the funding database. Writes go through the use cases (`commands/`), inside a
unit of work."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, not_, or_
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.funding import domain
from services.funding.classifications import ateco_prefixes
from services.funding.domain import CallStatus, Source
from services.funding.models import (
    CallMatch,
    FundingCall,
    MemberCompany,
    QuarantinedRecord,
    ReminderSent,
    SavedSearch,
    SearchCriteria,
    SearchHit,
    SourceState,
)
from shared.errors import NotFound
from shared.membership import MembershipStatus


async def get_call(session: AsyncSession, call_id: str) -> FundingCall:
    call = await session.get(FundingCall, call_id)
    if call is None:
        raise NotFound(f"no funding call with id {call_id}")
    return call


async def calls_by_external_id(
    session: AsyncSession, source: Source, external_ids: list[str]
) -> dict[str, FundingCall]:
    if not external_ids:
        return {}
    query = select(FundingCall).where(FundingCall.source == source, col(FundingCall.external_id).in_(external_ids))
    return {call.external_id: call for call in (await session.exec(query)).all()}


async def matchable_calls(session: AsyncSession) -> list[FundingCall]:
    return list((await session.exec(select(FundingCall).where(col(FundingCall.status).in_(domain.MATCHABLE)))).all())


async def calls_due_for_status_check(session: AsyncSession, now: datetime) -> list[FundingCall]:
    """Calls whose dates may have moved them on: a deadline passed, or a forthcoming call's opening came."""
    query = select(FundingCall).where(
        or_(
            col(FundingCall.next_deadline) <= now,
            and_(col(FundingCall.status) == CallStatus.FORTHCOMING, col(FundingCall.opens_at) <= now),
        )
    )
    return list((await session.exec(query)).all())


async def calls_with_deadline_before(session: AsyncSession, moment: datetime) -> list[FundingCall]:
    query = select(FundingCall).where(
        col(FundingCall.status).in_(domain.MATCHABLE), col(FundingCall.next_deadline) <= moment
    )
    return list((await session.exec(query)).all())


def criteria_filters(criteria: SearchCriteria) -> list[ColumnElement[bool]]:
    """The search's criteria as SQL conditions; a call without a limit on size, region or ATECO fits any value."""
    conditions: list[ColumnElement[bool]] = []
    for word in sorted(domain.words(criteria.text or "")):
        conditions.append(col(FundingCall.search_text).contains(word, autoescape=True))
    if criteria.status:
        conditions.append(col(FundingCall.status).in_(criteria.status))
    if criteria.programme:
        conditions.append(func.lower(col(FundingCall.programme)).contains(criteria.programme.lower(), autoescape=True))
    limits = col(FundingCall.eligibility)
    if criteria.region:
        conditions.append(or_(not_(limits.contains("|region:")), limits.contains(f"|region:{criteria.region}|")))
    if criteria.size:
        conditions.append(or_(not_(limits.contains("|size:")), limits.contains(f"|size:{criteria.size}|")))
    if criteria.ateco:
        conditions.append(
            or_(
                not_(limits.contains("|ateco:")),
                *(limits.contains(f"|ateco:{p}|") for p in ateco_prefixes(criteria.ateco)),
            )
        )
    if criteria.deadline_after:
        conditions.append(col(FundingCall.next_deadline) >= criteria.deadline_after)
    if criteria.deadline_before:
        conditions.append(col(FundingCall.next_deadline) <= criteria.deadline_before)
    return conditions


async def search_calls(
    session: AsyncSession, criteria: SearchCriteria, source: Source | None, page: int, page_size: int
) -> tuple[list[FundingCall], int]:
    """Calls that fit, soonest deadline first (calls without a deadline last), and how many fit in all."""
    conditions = criteria_filters(criteria)
    if source is not None:
        conditions.append(col(FundingCall.source) == source)
    total = (await session.exec(select(func.count()).select_from(FundingCall).where(*conditions))).one()
    query = (
        select(FundingCall)
        .where(*conditions)
        .order_by(col(FundingCall.next_deadline).is_(None), col(FundingCall.next_deadline), col(FundingCall.id))
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return list((await session.exec(query)).all()), total


async def fitting_calls(session: AsyncSession, criteria: SearchCriteria, call_ids: list[str]) -> set[str]:
    """Which of these calls a saved search would find: the same criteria as the search API."""
    query = select(FundingCall.id).where(col(FundingCall.id).in_(call_ids), *criteria_filters(criteria))
    return set((await session.exec(query)).all())


async def active_companies(session: AsyncSession) -> list[MemberCompany]:
    return list(
        (await session.exec(select(MemberCompany).where(MemberCompany.status == MembershipStatus.ACTIVE))).all()
    )


async def matches_of_calls(session: AsyncSession, call_ids: list[str]) -> dict[str, list[CallMatch]]:
    found: dict[str, list[CallMatch]] = {}
    for start in range(0, len(call_ids), 500):  # bounded IN lists
        query = select(CallMatch).where(col(CallMatch.call_id).in_(call_ids[start : start + 500]))
        for match in (await session.exec(query)).all():
            found.setdefault(match.call_id, []).append(match)
    return found


async def matches_of_company(session: AsyncSession, company_id: str) -> dict[str, CallMatch]:
    query = select(CallMatch).where(CallMatch.company_id == company_id)
    return {match.call_id: match for match in (await session.exec(query)).all()}


async def matched_companies(session: AsyncSession, call_id: str) -> list[str]:
    query = (
        select(CallMatch.company_id)
        .where(CallMatch.call_id == call_id, col(CallMatch.active).is_(True))
        .order_by(col(CallMatch.company_id))
    )
    return list((await session.exec(query)).all())


async def company_matches(
    session: AsyncSession, company_id: str, statuses: list[CallStatus]
) -> list[tuple[CallMatch, FundingCall]]:
    """The company's active matches with calls in `statuses`, best first."""
    query = (
        select(CallMatch, FundingCall)
        .join(FundingCall, col(FundingCall.id) == CallMatch.call_id)
        .where(
            CallMatch.company_id == company_id, col(CallMatch.active).is_(True), col(FundingCall.status).in_(statuses)
        )
        .order_by(col(CallMatch.score).desc(), col(FundingCall.next_deadline))
    )
    return [(match, call) for match, call in (await session.exec(query)).all()]


async def call_matches(session: AsyncSession, call_id: str) -> list[CallMatch]:
    query = (
        select(CallMatch)
        .where(CallMatch.call_id == call_id, col(CallMatch.active).is_(True))
        .order_by(col(CallMatch.score).desc(), col(CallMatch.company_id))
    )
    return list((await session.exec(query)).all())


async def reminder_sent(session: AsyncSession, call_id: str, deadline: datetime, days_before: int) -> bool:
    return await session.get(ReminderSent, (call_id, deadline, days_before)) is not None


async def get_search(session: AsyncSession, search_id: str) -> SavedSearch:
    search = await session.get(SavedSearch, search_id)
    if search is None:
        raise NotFound(f"no saved search with id {search_id}")
    return search


async def all_searches(session: AsyncSession) -> list[SavedSearch]:
    return list((await session.exec(select(SavedSearch))).all())


async def searches_of(session: AsyncSession, person_id: str) -> list[SavedSearch]:
    query = select(SavedSearch).where(SavedSearch.person_id == person_id).order_by(col(SavedSearch.created_at))
    return list((await session.exec(query)).all())


async def delete_searches(session: AsyncSession, searches: list[SavedSearch]) -> None:
    ids = [search.id for search in searches]
    if ids:
        await session.exec(delete(SearchHit).where(col(SearchHit.search_id).in_(ids)))
        await session.exec(delete(SavedSearch).where(col(SavedSearch.id).in_(ids)))


async def source_states(session: AsyncSession) -> list[SourceState]:
    return list((await session.exec(select(SourceState).order_by(col(SourceState.source)))).all())


async def quarantined_already(session: AsyncSession, source: Source, external_id: str | None, reason: str) -> bool:
    query = select(QuarantinedRecord.id).where(
        QuarantinedRecord.source == source,
        QuarantinedRecord.external_id == external_id,
        QuarantinedRecord.reason == reason,
    )
    return (await session.exec(query)).first() is not None


async def quarantined(
    session: AsyncSession, source: Source | None, page: int, page_size: int
) -> tuple[list[QuarantinedRecord], int]:
    conditions = [QuarantinedRecord.source == source] if source is not None else []
    total = (await session.exec(select(func.count()).select_from(QuarantinedRecord).where(*conditions))).one()
    query = (
        select(QuarantinedRecord)
        .where(*conditions)
        .order_by(col(QuarantinedRecord.id).desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return list((await session.exec(query)).all()), total
