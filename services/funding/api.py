"""HTTP routes of the funding service. Routes are thin: they check who is calling and call a command or a query.

Authorisation is checked here, and only here: staff-only routes take a `StaffPrincipal`, a company's matches
are its people's (`ensure_company_access`), saved searches belong to the person who saved them. The use cases
(commands/) trust that whoever reaches them may.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from services.funding import commands, sources, store
from services.funding.domain import MATCHABLE, CallStatus, SizeClass, Source
from services.funding.models import (
    AtecoCode,
    CallCreate,
    CallPublic,
    CallUpdate,
    MatchPublic,
    QuarantinedRecord,
    Region,
    RunResult,
    SavedSearch,
    SavedSearchCreate,
    SavedSearchPublic,
    SearchCriteria,
    SourceState,
)
from services.funding.settings import FundingSettings
from shared.api import ERRORS, Page, PageNumber, PageSize, SettingsDep, UnitOfWorkDep
from shared.auth import CurrentPrincipal, Principal, StaffPrincipal, ensure_company_access
from shared.errors import Forbidden, NotFound
from shared.ids import Id
from shared.text import Line, Moment

calls = APIRouter(prefix="/calls", tags=["calls"], responses=ERRORS)


@calls.get(
    "",
    response_model=Page[CallPublic],
    summary="Search calls (public): free text in Italian or English, status, programme, deadlines, region, size, ATECO",
)
async def search_calls(
    uow: UnitOfWorkDep,
    page: PageNumber = 1,
    page_size: PageSize = 20,
    q: Annotated[Line | None, Query(max_length=200, description="Words, accents and case ignored")] = None,
    status: Annotated[list[CallStatus] | None, Query()] = None,
    programme: Annotated[Line | None, Query(max_length=300)] = None,
    source: Source | None = None,
    region: Annotated[Region | None, Query(description="Calls open to companies in this region")] = None,
    size: Annotated[SizeClass | None, Query(description="Calls open to companies of this size")] = None,
    ateco: Annotated[AtecoCode | None, Query(description="Calls open to this ATECO code")] = None,
    deadline_after: Moment | None = None,
    deadline_before: Moment | None = None,
) -> Any:
    criteria = SearchCriteria(
        text=q,
        status=status or [],
        programme=programme,
        region=region,
        size=size,
        ateco=ateco,
        deadline_after=deadline_after,
        deadline_before=deadline_before,
    )
    async with uow:
        items, total = await store.search_calls(uow.session, criteria, source, page, page_size)
    return Page(
        items=[CallPublic.model_validate(c, from_attributes=True) for c in items],
        total=total,
        page=page,
        page_size=page_size,
    )


@calls.get("/{call_id:id}", response_model=CallPublic, summary="One call (public)")
async def get_call(call_id: Id, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await store.get_call(uow.session, call_id)


@calls.post("", status_code=201, response_model=CallPublic, summary="Enter a call the feeds do not carry (staff)")
async def create_call(data: CallCreate, _staff: StaffPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.create_call(uow, data)


@calls.patch("/{call_id:id}", response_model=CallPublic, summary="Edit a staff-entered call (staff)")
async def update_call(call_id: Id, update: CallUpdate, _staff: StaffPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.update_call(uow, call_id, update)


@calls.get(
    "/{call_id:id}/matches",
    response_model=list[MatchPublic],
    summary="The member companies a call matches, with the reasons (staff)",
)
async def call_matches(call_id: Id, _staff: StaffPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        await store.get_call(uow.session, call_id)
        return await store.call_matches(uow.session, call_id)


companies = APIRouter(prefix="/companies", tags=["matches"], responses=ERRORS)


@companies.get(
    "/{company_id:id}/matches",
    response_model=list[MatchPublic],
    summary="Calls that fit a company, best first, with the reasons (its people, staff)",
)
async def company_matches(
    company_id: Id,
    principal: CurrentPrincipal,
    uow: UnitOfWorkDep,
    status: Annotated[list[CallStatus] | None, Query()] = None,
) -> Any:
    ensure_company_access(principal, company_id, write=False)
    async with uow:
        found = await store.company_matches(uow.session, company_id, status or list(MATCHABLE))
    return [
        MatchPublic(
            call_id=m.call_id,
            company_id=m.company_id,
            score=m.score,
            reasons=m.reasons,
            call=CallPublic.model_validate(call, from_attributes=True),
        )
        for m, call in found
    ]


searches = APIRouter(prefix="/searches", tags=["saved searches"], responses=ERRORS)


async def person(principal: CurrentPrincipal) -> Principal:
    if principal.kind != "person":
        raise Forbidden("searches are saved by people, to be told about new calls")
    return principal


PersonPrincipal = Annotated[Principal, Depends(person)]


def ensure_may_delete(principal: Principal, search: SavedSearch) -> None:
    """A person deletes their own searches, staff any; to anyone else another's search does not exist."""
    if search.person_id != principal.subject and not principal.is_staff:
        raise NotFound(f"no saved search with id {search.id}")


@searches.post(
    "",
    status_code=201,
    response_model=SavedSearchPublic,
    summary="Save a search: you are told about every new call that fits it",
)
async def save_search(data: SavedSearchCreate, principal: PersonPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.save_search(uow, data, principal.subject, principal.company_id)


@searches.get("", response_model=list[SavedSearchPublic], summary="Your saved searches")
async def my_searches(principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await store.searches_of(uow.session, principal.subject)


@searches.delete("/{search_id:id}", status_code=204, summary="Delete one of your saved searches")
async def delete_search(search_id: Id, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> None:
    async with uow:
        search = await store.get_search(uow.session, search_id)
        ensure_may_delete(principal, search)
        await commands.delete_search(uow, search)


operations = APIRouter(prefix="/sources", tags=["sources"], responses=ERRORS)


@operations.get("", response_model=list[SourceState], summary="How each source's last runs went (staff)")
async def source_states(_staff: StaffPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await store.source_states(uow.session)


@operations.post(
    "/{source}/runs",
    response_model=RunResult,
    responses={502: {"description": "The source could not be read"}},
    summary="Read a source now instead of at its next poll (staff)",
)
async def run_source(
    source: Source, _staff: StaffPrincipal, config: SettingsDep[FundingSettings], request: Request
) -> Any:
    feeds: list[sources.Feed] = request.app.state.feeds
    feed = next((f for f in feeds if f.source == source), None)
    if feed is None:
        raise NotFound(f"{source} is not a feed this deployment reads (see FUNDING_* settings)")
    try:
        report = await sources.run_feed(feed, request.app.state.runtime.unit_of_work, config.source_timeout_seconds)
    except sources.SourceDown as error:
        raise HTTPException(502, detail=str(error)) from error
    return RunResult(
        source=source,
        records_read=report.records_read,
        published=len(report.published),
        updated=len(report.updated),
        quarantined=report.quarantined,
    )


@operations.get(
    "/quarantine",
    response_model=Page[QuarantinedRecord],
    summary="Records a source sent that could not be read, with the reason (staff)",
)
async def quarantine(
    _staff: StaffPrincipal,
    uow: UnitOfWorkDep,
    page: PageNumber = 1,
    page_size: PageSize = 50,
    source: Source | None = None,
) -> Any:
    async with uow:
        items, total = await store.quarantined(uow.session, source, page, page_size)
    return Page(items=items, total=total, page=page, page_size=page_size)


ROUTERS = [calls, companies, searches, operations]
