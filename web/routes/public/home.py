"""The home page: what the network is, its next events, who governs it, and the way in."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from web.dependencies import CallerDep, GatewayDep, PagesDep
from web.gateway import ApiError, Caller, Gateway

router = APIRouter()
NEXT_EVENTS = 3


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, pages: PagesDep, api: GatewayDep, caller: CallerDep) -> HTMLResponse:
    return pages.render(
        request,
        "public/home.html.j2",
        events=await shown_or_none(api, caller, "/events/events"),
        governance=await shown_or_none(api, caller, "/members/governance"),
        next_events=NEXT_EVENTS,
    )


async def shown_or_none(api: Gateway, caller: Caller, path: str) -> list[dict[str, Any]] | None:
    """A section of the page from one API; None when that API cannot answer now (the page says so, and shows the
    rest)."""
    try:
        found: list[dict[str, Any]] = await api.get(path, caller)
    except ApiError:
        return None
    return found
