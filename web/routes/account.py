"""Signing in and out; setting one's own password from an invitation or a reset link (see the members API)."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web.dependencies import CallerDep, GatewayDep, PagesDep, SessionDep
from web.gateway import ApiError, Caller
from web.i18n import N_
from web.session import SignedInPerson

router = APIRouter()
AFTER_LOGIN = "/dashboard"
# The members API before RFC 6749 answered a wrong password with 403 {"detail": ...}; after it, 400 invalid_grant.
WRONG_CREDENTIALS = {"invalid_grant", "invalid_client"}


def safe_next(target: str | None) -> str:
    """Only a path of this site: a login link must not send people elsewhere (an open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return AFTER_LOGIN


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, pages: PagesDep, next: str | None = None) -> HTMLResponse:
    return pages.render(request, "account/login.html.j2", next=safe_next(next), email="", error=None)


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    pages: PagesDep,
    api: GatewayDep,
    caller: CallerDep,
    session: SessionDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form(max_length=2000)] = AFTER_LOGIN,
) -> Response:
    try:
        tokens = await api.token(caller, {"grant_type": "password", "username": email.strip(), "password": password})
        me: dict[str, Any] = await api.get(
            "/members/people/me", Caller(caller.client_address, caller.language, tokens.access_token)
        )
    except ApiError as error:
        return pages.render(
            request,
            "account/login.html.j2",
            status_code=error.status if error.status in (400, 401, 403, 429) else 503,
            next=safe_next(next),
            email=email,
            error=login_error(error),
        )
    session.sign_in(tokens, signed_in_person(me), time.time())
    return RedirectResponse(safe_next(next), status_code=303)


def login_error(error: ApiError) -> str:
    """What the login page says (a msgid), whichever shape the members API answered in."""
    if error.status == 429 or error.code == "rate_limited":
        return N_("Too many attempts. Wait a few minutes, then try again.")
    if error.code in WRONG_CREDENTIALS or error.status in (400, 401, 403):
        return N_("The email or the password is not right.")
    return N_("Logging in is not possible right now. Please try again in a few minutes.")


def signed_in_person(me: dict[str, Any]) -> SignedInPerson:
    name = " ".join(part for part in (me.get("given_name"), me.get("family_name")) if part)
    return SignedInPerson(str(me["id"]), str(me["email"]), str(me["role"]), me.get("company_id"), name)


@router.post("/logout")
async def logout(api: GatewayDep, caller: CallerDep, session: SessionDep) -> RedirectResponse:
    """The session ends for real: the refresh token is revoked at the members service, the cookie emptied."""
    if session.refresh_token:
        await api.revoke(caller, session.refresh_token)
    session.sign_out()
    session.tell(N_("You are logged out."))
    return RedirectResponse("/", status_code=303)
