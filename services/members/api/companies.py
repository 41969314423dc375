"""Routes of member companies (applying, membership decisions, editing, their people, invitations, fees) and of
fees."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.members import commands
from services.members.domain import (
    ACTIONS_NEEDING_REASON,
    MembershipAction,
)
from services.members.models import (
    CompanyApplication,
    CompanyPublic,
    CompanyUpdate,
    FeeCreate,
    FeePublic,
    InvitationCreate,
    InvitationCreated,
    MembershipDecision,
    MembershipStepPublic,
    PaymentCreate,
    PersonCreate,
    PersonPublic,
    ReasonedMembershipDecision,
)
from services.members.settings import MembersSettings
from shared.api import ERRORS, Page, PageNumber, PageSize, SettingsDep, UnitOfWorkDep
from shared.auth import CurrentPrincipal
from shared.ids import Id
from shared.membership import MembershipStatus

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
