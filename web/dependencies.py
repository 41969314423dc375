"""What routes are given: the pages, the gateway, the session, the caller a gateway call is made for (with its
access token renewed when it is about to expire), and the signed-in person (or a redirect to the login page).
Every unsafe request (POST, PUT, PATCH, DELETE) must carry the session's CSRF token: `csrf_protected`, which
app.py puts on every router."""

from __future__ import annotations

import time
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request

from web.gateway import ApiError, Caller, Gateway
from web.session import CSRF_FIELD, CSRF_HEADER, Session, SignedInPerson
from web.templating import Pages

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class SignInRequired(Exception):
    """The page needs a signed-in person: app.py answers with a redirect to /login?next=<the page>."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path

    @property
    def login_url(self) -> str:
        return f"/login?next={quote(self.next_path, safe='/')}"


def pages(request: Request) -> Pages:
    found: Pages = request.app.state.pages
    return found


def gateway(request: Request) -> Gateway:
    found: Gateway = request.app.state.gateway
    return found


def session(request: Request) -> Session:
    found: Session = request.state.session
    return found


def language(request: Request) -> str:
    found: str = request.state.language
    return found


def client_address(request: Request) -> str:
    """The browser's address: the gateway in front says it in X-Real-IP (the web client listens for it alone)."""
    return request.headers.get("x-real-ip") or (request.client.host if request.client else "127.0.0.1")


PagesDep = Annotated[Pages, Depends(pages)]
GatewayDep = Annotated[Gateway, Depends(gateway)]
SessionDep = Annotated[Session, Depends(session)]
LanguageDep = Annotated[str, Depends(language)]


async def caller(request: Request, api: GatewayDep, current: SessionDep, spoken: LanguageDep) -> Caller:
    """The person's caller, with a fresh access token: renewed with the refresh token shortly before it expires;
    a refresh the members service refuses (revoked, expired, reused) ends the session."""
    anonymous = Caller(client_address(request), spoken)
    if not current.signed_in:
        return anonymous
    now = time.time()
    if current.access_needs_refresh(now):
        if current.refresh_token is None:
            current.sign_out()
            return anonymous
        try:
            tokens = await api.token(anonymous, {"grant_type": "refresh_token", "refresh_token": current.refresh_token})
        except ApiError as error:
            if error.status >= 500:
                raise
            current.sign_out()
            return anonymous
        current.keep_tokens(tokens, now)
    return Caller(anonymous.client_address, spoken, current.access_token)


CallerDep = Annotated[Caller, Depends(caller)]


async def signed_in(request: Request, current: SessionDep, on_behalf: CallerDep) -> SignedInPerson:
    """The signed-in person, for the members' area; anyone else is sent to the login page and back."""
    if on_behalf.access_token is None or current.person is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target)
    return current.person


SignedInDep = Annotated[SignedInPerson, Depends(signed_in)]


async def csrf_protected(request: Request, current: SessionDep) -> None:
    """The session's CSRF token in the form (csrf_token) or, for htmx, in the X-CSRF-Token header."""
    if request.method not in UNSAFE_METHODS:
        return
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not current.csrf_matches(given):
        raise HTTPException(403, "csrf")
