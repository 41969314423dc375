"""The members' area's first page: my next events, my company's funding matches, my unread messages."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from web.dependencies import PagesDep
from web.routes.members_area import MemberApiDep, nothing
from web.routes.members_funding import reason_parts

router = APIRouter()
NEXT_EVENTS = 3
TOP_MATCHES = 3
LATEST_UNREAD = 5
# Registrations that still mean something for the person: a seat, a place in line, a wait for approval.
LIVE_REGISTRATIONS = frozenset({"confirmed", "offered", "waitlisted", "pending"})


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(request: Request, pages: PagesDep, api: MemberApiDep) -> HTMLResponse:
    company_id = api.member.company_id
    registrations, matches, unread = await asyncio.gather(
        api.section("/events/me/registrations", {"upcoming": "true"}),
        api.section(f"/funding/companies/{company_id}/matches") if company_id else nothing(),
        api.section("/notifications/inbox", {"unread_only": "true", "page_size": LATEST_UNREAD}),
    )
    return pages.render(
        request,
        "members/dashboard.html.j2",
        registrations=next_registrations(registrations),
        matches=matches[:TOP_MATCHES] if matches is not None else None,
        has_company=company_id is not None,
        unread=unread,
        reason_parts=reason_parts,
        done="",
    )


def next_registrations(found: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    if found is None:
        return None
    return [r for r in found if r.get("status") in LIVE_REGISTRATIONS][:NEXT_EVENTS]
