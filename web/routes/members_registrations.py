"""My registrations: the list, and one registration's page with its ticket (the QR code the door scans, fetched
through the web client with the person's token: the browser never holds it), my place on the waiting list, a seat
offered to take before it lapses, cancelling, and the event in my calendar."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shared.ids import Id
from web.dependencies import PagesDep
from web.gateway import UNAVAILABLE, ApiError
from web.routes.members_area import FORBIDDEN, NOT_FOUND, UNAVAILABLE_FROM, MemberApi, MemberApiDep, page_error

router = APIRouter()
# What the registrant may still change: cancel while it holds or waits for a seat, take a seat offered.
CANCELLABLE = frozenset({"confirmed", "offered", "waitlisted", "pending"})
TICKET_SHOWN = frozenset({"confirmed"})
SVG = "image/svg+xml"
ICS = "text/calendar; charset=utf-8"


@router.get("/registrations", response_class=HTMLResponse)
async def registrations(request: Request, pages: PagesDep, api: MemberApiDep, done: str = "") -> HTMLResponse:
    upcoming, every = await asyncio.gather(
        api.section("/events/me/registrations", {"upcoming": "true"}),
        api.section("/events/me/registrations"),
    )
    coming_ids = {r["id"] for r in upcoming or []}
    return pages.render(
        request,
        "members/registrations.html.j2",
        done=done,
        upcoming=upcoming,
        past=[r for r in every if r["id"] not in coming_ids] if every is not None else None,
    )


@router.get("/registrations/{registration_id:id}", response_class=HTMLResponse)
async def registration(
    registration_id: Id, request: Request, pages: PagesDep, api: MemberApiDep, done: str = ""
) -> HTMLResponse:
    found = await api.subject(f"/events/registrations/{registration_id}")
    return registration_page(request, pages, found, done)


def registration_page(
    request: Request, pages: PagesDep, found: dict[str, Any], done: str = "", refused: ApiError | None = None
) -> HTMLResponse:
    return pages.render(
        request,
        "members/registration.html.j2",
        done=done,
        registration=found,
        event=found["event"],
        cancellable=found["status"] in CANCELLABLE,
        ticket=found["status"] in TICKET_SHOWN and bool(found.get("checkin_token")),
        refused=refused,
    )


@router.get("/registrations/{registration_id:id}/qr.svg")
async def ticket_qr_code(registration_id: Id, api: MemberApiDep) -> Response:
    """The ticket's QR code, from the events service with the person's token."""
    try:
        answer = await api.call(
            api.gateway.request("GET", f"/events/registrations/{registration_id}/qr.svg", api.member.caller)
        )
    except ApiError as error:
        return Response(status_code=NOT_FOUND if error.status < UNAVAILABLE_FROM else UNAVAILABLE)
    return Response(answer.content, media_type=SVG, headers={"Cache-Control": "private, no-store"})


@router.get("/registrations/{registration_id:id}/calendar.ics")
async def event_calendar(registration_id: Id, api: MemberApiDep) -> Response:
    """The registration's event as an .ics to add to one's calendar (members' events need the person's token)."""
    found = await api.subject(f"/events/registrations/{registration_id}")
    try:
        answer = await api.call(
            api.gateway.request("GET", f"/events/events/{found['event_id']}.ics", api.member.caller)
        )
    except ApiError as error:
        raise page_error(error) from error
    return Response(
        answer.content,
        media_type=ICS,
        headers={"Content-Disposition": f'attachment; filename="filiera-{found["event_id"]}.ics"'},
    )


@router.post("/registrations/{registration_id:id}/cancel", response_class=HTMLResponse)
async def cancel(registration_id: Id, request: Request, pages: PagesDep, api: MemberApiDep) -> Response:
    return await act(registration_id, "cancel", "cancelled", request, pages, api)


@router.post("/registrations/{registration_id:id}/accept-offer", response_class=HTMLResponse)
async def accept_offer(registration_id: Id, request: Request, pages: PagesDep, api: MemberApiDep) -> Response:
    return await act(registration_id, "accept-offer", "accepted", request, pages, api)


async def act(
    registration_id: str, action: str, done: str, request: Request, pages: PagesDep, api: MemberApi
) -> Response:
    """Cancel or take the offered seat; a refusal (past the cancellation deadline, an offer that lapsed) is said
    on the registration's page, in the API's words."""
    try:
        await api.post(f"/events/registrations/{registration_id}/{action}")
    except ApiError as error:
        if error.status >= UNAVAILABLE_FROM or error.status in (FORBIDDEN, NOT_FOUND):
            raise page_error(error) from error
        found = await api.subject(f"/events/registrations/{registration_id}")
        return registration_page(request, pages, found, refused=error)
    return RedirectResponse(f"/registrations/{registration_id}?done={done}", status_code=303)
