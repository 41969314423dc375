"""My data (GDPR): download everything the platform holds about me; ask for erasure. Erasure is asked twice — a
checkbox saying it cannot be undone, then my email typed again — and then my session ends for real."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from web.dependencies import GatewayDep, PagesDep, SessionDep
from web.gateway import ApiError
from web.routes.members_area import MemberApiDep, page_error

router = APIRouter()
UNDERSTOOD = "understood"


@router.get("/my-data", response_class=HTMLResponse)
async def my_data(request: Request, pages: PagesDep, api: MemberApiDep) -> HTMLResponse:
    return pages.render(request, "members/my_data.html.j2", done="", error="")


@router.get("/my-data/export")
async def export(api: MemberApiDep) -> Response:
    """The members service's GDPR export, as a file to keep."""
    found = await api.subject(f"/members/people/{api.member.person.person_id}/export")
    return Response(
        json.dumps(found, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="filiera-my-data.json"',
            "Cache-Control": "private, no-store",
        },
    )


@router.post("/my-data/erasure", response_class=HTMLResponse)
async def first_confirmation(
    request: Request, pages: PagesDep, api: MemberApiDep, confirm: Annotated[str, Form(max_length=20)] = ""
) -> HTMLResponse:
    """The first yes: the checkbox. The page that follows asks for the second."""
    if confirm != UNDERSTOOD:
        return pages.render(request, "members/my_data.html.j2", done="", error="confirm")
    return pages.render(request, "members/erasure_confirmation.html.j2", done="", error="")


@router.post("/my-data/erasure/confirm", response_class=HTMLResponse)
async def erase(
    request: Request,
    pages: PagesDep,
    api: MemberApiDep,
    gateway: GatewayDep,
    session: SessionDep,
    email: Annotated[str, Form(max_length=320)] = "",
) -> HTMLResponse:
    """The second yes: one's own email typed again. Then the erasure, and the session ends (its refresh token
    revoked at the members service, the cookie emptied)."""
    if email.strip().casefold() != api.member.person.email.casefold():
        return pages.render(request, "members/erasure_confirmation.html.j2", done="", error="email_differs")
    try:
        await api.post(f"/members/people/{api.member.person.person_id}/erasure")
    except ApiError as error:
        raise page_error(error) from error
    if session.refresh_token:
        await gateway.revoke(api.member.caller, session.refresh_token)
    session.sign_out()
    return pages.render(request, "members/erased.html.j2")
