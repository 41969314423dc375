"""Funding in the members' area: the calls matched to my company with the reasons, every call with filters, my
saved searches (the funding service tells me of each new call that fits one), and one call's page."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shared.ids import Id
from shared.italy import ITALIAN_REGION_NAMES
from web.dependencies import PagesDep
from web.gateway import ApiError
from web.i18n import ROME
from web.routes.members_area import UNAVAILABLE_FROM, MemberApi, MemberApiDep, nothing, page_error
from web.routes.members_forms import parse_day

router = APIRouter()
CALLS_PER_PAGE = 10
CALL_STATUSES = ("open", "forthcoming", "closed")
SIZES = ("micro", "small", "medium", "large")
REGIONS = ITALIAN_REGION_NAMES
# The funding service says why a call fits in fixed English sentences (services/funding/domain.py, match());
# read back into their parts, the page says them in the person's language.
REASONS = (
    ("ateco", re.compile(r"^ATECO (?P<company_code>\S+) eligible \(call open to (?P<call_code>[^)]+)\)$")),
    ("region", re.compile(r"^open to companies in (?P<region>.+)$")),
    ("size", re.compile(r"^open to (?P<size>micro|small|medium|large) companies$")),
    ("keyword", re.compile(r"^keyword: (?P<term>.+)$")),
)


def reason_parts(reason: str) -> dict[str, str]:
    """{"kind": "ateco" | "region" | "size" | "keyword", ...its values}, or {"kind": "other", "text": reason}."""
    for kind, pattern in REASONS:
        if found := pattern.match(reason):
            return {"kind": kind, **found.groupdict()}
    return {"kind": "other", "text": reason}


@dataclass(frozen=True)
class CallFilters:
    """What the calls page filters by, as its form sends it; `problems` names the fields it could not read."""

    q: str = ""
    status: str = ""
    region: str = ""
    size: str = ""
    ateco: str = ""
    deadline_before: str = ""
    problems: frozenset[str] = frozenset()

    @classmethod
    def read(cls, q: str, status: str, region: str, size: str, ateco: str, deadline_before: str) -> CallFilters:
        day = parse_day(deadline_before)
        return cls(
            q=q.strip(),
            status=status if status in CALL_STATUSES else "",
            region=region if region in REGIONS else "",
            size=size if size in SIZES else "",
            ateco=ateco.strip(),
            deadline_before=day.isoformat() if day else deadline_before.strip(),
            problems=frozenset({"deadline_before"}) if deadline_before.strip() and day is None else frozenset(),
        )

    @property
    def criteria(self) -> dict[str, Any]:
        """The filters as the funding API's saved-search criteria."""
        deadline = self.deadline_day
        return {
            "text": self.q or None,
            "status": [self.status] if self.status else [],
            "region": self.region or None,
            "size": self.size or None,
            "ateco": self.ateco or None,
            "deadline_before": end_of_day_in_italy(deadline).isoformat() if deadline else None,
        }

    @property
    def deadline_day(self) -> dt.date | None:
        return None if "deadline_before" in self.problems else parse_day(self.deadline_before)

    def search_params(self, page: int) -> dict[str, Any]:
        """The filters as GET /calls's query: the criteria's text is its `q`, one status its `status`."""
        criteria = self.criteria
        params = {
            "q": criteria["text"],
            "status": self.status,
            **{key: criteria[key] for key in ("region", "size", "ateco", "deadline_before")},
        }
        return {key: value for key, value in params.items() if value} | {"page": page, "page_size": CALLS_PER_PAGE}

    def query(self) -> str:
        fields = ("q", "status", "region", "size", "ateco", "deadline_before")
        return urlencode({name: getattr(self, name) for name in fields if getattr(self, name)})


def end_of_day_in_italy(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=ROME)


def filters_of_saved(search: dict[str, Any]) -> CallFilters:
    """A saved search as the calls page's filters, so that its link shows what it finds."""
    deadline = search.get("deadline_before")
    statuses = search.get("status") or []
    return CallFilters(
        q=search.get("text") or "",
        status=statuses[0] if len(statuses) == 1 else "",
        region=search.get("region") or "",
        size=search.get("size") or "",
        ateco=search.get("ateco") or "",
        deadline_before=dt.datetime.fromisoformat(deadline).astimezone(ROME).date().isoformat() if deadline else "",
    )


Text = Annotated[str, Query(max_length=200)]


