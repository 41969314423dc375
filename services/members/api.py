"""HTTP routes of the members service. Routes are thin: they check who is calling and call a command or a query."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status

from services.members import commands, store
from services.members.domain import ACTIONS_NEEDING_REASON, Capability, DirectoryQuery, MembershipAction, fee_overdue
from services.members.identity import KeyRing, person_claims, token_claims
from services.members.models import (
    CompanyApplication,
    CompanyPublic,
    CompanyUpdate,
    DirectoryEntry,
    Fee,
    FeeCreate,
    FeePublic,
    GovernanceTermCreate,
    GovernanceTermEnd,
    GovernanceTermPublic,
    MembershipDecision,
    MembershipStepPublic,
    PartnerClientCreate,
    PartnerClientCreated,
    PasswordChange,
    PaymentCreate,
    PersonCreate,
    PersonPublic,
    PersonUpdate,
    ReasonedMembershipDecision,
    StaffCreate,
    TokenResponse,
)
from services.members.settings import MembersSettings
from shared.api import ERRORS, Page, PageNumber, PageSize, UnitOfWorkDep
from shared.auth import CurrentPrincipal, StaffPrincipal, ensure_company_access
from shared.ids import Id
from shared.membership import MembershipStatus, Role


async def settings(request: Request) -> MembersSettings:
    return request.app.state.runtime.settings


async def key_ring(request: Request) -> KeyRing:
    return request.app.state.key_ring


SettingsDep = Annotated[MembersSettings, Depends(settings)]


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
    _staff: StaffPrincipal,
    uow: UnitOfWorkDep,
    page: PageNumber = 1,
    page_size: PageSize = 50,
    membership_status: Annotated[MembershipStatus | None, Query(alias="status")] = None,
) -> Any:
    async with uow:
        items, total = await store.list_companies(uow.session, membership_status, page, page_size)
    return Page(
        items=[CompanyPublic.model_validate(c, from_attributes=True) for c in items],
        total=total,
        page=page,
        page_size=page_size,
    )


@companies.get("/{company_id:id}", response_model=CompanyPublic, summary="One company (staff or its own people)")
async def get_company(company_id: Id, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    ensure_company_access(principal, company_id, write=False)
    async with uow:
        return await store.get_company(uow.session, company_id)


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
    ensure_company_access(principal, company_id, write=False)
    async with uow:
        await store.get_company(uow.session, company_id)
        return await store.membership_history(uow.session, company_id)


@companies.get("/{company_id:id}/people", response_model=list[PersonPublic], summary="The company's people")
async def company_people(company_id: Id, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    ensure_company_access(principal, company_id, write=False)
    async with uow:
        await store.get_company(uow.session, company_id)
        return await store.people_of(uow.session, company_id)


@companies.post(
    "/{company_id:id}/people",
    status_code=201,
    response_model=PersonPublic,
    summary="Add a colleague (the company's admins, or staff)",
)
async def add_person(company_id: Id, data: PersonCreate, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.add_person(uow, company_id, data, principal)


def fee_public(fee: Fee) -> FeePublic:
    return FeePublic(
        **fee.model_dump(),
        outstanding_cents=fee.amount_cents - fee.paid_cents,
        overdue=fee_overdue(fee.due_date, fee.paid_cents, fee.amount_cents, date.today()),
    )


@companies.get("/{company_id:id}/fees", response_model=list[FeePublic], summary="The company's annual fees")
async def company_fees(company_id: Id, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    ensure_company_access(principal, company_id, write=False)
    async with uow:
        await store.get_company(uow.session, company_id)
        return [fee_public(f) for f in await store.fees_of(uow.session, company_id)]


@companies.post("/{company_id:id}/fees", status_code=201, response_model=FeePublic, summary="Assess a fee (staff)")
async def assess_fee(company_id: Id, data: FeeCreate, _staff: StaffPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return fee_public(await commands.assess_fee(uow, company_id, data))


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
async def overdue_fees(_staff: StaffPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return [fee_public(f) for f in await store.overdue_fees(uow.session, date.today())]


@fees.post("/{fee_id:id}/payments", response_model=FeePublic, summary="Record a payment (staff)")
async def record_payment(fee_id: Id, data: PaymentCreate, staff: StaffPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return fee_public(await commands.record_payment(uow, fee_id, data, staff))


people = APIRouter(prefix="/people", tags=["people"], responses=ERRORS)


@people.post("/staff", status_code=201, response_model=PersonPublic, summary="Add a network staff member (staff)")
async def add_staff(data: StaffCreate, staff: StaffPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.add_person(uow, None, PersonCreate(**data.model_dump(), role=Role.NETWORK_ADMIN), staff)


@people.get("/me", response_model=PersonPublic, summary="The person behind the token")
async def me(principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await store.get_person(uow.session, principal.subject)


@people.put("/me/password", status_code=204, summary="Change one's own password")
async def change_password(change: PasswordChange, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> None:
    async with uow:
        await commands.change_password(uow, principal, change.current_password, change.new_password)


@people.get("/{person_id:id}", response_model=PersonPublic, summary="One person (self, their company's admins, staff)")
async def get_person(person_id: Id, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        person = await store.get_person(uow.session, person_id)
        commands.ensure_person_access(principal, person, write=False)
        return person


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
        day = date.fromisoformat(on) if on else date.today()
    except ValueError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"'on' is not a date: {error}") from error
    async with uow:
        rows = await store.governance_terms(uow.session, None if include_past else day)
        companies_by_id = {
            p.company_id: await store.get_company(uow.session, p.company_id) for _, p in rows if p.company_id
        }
    return [
        GovernanceTermPublic(
            id=term.id,
            office=term.office,
            term_from=term.term_from,
            term_to=term.term_to,
            person_name=f"{person.given_name} {person.family_name}",
            company_name=companies_by_id[person.company_id].legal_name if person.company_id else None,  # type: ignore[union-attr]
        )
        for term, person in rows
    ]


@governance.post("", status_code=201, response_model=GovernanceTermCreate, summary="Start a term of office (staff)")
async def start_term(data: GovernanceTermCreate, _staff: StaffPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.start_governance_term(uow, data)


@governance.post("/{term_id:id}/end", response_model=GovernanceTermCreate, summary="End a term of office (staff)")
async def end_term(term_id: Id, data: GovernanceTermEnd, _staff: StaffPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.end_governance_term(uow, term_id, data.term_to)


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
    query = DirectoryQuery(q, capability, ateco, certification, market)
    async with uow:
        candidates = await store.directory_candidates(uow.session)
    matches = [company for company in candidates if query.admits(company)]
    start = (page - 1) * page_size
    return Page(
        items=[_directory_entry(c, lang) for c in matches[start : start + page_size]],
        total=len(matches),
        page=page,
        page_size=page_size,
    )


def _directory_entry(company: Any, lang: str) -> DirectoryEntry:
    description = company.description_en if lang == "en" and company.description_en else company.description_it
    return DirectoryEntry.model_validate({**company.model_dump(), "description": description})


auth = APIRouter(tags=["identity"], responses=ERRORS)


@auth.post(
    "/auth/token",
    response_model=TokenResponse,
    summary="OAuth2 token: password grant for people, client_credentials for partner systems",
)
async def token(
    uow: UnitOfWorkDep,
    config: SettingsDep,
    keys: Annotated[KeyRing, Depends(key_ring)],
    grant_type: Annotated[str, Form(pattern="^(password|client_credentials)$")],
    username: Annotated[str | None, Form(max_length=320)] = None,
    password: Annotated[str | None, Form(max_length=200)] = None,
    client_id: Annotated[str | None, Form(max_length=64)] = None,
    client_secret: Annotated[str | None, Form(max_length=200)] = None,
    scope: Annotated[str, Form(max_length=1000)] = "",
) -> Any:
    lifetime = timedelta(minutes=config.access_token_minutes)
    async with uow:
        if grant_type == "password":
            if not username or not password:
                raise HTTPException(status.HTTP_400_BAD_REQUEST, "username and password are required")
            person = await commands.password_login(
                uow, username, password, config.login_max_failures, timedelta(minutes=config.login_lockout_minutes)
            )
            claims = token_claims(person.id, config.jwt_issuer, config.jwt_audience, lifetime, **person_claims(person))
        else:
            if not client_id or not client_secret:
                raise HTTPException(status.HTTP_400_BAD_REQUEST, "client_id and client_secret are required")
            requested = set(scope.split())
            client = await commands.partner_login(uow, client_id, client_secret, requested)
            granted = " ".join(sorted(requested or set(client.scopes)))
            claims = token_claims(
                client.id,
                config.jwt_issuer,
                config.jwt_audience,
                lifetime,
                kind="partner",
                role="partner",
                scope=granted,
            )
    return TokenResponse(access_token=keys.sign(claims), expires_in=int(lifetime.total_seconds()))


@auth.get("/.well-known/jwks.json", summary="Public keys that verify the platform's access tokens")
async def jwks(keys: Annotated[KeyRing, Depends(key_ring)]) -> dict[str, Any]:
    return keys.jwks()


@auth.post(
    "/partner-clients",
    status_code=201,
    response_model=PartnerClientCreated,
    summary="Register a partner system for client-credentials tokens (staff)",
)
async def register_partner(data: PartnerClientCreate, staff: StaffPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.register_partner_client(uow, data, staff)


ROUTERS = [auth, companies, fees, people, governance, directory]
