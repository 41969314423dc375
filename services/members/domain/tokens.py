"""Tokens: what an access token says, who gets one by which grant, how long access and refresh tokens last, and
what a presented refresh token leads to (rotation, refusal, or the revocation of its whole family).

The token endpoint answers as RFC 6749 §5 says, since every web, mobile and partner client builds on it; its
refusals are `TokenRefused`, never the service's other errors.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from shared.membership import PARTNER_ROLE, MembershipStatus, Role


class TokenErrorCode(StrEnum):
    """RFC 6749 §5.2's error codes, the ones this endpoint answers with."""

    INVALID_REQUEST = "invalid_request"
    INVALID_CLIENT = "invalid_client"
    INVALID_GRANT = "invalid_grant"
    UNSUPPORTED_GRANT_TYPE = "unsupported_grant_type"
    INVALID_SCOPE = "invalid_scope"


class TokenRefused(Exception):
    """A token request refused: 400 with its error code, 401 for a client that did not authenticate (RFC 6749
    §5.2), and 429 while logins of this account from this client are held back (`retry_after`)."""

    def __init__(self, error: TokenErrorCode, description: str, retry_after: timedelta | None = None) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.retry_after = retry_after

    @property
    def status(self) -> int:
        if self.error == TokenErrorCode.INVALID_CLIENT:
            return 401
        return 429 if self.retry_after is not None else 400


class GrantType(StrEnum):
    PASSWORD = "password"
    REFRESH_TOKEN = "refresh_token"
    CLIENT_CREDENTIALS = "client_credentials"


def grant_type_of(value: str | None) -> GrantType:
    if not value:
        raise TokenRefused(TokenErrorCode.INVALID_REQUEST, "grant_type is required")
    try:
        return GrantType(value)
    except ValueError:
        supported = ", ".join(grant.value for grant in GrantType)
        raise TokenRefused(
            TokenErrorCode.UNSUPPORTED_GRANT_TYPE, f"grant_type {value!r} is not supported; use one of {supported}"
        ) from None


def check_may_log_in(company_status: MembershipStatus) -> None:
    """A company's people log in while it is an active member: not while it applies, nor once it is suspended."""
    if company_status != MembershipStatus.ACTIVE:
        raise TokenRefused(
            TokenErrorCode.INVALID_GRANT,
            f"your company's membership is {company_status}; login opens once it is active",
        )


def partner_scopes(granted: Collection[str], requested: Collection[str]) -> frozenset[str]:
    """A partner system's token carries the scopes it asks for, each granted to it; asking none, all it has."""
    not_granted = set(requested) - set(granted)
    if not_granted:
        raise TokenRefused(
            TokenErrorCode.INVALID_SCOPE, f"scopes not granted to this client: {' '.join(sorted(not_granted))}"
        )
    return frozenset(requested or granted)


@dataclass(frozen=True)
class AccessToken:
    """What an access token says: who holds it (a person or a partner system), as what, and until when.
    A person's token names their role and company; a partner's its role `partner` and its scopes."""

    subject: str
    kind: Literal["person", "partner"]
    role: str
    issued_at: datetime
    lifetime: timedelta
    company_id: str | None = None
    scopes: frozenset[str] | None = None

    @property
    def expires_at(self) -> datetime:
        return self.issued_at + self.lifetime


def person_token(person_id: str, role: Role, company_id: str | None, now: datetime, lifetime: timedelta) -> AccessToken:
    return AccessToken(person_id, "person", role, now, lifetime, company_id=company_id)


def partner_token(
    client_id: str, granted: Collection[str], requested: Collection[str], now: datetime, lifetime: timedelta
) -> AccessToken:
    return AccessToken(client_id, "partner", PARTNER_ROLE, now, lifetime, scopes=partner_scopes(granted, requested))


class RefreshOutcome(StrEnum):
    """What a presented refresh token leads to."""

    ROTATE = "rotate"  # it is spent, and a new one of its family takes its place
    REFUSE = "refuse"  # unknown, expired or revoked: nothing else changes
    REVOKE_FAMILY = "revoke_family"  # already rotated: someone replays it, so every token of the session ends


@dataclass(frozen=True)
class RefreshTokenState:
    """What is known of a refresh token: when it lapses, and whether it was rotated or revoked."""

    expires_at: datetime
    rotated_at: datetime | None = None
    revoked_at: datetime | None = None


def refresh_outcome(token: RefreshTokenState | None, now: datetime) -> RefreshOutcome:
    """Refresh tokens are single-use (rotation, RFC 9700 §4.14.2): a second use of one means it leaked, and either
    the thief or its owner holds the family's newest token, so the whole family is revoked (the owner logs in
    again)."""
    if token is None or token.revoked_at is not None:
        return RefreshOutcome.REFUSE
    if token.rotated_at is not None:
        return RefreshOutcome.REVOKE_FAMILY
    if token.expires_at <= now:
        return RefreshOutcome.REFUSE
    return RefreshOutcome.ROTATE


REFRESH_REFUSALS: dict[RefreshOutcome, str] = {
    RefreshOutcome.REFUSE: "the refresh token is unknown, expired or revoked; log in again",
    RefreshOutcome.REVOKE_FAMILY: "the refresh token was already used; its session is ended, log in again",
}


@dataclass(frozen=True)
class TokenLifetimes:
    """An access token lasts minutes (it cannot be revoked, only outlived); a refresh token a working day, each
    rotation starting it again, so a person at work stays logged in and one away for a night logs in again."""

    access: timedelta
    refresh: timedelta
