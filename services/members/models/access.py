"""Getting in: refresh tokens (stored hashed, one family per login), login throttles per (account, client),
invitations and password resets (single-use links, stored hashed), and the token endpoint's requests and
answers."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote_plus

from pydantic import EmailStr, field_validator
from sqlmodel import Field, SQLModel

from services.members.domain import (
    MIN_PASSWORD_LENGTH,
    GrantType,
    Language,
    LoginThrottle,
    RefreshTokenState,
    TokenErrorCode,
    TokenRefused,
    check_password_strength,
    grant_type_of,
)
from shared.columns import enum_column, timestamp
from shared.ids import new_id
from shared.membership import Role
from shared.text import Line

# A SHA-256 digest in hex: the tokens are 256 random bits, so a plain digest keeps them as safe as a password hash
# would, and lets a presented token be found by an index.
DIGEST_LENGTH = 64


class RefreshToken(SQLModel, table=True):
    """One refresh token of a session (its family: every token rotated from one login)."""

    __tablename__ = "refresh_token"

    id: str = Field(default_factory=new_id, primary_key=True)
    digest: str = Field(unique=True, max_length=DIGEST_LENGTH)
    family_id: str = Field(index=True)
    person_id: str = Field(foreign_key="person.id", index=True)
    issued_at: datetime = timestamp()
    expires_at: datetime = timestamp()
    rotated_at: datetime | None = timestamp(default=None, nullable=True)
    revoked_at: datetime | None = timestamp(default=None, nullable=True)

    def state(self) -> RefreshTokenState:
        return RefreshTokenState(self.expires_at, self.rotated_at, self.revoked_at)


class LoginAttempts(SQLModel, table=True):
    """Wrong passwords for one account (the username as typed, lower case) from one client address."""

    __tablename__ = "login_attempts"

    account: str = Field(primary_key=True, max_length=320)
    client_address: str = Field(primary_key=True, max_length=100)
    failures: int = 0
    locked_until: datetime | None = timestamp(default=None, nullable=True)

    def throttle(self) -> LoginThrottle:
        return LoginThrottle(self.failures, self.locked_until)


class Invitation(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True)
    digest: str = Field(unique=True, max_length=DIGEST_LENGTH)
    company_id: str = Field(foreign_key="company.id", index=True)
    email: str = Field(max_length=320)
    role: Role = enum_column(Role)
    language: Language = enum_column(Language)
    invited_by: str = Field(foreign_key="person.id")
    created_at: datetime = timestamp()
    expires_at: datetime = timestamp()
    accepted_at: datetime | None = timestamp(default=None, nullable=True)
    person_id: str | None = Field(default=None, foreign_key="person.id")


class PasswordReset(SQLModel, table=True):
    __tablename__ = "password_reset"

    id: str = Field(default_factory=new_id, primary_key=True)
    digest: str = Field(unique=True, max_length=DIGEST_LENGTH)
    person_id: str = Field(foreign_key="person.id", index=True)
    created_at: datetime = timestamp()
    expires_at: datetime = timestamp()
    used_at: datetime | None = timestamp(default=None, nullable=True)


class NewPassword(SQLModel):
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=200, description="At least 12 characters")

    @field_validator("password")
    @classmethod
    def _strong(cls, value: str) -> str:
        check_password_strength(value)
        return value


class InvitationCreate(SQLModel):
    email: EmailStr
    role: Role = Field(default=Role.COMPANY_MEMBER, description="company_member or company_admin")
    language: Language = Field(default=Language.IT, description="The language the invitation is written in")


class InvitationCreated(SQLModel):
    id: str
    email: str
    expires_at: datetime


class InvitationPublic(SQLModel):
    """What the invited person sees on opening the link."""

    email: str
    company_name: str
    expires_at: datetime


class InvitationAcceptance(NewPassword):
    given_name: Line = Field(min_length=1, max_length=100)
    family_name: Line = Field(min_length=1, max_length=100)
    language: Language = Language.IT


class PasswordResetRequest(SQLModel):
    email: EmailStr


class TokenResponse(SQLModel):
    """RFC 6749 §5.1."""

    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    refresh_token: str | None = Field(default=None, description="Password and refresh_token grants")
    scope: str | None = Field(default=None, description="A partner's granted scopes")


class TokenErrorResponse(SQLModel):
    """RFC 6749 §5.2."""

    error: TokenErrorCode
    error_description: str


# The token endpoint's form (RFC 6749 §4.3, §4.4, §6), with the longest value each parameter may have.
TOKEN_FORM_LIMITS: dict[str, int] = {
    "grant_type": 40,
    "username": 320,
    "password": 200,
    "refresh_token": 200,
    "scope": 1000,
    "client_id": 64,
    "client_secret": 200,
}
TOKEN_FORM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["grant_type"],
    "properties": {
        "grant_type": {"type": "string", "enum": [grant.value for grant in GrantType]},
        **{
            name: {"type": "string", "maxLength": limit}
            for name, limit in TOKEN_FORM_LIMITS.items()
            if name != "grant_type"
        },
    },
}


# RFC 7009 §2.1; the token may be an access token too (a JWT), accepted and left to lapse.
REVOCATION_FORM_LIMITS: dict[str, int] = {"token": 4096, "token_type_hint": 40}
REVOCATION_FORM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["token"],
    "properties": {
        "token": {"type": "string", "minLength": 1, "maxLength": REVOCATION_FORM_LIMITS["token"]},
        "token_type_hint": {"type": "string", "maxLength": REVOCATION_FORM_LIMITS["token_type_hint"]},
    },
}


@dataclass(frozen=True)
class RevocationRequest:
    token: str

    @classmethod
    def of(cls, form: Sequence[tuple[str, object]]) -> RevocationRequest:
        parameters = _form_parameters(form, REVOCATION_FORM_LIMITS)
        if not parameters.get("token"):
            raise _invalid_request("token is required")
        return cls(parameters["token"])


@dataclass(frozen=True)
class TokenRequest:
    """A token request as RFC 6749 reads it: the grant, its parameters, and the client's credentials, sent by
    HTTP Basic (§2.3.1) or in the form, not both."""

    grant_type: GrantType
    parameters: dict[str, str]
    client_id: str | None = None
    client_secret: str | None = None

    @classmethod
    def of(cls, form: Sequence[tuple[str, object]], authorization: str | None) -> TokenRequest:
        parameters = _form_parameters(form, TOKEN_FORM_LIMITS)
        grant_type = grant_type_of(parameters.get("grant_type"))
        client_id, client_secret = _client_credentials(parameters, authorization)
        return cls(grant_type, parameters, client_id, client_secret)

    def required(self, *names: str) -> list[str]:
        missing = [name for name in names if not self.parameters.get(name)]
        if missing:
            raise _invalid_request(f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} required")
        return [self.parameters[name] for name in names]

    @property
    def scopes(self) -> set[str]:
        return set(self.parameters.get("scope", "").split())


def _form_parameters(form: Sequence[tuple[str, object]], limits: dict[str, int]) -> dict[str, str]:
    """An OAuth form's parameters: each known one text, given at most once and within its length; others are
    ignored (RFC 6749 §3.2, RFC 7009 §2.1)."""
    parameters: dict[str, str] = {}
    for name, value in form:
        if name not in limits:
            continue
        if not isinstance(value, str):
            raise _invalid_request(f"{name} must be a form field, not a file")
        if name in parameters:
            raise _invalid_request(f"{name} is given more than once")
        if len(value) > limits[name]:
            raise _invalid_request(f"{name} is longer than {limits[name]} characters")
        parameters[name] = value
    return parameters


def _invalid_request(description: str) -> TokenRefused:
    return TokenRefused(TokenErrorCode.INVALID_REQUEST, description)


def _client_credentials(parameters: dict[str, str], authorization: str | None) -> tuple[str | None, str | None]:
    in_form = parameters.get("client_id") or None, parameters.get("client_secret") or None
    if authorization is None:
        return in_form
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        raise TokenRefused(TokenErrorCode.INVALID_CLIENT, "clients authenticate with HTTP Basic")
    try:
        client_id, separator, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        client_id, separator, secret = "", "", ""
    if not separator:
        raise TokenRefused(TokenErrorCode.INVALID_CLIENT, "the Basic credentials are not client_id:client_secret")
    # §2.3.1: each is form-urlencoded before the pair is encoded.
    client_id, secret = unquote_plus(client_id), unquote_plus(secret)
    if in_form[1] is not None or in_form[0] not in (None, client_id):
        raise _invalid_request("client credentials are given both by HTTP Basic and in the form; use one")
    return client_id, secret or None
