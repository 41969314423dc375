"""HTTP routes of the members service. Routes are thin: they parse the request, say who is calling, and call a
use case (commands, which authorises) or, for what is public, a query of the store."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse

from services.members import commands, store
from services.members.domain import (
    ACTIONS_NEEDING_REASON,
    Capability,
    DirectoryQuery,
    MembershipAction,
    TokenErrorCode,
    TokenRefused,
)
from services.members.identity import KeyRing, token_claims
from services.members.models import (
    TOKEN_FORM_SCHEMA,
    CompanyApplication,
    CompanyPublic,
    CompanyUpdate,
    DirectoryEntry,
    FeeCreate,
    FeePublic,
    GovernanceTermCreate,
    GovernanceTermEnd,
    GovernanceTermPublic,
    InvitationAcceptance,
    InvitationCreate,
    InvitationCreated,
    InvitationPublic,
    MembershipDecision,
    MembershipStepPublic,
    NewPassword,
    PartnerClientCreate,
    PartnerClientCreated,
    PasswordChange,
    PasswordResetRequest,
    PaymentCreate,
    PersonCreate,
    PersonPublic,
    PersonUpdate,
    ReasonedMembershipDecision,
    StaffCreate,
    TokenErrorResponse,
    TokenRequest,
    TokenResponse,
)
from services.members.settings import MembersSettings
from shared.api import ERRORS, ClockDep, Page, PageNumber, PageSize, SettingsDep, UnitOfWorkDep
from shared.auth import CurrentPrincipal
from shared.clock import rome_date
from shared.ids import Id
from shared.membership import MembershipStatus


async def key_ring(request: Request) -> KeyRing:
    ring: KeyRing = request.app.state.key_ring
    return ring


KeyRingDep = Annotated[KeyRing, Depends(key_ring)]


companies = APIRouter(prefix="/companies", tags=["companies"], responses=ERRORS)


@companies.post(
    "/applications",
    status_code=201,
    response_model=CompanyPublic,
    summary="A company applies to join the network (public)",
)
async def apply(application: CompanyApplication, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.apply_for_membership(uow, application)


@companies.get("", response_model=Page[CompanyPublic], summary="All companies, by membership status (staff)")
async def list_companies(
    principal: CurrentPrincipal,
    uow: UnitOfWorkDep,
    page: PageNumber = 1,
    page_size: PageSize = 50,
    membership_status: Annotated[MembershipStatus | None, Query(alias="status")] = None,
) -> Any:
    async with uow:
        return await commands.list_companies(uow, principal, membership_status, page, page_size)


@companies.get("/{company_id:id}", response_model=CompanyPublic, summary="One company (staff or its own people)")
async def get_company(company_id: Id, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.get_company(uow, company_id, principal)


@companies.patch("/{company_id:id}", response_model=CompanyPublic, summary="Edit a company (staff or its admins)")
async def update_company(company_id: Id, update: CompanyUpdate, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.update_company(uow, company_id, update, principal)


@companies.get(
    "/{company_id:id}/history",
    response_model=list[MembershipStepPublic],
    summary="Membership steps: who took them and when",
)
async def membership_history(company_id: Id, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.membership_history(uow, company_id, principal)


@companies.get("/{company_id:id}/people", response_model=list[PersonPublic], summary="The company's people")
async def company_people(company_id: Id, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.company_people(uow, company_id, principal)


@companies.post(
    "/{company_id:id}/people",
    status_code=201,
    response_model=PersonPublic,
    summary="Add a colleague (the company's admins, or staff)",
)
async def add_person(company_id: Id, data: PersonCreate, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.add_colleague(uow, company_id, data, principal)


@companies.post(
    "/{company_id:id}/invitations",
    status_code=201,
    response_model=InvitationCreated,
    summary="Invite a colleague by email (the company's admins, or staff); they set their own password",
)
async def invite_colleague(
    company_id: Id,
    data: InvitationCreate,
    principal: CurrentPrincipal,
    uow: UnitOfWorkDep,
    config: SettingsDep[MembersSettings],
) -> Any:
    async with uow:
        return await commands.invite_colleague(uow, company_id, data, principal, config.invitation_lifetime)


@companies.get("/{company_id:id}/fees", response_model=list[FeePublic], summary="The company's annual fees")
async def company_fees(company_id: Id, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.company_fees(uow, company_id, principal)


@companies.post("/{company_id:id}/fees", status_code=201, response_model=FeePublic, summary="Assess a fee (staff)")
async def assess_fee(company_id: Id, data: FeeCreate, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.assess_fee(uow, company_id, data, principal)


def _membership_route(action: MembershipAction) -> Callable[..., Awaitable[Any]]:
    async def change_membership(
        company_id: Id, principal: CurrentPrincipal, uow: UnitOfWorkDep, decision: MembershipDecision | None = None
    ) -> Any:
        async with uow:
            reason = decision.reason if decision else None
            return await commands.change_membership(uow, company_id, action, principal, reason)

    return change_membership


def _reasoned_membership_route(action: MembershipAction) -> Callable[..., Awaitable[Any]]:
    async def change_membership(
        company_id: Id, decision: ReasonedMembershipDecision, principal: CurrentPrincipal, uow: UnitOfWorkDep
    ) -> Any:
        async with uow:
            return await commands.change_membership(uow, company_id, action, principal, decision.reason)

    return change_membership


def _register_membership_action(action: MembershipAction) -> None:
    """One route per action (POST /companies/{id}/approve, ...): each documented, none shadowing another path."""
    reasoned = action in ACTIONS_NEEDING_REASON
    route = _reasoned_membership_route(action) if reasoned else _membership_route(action)
    companies.add_api_route(
        f"/{{company_id:id}}/{action.value}",
        route,
        methods=["POST"],
        response_model=CompanyPublic,
        name=f"{action.value}_company",
        summary=f"{action.value.capitalize()} a company's membership" + (" (a reason is required)" if reasoned else ""),
    )


for _action in MembershipAction:
    _register_membership_action(_action)


fees = APIRouter(prefix="/fees", tags=["fees"], responses=ERRORS)


@fees.get("/overdue", response_model=list[FeePublic], summary="Fees past their due date and not fully paid (staff)")
async def overdue_fees(principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.overdue_fees(uow, principal)


@fees.post("/{fee_id:id}/payments", response_model=FeePublic, summary="Record a payment (staff)")
async def record_payment(fee_id: Id, data: PaymentCreate, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.record_payment(uow, fee_id, data, principal)


people = APIRouter(prefix="/people", tags=["people"], responses=ERRORS)


@people.post("/staff", status_code=201, response_model=PersonPublic, summary="Add a network staff member (staff)")
async def add_staff(data: StaffCreate, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.add_staff(uow, data, principal)


@people.get("/me", response_model=PersonPublic, summary="The person behind the token")
async def me(principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.get_person(uow, principal.subject, principal)


@people.put("/me/password", status_code=204, summary="Change one's own password")
async def change_password(change: PasswordChange, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> None:
    async with uow:
        await commands.change_password(uow, principal, change.current_password, change.new_password)


@people.get("/{person_id:id}", response_model=PersonPublic, summary="One person (self, their company's admins, staff)")
async def get_person(person_id: Id, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.get_person(uow, person_id, principal)


@people.patch("/{person_id:id}", response_model=PersonPublic, summary="Edit a person")
async def update_person(person_id: Id, update: PersonUpdate, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.update_person(uow, person_id, update, principal)


@people.get("/{person_id:id}/export", summary="GDPR: everything held about a person")
async def export_person(person_id: Id, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> dict[str, Any]:
    async with uow:
        return await commands.export_person(uow, person_id, principal)


@people.post("/{person_id:id}/erasure", status_code=204, summary="GDPR: erase a person here and in every service")
async def erase_person(person_id: Id, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> None:
    async with uow:
        await commands.erase_person(uow, person_id, principal)


governance = APIRouter(prefix="/governance", tags=["governance"], responses=ERRORS)


@governance.get("", response_model=list[GovernanceTermPublic], summary="The network's bodies and who serves (public)")
async def list_governance(
    uow: UnitOfWorkDep,
    clock: ClockDep,
    # A string checked by hand: as a `date`, pydantic would also take `on=0` as 1970-01-01.
    on: Annotated[
        str | None,
        Query(
            pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
            description="A date, YYYY-MM-DD",
            json_schema_extra={"format": "date"},
        ),
    ] = None,
    include_past: bool = False,
) -> Any:
    try:
        day = date.fromisoformat(on) if on else rome_date(clock())
    except ValueError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"'on' is not a date: {error}") from error
    async with uow:
        return await store.governance(uow.session, None if include_past else day)


@governance.post("", status_code=201, response_model=GovernanceTermCreate, summary="Start a term of office (staff)")
async def start_term(data: GovernanceTermCreate, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.start_governance_term(uow, data, principal)


@governance.post("/{term_id:id}/end", response_model=GovernanceTermCreate, summary="End a term of office (staff)")
async def end_term(term_id: Id, data: GovernanceTermEnd, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.end_governance_term(uow, term_id, data.term_to, principal)


directory = APIRouter(prefix="/directory", tags=["directory"])


@directory.get(
    "", response_model=Page[DirectoryEntry], summary="Public B2B directory of the district's active member companies"
)
async def search_directory(
    uow: UnitOfWorkDep,
    q: Annotated[str | None, Query(max_length=200, description="Free text, Italian or English")] = None,
    capability: Capability | None = None,
    ateco: Annotated[str | None, Query(max_length=8, description="Code or prefix, e.g. 15.20")] = None,
    certification: Annotated[str | None, Query(max_length=100)] = None,
    market: Annotated[str | None, Query(min_length=2, max_length=2, description="ISO country code")] = None,
    lang: Annotated[str, Query(pattern="^(it|en)$")] = "it",
    page: PageNumber = 1,
    page_size: PageSize = 20,
) -> Any:
    async with uow:
        return await store.directory(
            uow.session, DirectoryQuery(q, capability, ateco, certification, market), lang, page, page_size
        )


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
)
async def revoke(
    uow: UnitOfWorkDep,
    # Long enough for an access token too (a JWT), which is accepted and left to lapse.
    token: Annotated[str | None, Form(max_length=4096)] = None,
    token_type_hint: Annotated[str | None, Form(max_length=40)] = None,
) -> Response:
    # The hint may be ignored (§2.1): only refresh tokens can be revoked, and the token is looked up as one.
    if not token:
        raise TokenRefused(TokenErrorCode.INVALID_REQUEST, "token is required")
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


ROUTERS = [auth, companies, fees, people, governance, directory, invitations, password_resets]
