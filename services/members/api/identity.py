"""Routes of identity: the OAuth2 token endpoint (RFC 6749) and revocation (RFC 7009), the JWKS, partner clients,
invitations and password resets (public: their token is the permission)."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response, status
from fastapi.responses import JSONResponse

from services.members import commands
from services.members.domain import TokenRefused
from services.members.identity import KeyRing, token_claims
from services.members.models import (
    REVOCATION_FORM_SCHEMA,
    TOKEN_FORM_SCHEMA,
    InvitationAcceptance,
    InvitationPublic,
    NewPassword,
    PartnerClientCreate,
    PartnerClientCreated,
    PasswordResetRequest,
    PersonPublic,
    RevocationRequest,
    TokenErrorResponse,
    TokenRequest,
    TokenResponse,
)
from services.members.settings import MembersSettings
from shared.api import ERRORS, SettingsDep, UnitOfWorkDep
from shared.auth import CurrentPrincipal


async def key_ring(request: Request) -> KeyRing:
    ring: KeyRing = request.app.state.key_ring
    return ring


KeyRingDep = Annotated[KeyRing, Depends(key_ring)]


auth = APIRouter(tags=["identity"], responses=ERRORS)

# An answer with tokens, or about them, is kept by no cache (RFC 6749 §5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
TOKEN_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": TokenErrorResponse, "description": "RFC 6749 §5.2: invalid_request, invalid_grant, ..."},
    401: {"model": TokenErrorResponse, "description": "invalid_client (WWW-Authenticate: Basic)"},
    429: {"model": TokenErrorResponse, "description": "Too many failed logins of this account from this client"},
}


async def token_refused(_request: Request, error: Exception) -> JSONResponse:
    """RFC 6749 §5.2's answer to a refused token request."""
    assert isinstance(error, TokenRefused)
    headers = dict(NO_STORE)
    if error.status == status.HTTP_401_UNAUTHORIZED:
        headers["WWW-Authenticate"] = 'Basic realm="filiera"'
    if error.retry_after is not None:
        headers["Retry-After"] = str(math.ceil(error.retry_after.total_seconds()))
    body = TokenErrorResponse(error=error.error, error_description=error.description)
    return JSONResponse(body.model_dump(mode="json"), status_code=error.status, headers=headers)


def client_address(request: Request) -> str:
    """Who is asking: the address the gateway saw (X-Real-IP; members is reached only through it)."""
    return request.headers.get("X-Real-IP") or (request.client.host if request.client else "unknown")


@auth.post(
    "/auth/token",
    response_model=TokenResponse,
    response_model_exclude_none=True,
    responses=TOKEN_ERRORS,
    summary="OAuth2 token (RFC 6749): password and refresh_token grants for people, client_credentials for partners",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": TOKEN_FORM_SCHEMA}},
        }
    },
)
async def token(request: Request, uow: UnitOfWorkDep, config: SettingsDep[MembersSettings], keys: KeyRingDep) -> Any:
    asked = TokenRequest.of((await request.form()).multi_items(), request.headers.get("Authorization"))
    async with uow:
        issued = await commands.grant_tokens(uow, asked, client_address(request), config)
    access = issued.access
    answer = TokenResponse(
        access_token=keys.sign(token_claims(access, config.jwt_issuer, config.jwt_audience)),
        expires_in=int(access.lifetime.total_seconds()),
        refresh_token=issued.refresh_token,
        scope=" ".join(sorted(access.scopes)) if access.scopes is not None else None,
    )
    return JSONResponse(answer.model_dump(mode="json", exclude_none=True), headers=NO_STORE)


@auth.post(
    "/auth/revoke",
    response_class=Response,
    responses={200: {"description": "Revoked, or nothing to revoke (RFC 7009 §2.2)"}, 400: TOKEN_ERRORS[400]},
    summary="End a session: revoke a refresh token and every token rotated from its login (RFC 7009)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": REVOCATION_FORM_SCHEMA}},
        }
    },
)
async def revoke(request: Request, uow: UnitOfWorkDep) -> Response:
    # The hint may be ignored (§2.1): only refresh tokens can be revoked, and the token is looked up as one.
    token = RevocationRequest.of((await request.form()).multi_items()).token
    async with uow:
        await commands.revoke_token(uow, token)
    return Response(status_code=status.HTTP_200_OK, headers=NO_STORE)


@auth.get("/.well-known/jwks.json", summary="Public keys that verify the platform's access tokens")
async def jwks(keys: KeyRingDep) -> dict[str, Any]:
    return keys.jwks()


@auth.post(
    "/partner-clients",
    status_code=201,
    response_model=PartnerClientCreated,
    summary="Register a partner system for client-credentials tokens (staff)",
)
async def register_partner(data: PartnerClientCreate, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.register_partner_client(uow, data, principal)


Token = Annotated[str, Path(min_length=20, max_length=100, description="The token of the link sent by email")]
invitations = APIRouter(prefix="/invitations", tags=["invitations"], responses=ERRORS)


@invitations.get(
    "/{token}",
    response_model=InvitationPublic,
    responses={410: {"description": "Used or expired"}},
    summary="An invitation, as its link shows it (public: the token is the permission)",
)
async def open_invitation(token: Token, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.open_invitation(uow, token)


@invitations.post(
    "/{token}/accept",
    status_code=201,
    response_model=PersonPublic,
    responses={410: {"description": "Used or expired"}},
    summary="Accept an invitation: set one's own password and join the company",
)
async def accept_invitation(token: Token, acceptance: InvitationAcceptance, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.accept_invitation(uow, token, acceptance)


password_resets = APIRouter(prefix="/password-resets", tags=["identity"], responses=ERRORS)


@password_resets.post(
    "",
    status_code=202,
    response_class=Response,
    responses={202: {"description": "Accepted, whether or not the address has an account"}},
    summary="Ask for a password reset link by email (the answer never tells whether the address has an account)",
)
async def request_password_reset(
    data: PasswordResetRequest, uow: UnitOfWorkDep, config: SettingsDep[MembersSettings]
) -> Response:
    async with uow:
        await commands.request_password_reset(uow, data.email, config.password_reset_lifetime)
    return Response(status_code=status.HTTP_202_ACCEPTED)


@password_resets.post(
    "/{token}",
    status_code=204,
    responses={410: {"description": "Used or expired"}},
    summary="Set a new password with a reset link's token; every session of the person ends",
)
async def reset_password(token: Token, data: NewPassword, uow: UnitOfWorkDep) -> None:
    async with uow:
        await commands.reset_password(uow, token, data.password)
