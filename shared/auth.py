"""Verifying the platform's access tokens, and role/ownership checks as FastAPI dependencies.

Tokens are RS256 JWTs signed by the members service; every service verifies them itself against the members
service's JWKS (fetched, cached, and fetched again when an unknown key id shows up). The algorithm is fixed, so a
token cannot choose `none` or HS256.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal, Protocol

import httpx
import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel

from shared.clock import Clock, utc_now
from shared.membership import Role

ALGORITHM = "RS256"


class Principal(BaseModel):
    """Who is calling: a person (with a role and maybe a company) or a partner system (with scopes)."""

    subject: str
    kind: Literal["person", "partner"]
    role: str
    company_id: str | None = None
    scopes: frozenset[str] = frozenset()

    @property
    def is_staff(self) -> bool:
        return self.role == Role.NETWORK_ADMIN


class KeySource(Protocol):
    async def public_key(self, kid: str) -> Any: ...


class JwksKeySource:
    """Public keys from a JWKS URL; an unknown `kid` triggers one refetch at most every 30 s."""

    def __init__(self, url: str, min_refetch_seconds: float = 30.0) -> None:
        self._url = url
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0
        self._min_refetch = min_refetch_seconds
        self._lock = asyncio.Lock()

    async def public_key(self, kid: str) -> Any:
        if kid not in self._keys:
            async with self._lock:
                if kid not in self._keys and time.monotonic() - self._fetched_at > self._min_refetch:
                    await self._fetch()
        return self._keys.get(kid)

    async def _fetch(self) -> None:
        self._fetched_at = time.monotonic()
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.get(self._url)
            response.raise_for_status()
        self._keys = {k["kid"]: jwt.PyJWK(k, algorithm=ALGORITHM).key for k in response.json()["keys"]}


class TokenVerifier:
    # Tokens already verified, until they expire: a client sends the same token with every request, and an RS256
    # check on each was a tenth of a write's time. Cleared whole when full; a forged token is never stored.
    _REMEMBERED = 10_000

    def __init__(self, keys: KeySource, issuer: str, audience: str, clock: Clock = utc_now) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._clock = clock
        self._verified: dict[str, tuple[Principal, float]] = {}

    async def verify(self, token: str) -> Principal:
        now = self._clock().timestamp()
        if (known := self._verified.get(token)) is not None and now < known[1]:
            return known[0]
        principal, expires_at = await self._verify_signed(token)
        if expires_at <= now:  # by the clock the remembered tokens are kept by, as well as by the library's
            raise _unauthorized("token expired")
        if len(self._verified) >= self._REMEMBERED:
            self._verified.clear()
        self._verified[token] = (principal, expires_at)
        return principal

    async def _verify_signed(self, token: str) -> tuple[Principal, float]:
        try:
            kid = jwt.get_unverified_header(token).get("kid", "")
            key = await self._keys.public_key(kid)
            if key is None:
                raise _unauthorized("token signed with an unknown key")
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise _unauthorized("token expired") from error
        except jwt.PyJWTError as error:
            raise _unauthorized(f"invalid token: {error}") from error
        principal = Principal(
            subject=claims["sub"],
            kind=claims.get("kind", "person"),
            role=claims.get("role", ""),
            company_id=claims.get("company_id"),
            scopes=frozenset(str(claims.get("scope", "")).split()),
        )
        return principal, float(claims["exp"])


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"})


_bearer = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


async def current_principal(request: Request, token: Annotated[str | None, Depends(_bearer)]) -> Principal:
    if not token:
        raise _unauthorized("missing bearer token")
    verifier: TokenVerifier = request.app.state.token_verifier
    return await verifier.verify(token)


async def optional_principal(request: Request, token: Annotated[str | None, Depends(_bearer)]) -> Principal | None:
    return await current_principal(request, token) if token else None


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


def require_role(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"requires role {' or '.join(roles)}")
        return principal

    return check


StaffPrincipal = Annotated[Principal, Depends(require_role(Role.NETWORK_ADMIN))]


def ensure_company_access(principal: Principal, company_id: str, *, write: bool) -> None:
    """Staff reach every company; a company's people reach their own (only its admins may change it)."""
    if principal.is_staff:
        return
    if principal.company_id != company_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="you may only act on your own company")
    if write and principal.role != Role.COMPANY_ADMIN:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="only the company's admins may change it")
