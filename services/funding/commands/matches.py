"""Keeping each (call, company) match and each saved search's hits, and announcing what changes.

The steps the use cases share (`ingest`, `commands`): they run inside the caller's unit of work and leave the
commit to it. The domain decides what matches and what is news; this module loads, stores and publishes.
"""

from __future__ import annotations

from datetime import datetime

from services.funding import domain, store
from services.funding.domain import AnnouncedMatch, CallFacts, CallRecord, CompanyProfile, Match, Matcher
from services.funding.events import CallSummary, MatchFound, MatchUpdated, MatchWithdrawn, SearchMatched
from services.funding.models import CallMatch, FundingCall, MemberCompany, SearchHit
from shared.membership import MembershipStatus
from shared.unit_of_work import UnitOfWork


def company_profile(company: MemberCompany) -> CompanyProfile:
    return CompanyProfile(
        id=company.id,
        name=company.legal_name,
        active=company.status == MembershipStatus.ACTIVE,
        size_class=company.size_class,
        region=company.region,
        ateco_codes=tuple(company.ateco_codes),
        interests=tuple(company.interests),
    )


def call_facts(call: FundingCall) -> CallFacts:
    return CallFacts.of(
        call.id,
        CallRecord(
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


async def match_calls(uow: UnitOfWork, calls: list[FundingCall]) -> None:
    """Match new and changed calls against every active company, announcing what is new, changed or gone."""
    matchable = [call for call in calls if call.status in domain.MATCHABLE]
    if not matchable:
        return
    matcher = Matcher([company_profile(c) for c in await store.active_companies(uow.session)])
    stored = await store.matches_of_calls(uow.session, [call.id for call in matchable])
    for call in matchable:
        found = matcher.matches(call_facts(call))
        known = {match.company_id: match for match in stored.get(call.id, [])}
        for company_id in found.keys() | known.keys():
            _settle(uow, call, company_id, found.get(company_id), known.get(company_id))


async def match_company(uow: UnitOfWork, company: MemberCompany) -> None:
    """Match a new or changed company against every open or forthcoming call. Calls that closed keep their
    matches as history; those still open and no longer fitting are withdrawn."""
    profile = company_profile(company)
    stored = await store.matches_of_company(uow.session, company.id)
    for call in await store.matchable_calls(uow.session):
        _settle(uow, call, company.id, domain.match(call_facts(call), profile), stored.get(call.id))


def _settle(uow: UnitOfWork, call: FundingCall, company_id: str, found: Match | None, known: CallMatch | None) -> None:
    """Compare one (call, company) match with what was announced before, and announce the difference once."""
    if not domain.match_is_news(found, _announced(known) if known is not None else None):
        return
    now = uow.now()
    if known is None:
        assert found is not None  # news without a known match is a match found
        reasons = list(found.reasons)
        uow.session.add(
            CallMatch(
                call_id=call.id,
                company_id=company_id,
                score=found.score,
                reasons=reasons,
                created_at=now,
                updated_at=now,
            )
        )
        uow.publish(
            MatchFound(
                call_id=call.id, company_id=company_id, score=found.score, reasons=reasons, call=CallSummary.of(call)
            )
        )
    elif found is None:
        known.active, known.updated_at = False, now
        uow.publish(_withdrawn(call, company_id))
    else:
        _update(uow, call, known, found, _announced(known).previous_score, now)


def _announced(known: CallMatch) -> AnnouncedMatch:
    return AnnouncedMatch(known.active, known.score, tuple(known.reasons))


def _withdrawn(call: FundingCall, company_id: str) -> MatchWithdrawn:
    return MatchWithdrawn(
        call_id=call.id,
        company_id=company_id,
        score=0,
        reasons=list(domain.WITHDRAWN_REASONS),
        call=CallSummary.of(call),
    )


def _update(
    uow: UnitOfWork, call: FundingCall, known: CallMatch, found: Match, previous_score: int, now: datetime
) -> None:
    reasons = list(found.reasons)
    known.active, known.score, known.reasons, known.updated_at = True, found.score, reasons, now
    uow.publish(
        MatchUpdated(
            call_id=call.id,
            company_id=known.company_id,
            score=found.score,
            reasons=reasons,
            previous_score=previous_score,
            call=CallSummary.of(call),
        )
    )


async def offer_to_saved_searches(uow: UnitOfWork, new_calls: list[FundingCall]) -> None:
    """Tell each saved search's owner about the new calls that fit it, once per search and call."""
    if not new_calls:
        return
    by_id = {call.id: call for call in new_calls}
    await uow.session.flush()  # the search below reads the new calls
    for search in await store.all_searches(uow.session):
        for call_id in sorted(await store.fitting_calls(uow.session, search, list(by_id))):
            uow.session.add(SearchHit(search_id=search.id, call_id=call_id, found_at=uow.now()))
            uow.publish(
                SearchMatched(
                    search_id=search.id,
                    search_name=search.name,
                    person_id=search.person_id,
                    call=CallSummary.of(by_id[call_id]),
                )
            )
