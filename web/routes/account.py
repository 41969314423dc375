"""Signing in and out; setting one's own password from an invitation or a reset link (see the members API)."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web.dependencies import CallerDep, GatewayDep, PagesDep, SessionDep
from web.gateway import ApiError, Caller, Gateway
from web.i18n import LANGUAGES, N_
from web.session import Session, SignedInPerson

# A form shown again with its messages answers 200, as every page of this site does: browsers log a page answered
# with 4xx as a console error, and htmx swaps no 4xx answer in. A link that cannot be used, opened, is a 410.
router = APIRouter()
AFTER_LOGIN = "/dashboard"
MIN_PASSWORD_LENGTH = 12  # as the members service asks
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


@router.get("/invitations/{token}", response_class=HTMLResponse)
async def invitation_page(
    request: Request, token: str, pages: PagesDep, api: GatewayDep, caller: CallerDep
) -> HTMLResponse:
    invitation = await open_link(api, caller, f"/members/invitations/{token}")
    if invitation is None:
        return pages.render(request, "account/link_unusable.html.j2", status_code=410)
    return pages.render(request, "account/invitation.html.j2", invitation=invitation, token=token, typed={}, errors={})


async def open_link(api: Gateway, caller: Caller, path: str) -> dict[str, Any] | None:
    """What a link of an email opens, or None when it was used, has expired or never existed (the page does not
    say which)."""
    try:
        found: dict[str, Any] = await api.get(path, caller)
    except ApiError as error:
        if error.status in (400, 404, 410, 422):
            return None
        raise HTTPException(503, "members unavailable") from error
    return found


@router.post("/invitations/{token}", response_class=HTMLResponse)
async def accept_invitation(
    request: Request,
    token: str,
    pages: PagesDep,
    api: GatewayDep,
    caller: CallerDep,
    session: SessionDep,
    given_name: Annotated[str, Form(max_length=100)] = "",
    family_name: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    language: Annotated[str, Form(max_length=2)] = "",
) -> Response:
    """The invited person sets their own password and joins; then they are signed in."""
    invitation = await open_link(api, caller, f"/members/invitations/{token}")
    if invitation is None:
        return pages.render(request, "account/link_unusable.html.j2")
    typed = {"given_name": given_name.strip(), "family_name": family_name.strip(), "language": language}
    errors = password_problems(password) | {name: REQUIRED for name in ("given_name", "family_name") if not typed[name]}
    if not errors:
        acceptance = {**typed, "password": password, "language": language if language in LANGUAGES else caller.language}
        try:
            await api.post(f"/members/invitations/{token}/accept", caller, acceptance)
        except ApiError as error:
            if error.status in (404, 410):
                return pages.render(request, "account/link_unusable.html.j2")
            errors = field_messages(error)
    if errors:
        return pages.render(
            request,
            "account/invitation.html.j2",
            invitation=invitation,
            token=token,
            typed=typed,
            errors=errors,
        )
    return await sign_in_after_setting_password(api, caller, session, str(invitation["email"]), password)


async def sign_in_after_setting_password(
    api: Gateway, caller: Caller, session: Session, email: str, password: str
) -> RedirectResponse:
    try:
        tokens = await api.token(caller, {"grant_type": "password", "username": email, "password": password})
        me = await api.get("/members/people/me", Caller(caller.client_address, caller.language, tokens.access_token))
    except ApiError:
        session.tell(N_("Your password is set. Log in with it."))
        return RedirectResponse("/login", status_code=303)
    session.sign_in(tokens, signed_in_person(me), time.time())
    session.tell(N_("Welcome to Filiera: your password is set."))
    return RedirectResponse(AFTER_LOGIN, status_code=303)


REQUIRED = N_("Please fill this in.")


def password_problems(password: str) -> dict[str, str]:
    if not password:
        return {"password": REQUIRED}
    if len(password) < MIN_PASSWORD_LENGTH:
        return {"password": N_("At least 12 characters.")}
    return {}


def field_messages(error: ApiError) -> dict[str, str]:
    """The API's messages beside their fields; anything else above the form."""
    if error.fields:
        return {name.split(".")[-1]: message for name, message in error.fields.items()}
    if error.status < 500 and error.message:
        return {"form": error.message}
    return {"form": N_("This could not be done right now. Please try again in a few minutes.")}


@router.get("/password-reset", response_class=HTMLResponse)
async def ask_for_reset_page(request: Request, pages: PagesDep) -> HTMLResponse:
    return pages.render(request, "account/password_reset_ask.html.j2", email="", asked=False, errors={})


@router.post("/password-reset", response_class=HTMLResponse)
async def ask_for_reset(
    request: Request,
    pages: PagesDep,
    api: GatewayDep,
    caller: CallerDep,
    email: Annotated[str, Form(max_length=320)] = "",
) -> HTMLResponse:
    """The same answer whether or not the address has an account: the page never tells."""
    errors: dict[str, str] = {} if email.strip() else {"email": REQUIRED}
    if not errors:
        try:
            await api.post("/members/password-resets", caller, {"email": email.strip()})
        except ApiError as error:
            errors = field_messages(error)
    return pages.render(
        request,
        "account/password_reset_ask.html.j2",
        email=email,
        asked=not errors,
        errors=errors,
    )


@router.get("/password-reset/{token}", response_class=HTMLResponse)
async def reset_page(request: Request, token: str, pages: PagesDep) -> HTMLResponse:
    return pages.render(request, "account/password_reset_set.html.j2", token=token, errors={})


@router.post("/password-reset/{token}", response_class=HTMLResponse)
async def reset(
    request: Request,
    token: str,
    pages: PagesDep,
    api: GatewayDep,
    caller: CallerDep,
    session: SessionDep,
    password: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    errors = password_problems(password)
    if not errors:
        try:
            await api.request("POST", f"/members/password-resets/{token}", caller, json={"password": password})
        except ApiError as error:
            if error.status in (404, 410) or (error.status == 422 and "token" in error.fields):
                return pages.render(request, "account/link_unusable.html.j2")
            errors = field_messages(error)
    if errors:
        return pages.render(request, "account/password_reset_set.html.j2", token=token, errors=errors)
    session.sign_out()  # every session of the person has ended at the members service
    session.tell(N_("Your new password is set. Log in with it."))
    return RedirectResponse("/login", status_code=303)
