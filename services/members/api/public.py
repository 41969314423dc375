"""Public routes: the network's governance and the B2B directory."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status

from services.members import commands, store
from services.members.domain import (
    Capability,
    DirectoryQuery,
)
from services.members.models import (
    DirectoryEntry,
    GovernanceTermCreate,
    GovernanceTermEnd,
    GovernanceTermPublic,
)
from shared.api import ERRORS, ClockDep, Page, PageNumber, PageSize, UnitOfWorkDep
from shared.auth import CurrentPrincipal
from shared.clock import rome_date
from shared.ids import Id

governance = APIRouter(prefix="/governance", tags=["governance"], responses=ERRORS)


@governance.get("", response_model=list[GovernanceTermPublic], summary="The network's bodies and who serves (public)")
async def list_governance(
    uow: UnitOfWorkDep,
    clock: ClockDep,
    # A string checked by hand: as a `date`, pydantic would also take `on=0` as 1970-01-01.
    on: Annotated[
        str | None,
        Query(
            pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
            description="A date, YYYY-MM-DD",
            json_schema_extra={"format": "date"},
        ),
    ] = None,
    include_past: bool = False,
) -> Any:
    try:
        day = date.fromisoformat(on) if on else rome_date(clock())
    except ValueError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"'on' is not a date: {error}") from error
    async with uow:
        return await store.governance(uow.session, None if include_past else day)


@governance.post("", status_code=201, response_model=GovernanceTermCreate, summary="Start a term of office (staff)")
async def start_term(data: GovernanceTermCreate, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.start_governance_term(uow, data, principal)


@governance.post("/{term_id:id}/end", response_model=GovernanceTermCreate, summary="End a term of office (staff)")
async def end_term(term_id: Id, data: GovernanceTermEnd, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.end_governance_term(uow, term_id, data.term_to, principal)


directory = APIRouter(prefix="/directory", tags=["directory"])


@directory.get(
    "", response_model=Page[DirectoryEntry], summary="Public B2B directory of the district's active member companies"
)
async def search_directory(
    uow: UnitOfWorkDep,
    q: Annotated[str | None, Query(max_length=200, description="Free text, Italian or English")] = None,
    capability: Capability | None = None,
    ateco: Annotated[str | None, Query(max_length=8, description="Code or prefix, e.g. 15.20")] = None,
    certification: Annotated[str | None, Query(max_length=100)] = None,
    market: Annotated[str | None, Query(min_length=2, max_length=2, description="ISO country code")] = None,
    lang: Annotated[str, Query(pattern="^(it|en)$")] = "it",
    page: PageNumber = 1,
    page_size: PageSize = 20,
) -> Any:
    async with uow:
        return await store.directory(
            uow.session, DirectoryQuery(q, capability, ateco, certification, market), lang, page, page_size
        )
