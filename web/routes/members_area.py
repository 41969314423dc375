"""The members' area: what every page of it stands on (the signed-in member, the APIs read on their behalf).

Its pages live beside it in members_*.py, one module per part of the area. Words are in the templates
(templates/members/), never in Python: the routes hand codes and API answers to the pages, which say them. A form
shown again with its messages answers 200, like the rest of the site: browsers log any 4xx page as a console error,
and htmx swaps no 4xx answer."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Request

from shared.membership import Role
from web.dependencies import CallerDep, GatewayDep, SessionDep, SignedInDep, SignInRequired
from web.gateway import UNAVAILABLE, ApiError, Caller, Gateway
from web.session import Session, SignedInPerson

UNAUTHORISED = 401
FORBIDDEN = 403
NOT_FOUND = 404
UNAVAILABLE_FROM = 500
Found = TypeVar("Found")


@dataclass(frozen=True)
class Member:
    """The signed-in person and the caller the gateway is called as on their behalf."""

    person: SignedInPerson
    caller: Caller

    @property
    def company_id(self) -> str | None:
        return self.person.company_id

    @property
    def is_company_admin(self) -> bool:
        return self.person.role == Role.COMPANY_ADMIN


async def member(person: SignedInDep, caller: CallerDep) -> Member:
    return Member(person, caller)


MemberDep = Annotated[Member, Depends(member)]


class MemberApi:
    """The gateway as the members' area uses it: an access token the API no longer accepts (revoked elsewhere, the
    person erased) ends the session and sends the person to the login page, instead of an error page."""

    def __init__(self, request: Request, api: Gateway, session: Session, who: Member) -> None:
        self._request = request
        self._api = api
        self._session = session
        self.member = who

    @property
    def gateway(self) -> Gateway:
        return self._api

    async def call(self, pending: Awaitable[Found]) -> Found:
        try:
            return await pending
        except ApiError as error:
            if error.status == UNAUTHORISED:
                self._session.sign_out()
                raise SignInRequired(self._request.url.path) from error
            raise

    async def get(self, path: str, params: dict[str, Any] | list[tuple[str, Any]] | None = None) -> Any:
        return await self.call(self._api.get(path, self.member.caller, params))

    async def post(self, path: str, json: Any = None) -> Any:
        return await self.call(self._api.post(path, self.member.caller, json))

    async def send(self, method: str, path: str, json: Any = None) -> Any:
        answer = await self.call(self._api.request(method, path, self.member.caller, json=json))
        return answer.json() if answer.content else None

    async def subject(self, path: str) -> Any:
        """What the page is about (a call, a registration): its absence is the page's 404, and an API that cannot
        answer the page's error."""
        try:
            return await self.get(path)
        except ApiError as error:
            raise page_error(error) from error

    async def section(self, path: str, params: dict[str, Any] | None = None) -> Any | None:
        """A part of a page from one API; None when that API cannot answer now (the page says so, shows the rest)."""
        try:
            return await self.get(path, params)
        except ApiError:
            return None


def page_error(error: ApiError) -> HTTPException:
    """An API's failure as the error page says it: what the person may not see does not exist for them; what
    they sent wrong is refused with its status; anything else is the platform not answering right now."""
    if error.status in (FORBIDDEN, NOT_FOUND):
        return HTTPException(NOT_FOUND, error.message)
    if error.status < UNAVAILABLE_FROM:
        return HTTPException(error.status, error.message)
    return HTTPException(UNAVAILABLE, error.message)


async def member_api(request: Request, api: GatewayDep, session: SessionDep, who: MemberDep) -> MemberApi:
    return MemberApi(request, api, session, who)


MemberApiDep = Annotated[MemberApi, Depends(member_api)]


async def nothing() -> None:
    return None