@router.get("/funding", response_class=HTMLResponse)
async def funding(
    request: Request,
    pages: PagesDep,
    api: MemberApiDep,
    q: Text = "",
    status: Text = "",
    region: Text = "",
    size: Text = "",
    ateco: Annotated[str, Query(max_length=20)] = "",
    deadline_before: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    done: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    filters = CallFilters.read(q, status, region, size, ateco, deadline_before)
    return await funding_page(request, pages, api, filters, page, done)


async def funding_page(
    request: Request,
    pages: PagesDep,
    api: MemberApi,
    filters: CallFilters,
    page: int,
    done: str = "",
    search_name: str = "",
    search_errors: dict[str, str] | None = None,
) -> HTMLResponse:
    company_id = api.member.company_id
    matches, searches, calls = await asyncio.gather(
        api.section(f"/funding/companies/{company_id}/matches") if company_id else nothing(),
        api.section("/funding/searches"),
        calls_found(api, filters, page),
    )
    refused = calls if isinstance(calls, ApiError) else None
    found = calls if isinstance(calls, dict) else None
    return pages.render(
        request,
        "members/funding.html.j2",
        done=done,
        has_company=company_id is not None,
        matches=matches,
        searches=[(search, filters_of_saved(search).query()) for search in searches] if searches is not None else None,
        calls=found,
        calls_refused=refused,
        calls_error_fields=({"deadline_before": "unreadable_day"} if filters.problems else {})
        | (refused.fields if refused else {}),
        filters=filters,
        page=page,
        pages_of_calls=-(-found["total"] // CALLS_PER_PAGE) if found else 0,
        regions_list=REGIONS,
        sizes=SIZES,
        call_statuses=CALL_STATUSES,
        reason_parts=reason_parts,
        search_name=search_name,
        search_errors=search_errors or {},
    )


async def calls_found(api: MemberApi, filters: CallFilters, page: int) -> dict[str, Any] | ApiError | None:
    """The page of calls the filters find; the API's refusal of a filter (an ATECO code it cannot read) is shown
    beside the filters rather than as a failed page."""
    if filters.problems:
        return None
    try:
        found: dict[str, Any] = await api.get("/funding/calls", filters.search_params(page))
    except ApiError as error:
        return error
    return found


@router.post("/funding/searches", response_class=HTMLResponse)
async def save_search(
    request: Request,
    pages: PagesDep,
    api: MemberApiDep,
    name: Annotated[str, Form(max_length=200)] = "",
    q: Annotated[str, Form(max_length=200)] = "",
    status: Annotated[str, Form(max_length=40)] = "",
    region: Annotated[str, Form(max_length=60)] = "",
    size: Annotated[str, Form(max_length=20)] = "",
    ateco: Annotated[str, Form(max_length=20)] = "",
    deadline_before: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    filters = CallFilters.read(q, status, region, size, ateco, deadline_before)
    if not name.strip():
        return await funding_page(request, pages, api, filters, 1, search_name=name, search_errors={"name": "empty"})
    try:
        await api.post("/funding/searches", {"name": name.strip(), **filters.criteria})
    except ApiError as error:
        if error.status >= UNAVAILABLE_FROM:
            raise page_error(error) from error
        problems = error.fields or {"name": error.message}
        return await funding_page(request, pages, api, filters, 1, search_name=name, search_errors=problems)
    return RedirectResponse(f"/funding?{filters.query()}&done=search_saved#saved-searches", status_code=303)


@router.post("/funding/searches/{search_id:id}/delete")
async def delete_search(search_id: Id, api: MemberApiDep) -> RedirectResponse:
    try:
        await api.send("DELETE", f"/funding/searches/{search_id}")
    except ApiError as error:
        raise page_error(error) from error
    return RedirectResponse("/funding?done=search_deleted#saved-searches", status_code=303)


@router.get("/funding/calls/{call_id:id}", response_class=HTMLResponse)
async def funding_call(call_id: Id, request: Request, pages: PagesDep, api: MemberApiDep) -> HTMLResponse:
    company_id = api.member.company_id
    call, matches = await asyncio.gather(
        api.subject(f"/funding/calls/{call_id}"),
        api.section(f"/funding/companies/{company_id}/matches") if company_id else nothing(),
    )
    match = next((m for m in matches or [] if m.get("call_id") == call_id), None)
    return pages.render(
        request, "members/funding_call.html.j2", call=call, match=match, reason_parts=reason_parts, done=""
    )
