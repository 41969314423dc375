"""The one HTTP client of the gateway. Every call carries the person's token (when signed in), their language and
their address (X-Forwarded-For: the gateway trusts it from the web client only, so its per-client limits and the
members service's login throttling count each person, not the web client). Errors become `ApiError`, which a page
shows: a message, and a message beside each field."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import httpx

from web.session import Tokens


@dataclass(frozen=True)
class Caller:
    """On whose behalf a call is made."""

    client_address: str
    language: str
    access_token: str | None = None


@dataclass
class ApiError(Exception):
    """What went wrong, as the API said it: the HTTP status, a stable code when there is one (an RFC 9457 problem's
    type, an RFC 6749 error), the message for the page, and the field messages keyed by dotted field names."""

    status: int
    code: str | None = None
    message: str = ""
    fields: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code or ''} {self.message}".strip()


UNAVAILABLE = 503


class Gateway:
    def __init__(self, base_url: str, timeout: float, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._client = httpx.AsyncClient(base_url=f"{base_url.rstrip('/')}/api", timeout=timeout, transport=transport)

    async def close(self) -> None:
        await self._client.aclose()

    async def request(
        self,
        method: str,
        path: str,
        caller: Caller,
        *,
        params: dict[str, Any] | list[tuple[str, Any]] | None = None,
        json: Any = None,
        data: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> httpx.Response:
        """The answer when it is a success; otherwise ApiError (the gateway unreachable is a 503 too)."""
        try:
            answer = await self._client.request(
                method, path, params=params, json=json, data=data, auth=auth, headers=headers_for(caller)
            )
        except httpx.HTTPError as error:
            raise ApiError(UNAVAILABLE, "unavailable", str(error)) from error
        if answer.status_code >= 400:
            raise api_error(answer)
        return answer

    async def get(self, path: str, caller: Caller, params: dict[str, Any] | list[tuple[str, Any]] | None = None) -> Any:
        return (await self.request("GET", path, caller, params=params)).json()

    async def post(self, path: str, caller: Caller, json: Any = None) -> Any:
        answer = await self.request("POST", path, caller, json=json)
        return answer.json() if answer.content else None

    async def token(self, caller: Caller, grant: dict[str, str]) -> Tokens:
        """POST /members/auth/token with a grant (password, refresh_token), as RFC 6749 §4.3 and §6 say."""
        body = (await self.request("POST", "/members/auth/token", caller, data=grant)).json()
        return Tokens(body["access_token"], int(body.get("expires_in", 900)), body.get("refresh_token"))

    async def revoke(self, caller: Caller, refresh_token: str) -> None:
        """RFC 7009: the refresh token is dead, whatever the answer; a failure only leaves it to expire."""
        with contextlib.suppress(ApiError):
            await self.request(
                "POST",
                "/members/auth/revoke",
                caller,
                data={"token": refresh_token, "token_type_hint": "refresh_token"},
            )


def headers_for(caller: Caller) -> dict[str, str]:
    headers = {"X-Forwarded-For": caller.client_address, "Accept-Language": caller.language}
    if caller.access_token:
        headers["Authorization"] = f"Bearer {caller.access_token}"
    return headers


def api_error(answer: httpx.Response) -> ApiError:
    """The error in any of the shapes the services answer with: RFC 9457 problem details (with an `errors` list of
    {pointer, detail}), RFC 6749 token errors, FastAPI's validation list, or a plain {"detail": "..."}."""
    try:
        body = answer.json()
    except ValueError:
        body = None
    status = answer.status_code
    if not isinstance(body, dict):
        return ApiError(status, "rate_limited" if status == 429 else None, answer.reason_phrase)
    if isinstance(body.get("error"), str):  # RFC 6749 §5.2
        return ApiError(status, body["error"], str(body.get("error_description") or ""))
    fields = problem_fields(body.get("errors")) | validation_fields(body.get("detail"))
    detail = body.get("detail")
    message = detail if isinstance(detail, str) else str(body.get("title") or "")
    code = body.get("code") or body.get("type")
    return ApiError(status, str(code) if code else ("rate_limited" if status == 429 else None), message, fields)


def problem_fields(errors: object) -> dict[str, str]:
    if not isinstance(errors, list):
        return {}
    found: dict[str, str] = {}
    for error in errors:
        if isinstance(error, dict) and "pointer" in error:
            name = ".".join(part for part in str(error["pointer"]).split("/") if part and part != "body")
            found.setdefault(name, str(error.get("detail", "")))
    return found


def validation_fields(detail: object) -> dict[str, str]:
    """FastAPI's 422: [{"loc": ["body", "email"], "msg": "..."}]."""
    if not isinstance(detail, list):
        return {}
    found: dict[str, str] = {}
    for error in detail:
        if isinstance(error, dict) and isinstance(error.get("loc"), list):
            name = ".".join(str(part) for part in error["loc"] if part not in ("body", "query", "path"))
            found.setdefault(name, str(error.get("msg", "")))
    return found
