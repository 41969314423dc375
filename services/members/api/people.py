"""Routes of people: staff, oneself, one's password, a person's data and GDPR rights."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.members import commands
from services.members.models import (
    PasswordChange,
    PersonPublic,
    PersonUpdate,
    StaffCreate,
)
from shared.api import ERRORS, UnitOfWorkDep
from shared.auth import CurrentPrincipal
from shared.ids import Id

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
