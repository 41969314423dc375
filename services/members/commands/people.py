"""People: adding colleagues and staff, editing a person, their password, and their GDPR rights (access and
erasure)."""

from __future__ import annotations

from typing import Any

from services.members import store
from services.members.commands.access import ensure_company_access, ensure_person_access, ensure_staff
from services.members.commands.profiles import person_profile
from services.members.domain import check_may_change_role, check_may_grant, check_may_join, erased_person_fields
from services.members.events import PersonErased, PersonJoined, PersonUpdated
from services.members.identity import hash_secret, verify_secret
from services.members.models import Company, Person, PersonCreate, PersonUpdate, StaffCreate
from shared.auth import Principal
from shared.errors import Conflict, Forbidden
from shared.membership import Role
from shared.unit_of_work import UnitOfWork


async def add_colleague(uow: UnitOfWork, company_id: str, data: PersonCreate, actor: Principal) -> Person:
    """A company admin adds colleagues to their own company; staff add people to any."""
    ensure_company_access(actor, company_id, write=True)
    company = await store.get_company(uow.session, company_id)
    check_may_join(company.status)
    check_may_grant(actor, data.role, company_id)
    return await _register(uow, data, company_id)


async def add_staff(uow: UnitOfWork, data: StaffCreate, actor: Principal) -> Person:
    ensure_staff(actor)
    return await _register(uow, PersonCreate(**data.model_dump(), role=Role.NETWORK_ADMIN), None)


async def create_first_admin(uow: UnitOfWork, email: str, password: str) -> Person | None:
    """The network's first staff account, from the environment or the CLI; does nothing once staff exist."""
    if await store.any_network_admin(uow.session):
        return None
    data = PersonCreate(
        email=email, password=password, given_name="Network", family_name="Admin", role=Role.NETWORK_ADMIN
    )
    return await _register(uow, data, None)


async def _register(uow: UnitOfWork, data: PersonCreate, company_id: str | None) -> Person:
    person = await join(uow, data, company_id)
    await uow.commit_or_conflict(f"a person with email {data.email} already exists")
    return person


async def join(uow: UnitOfWork, data: PersonCreate, company_id: str | None) -> Person:
    """A person joins the network (announced with members.person.joined) when the caller commits."""
    if await store.person_with_email(uow.session, data.email):
        raise Conflict(f"{data.email} is already registered")
    person = Person.model_validate(
        {
            **data.model_dump(exclude={"password"}),
            "email": data.email.lower(),
            "company_id": company_id,
            "password_hash": await hash_secret(data.password),
        }
    )
    uow.session.add(person)
    uow.publish(PersonJoined(person_id=person.id, person=person_profile(person)))
    return person


async def get_person(uow: UnitOfWork, person_id: str, actor: Principal) -> Person:
    """A person, for themselves, their company's admins, and staff."""
    found = await store.get_person(uow.session, person_id)
    ensure_person_access(actor, found, write=False)
    return found


async def update_person(uow: UnitOfWork, person_id: str, update: PersonUpdate, actor: Principal) -> Person:
    person = await store.get_person(uow.session, person_id)
    ensure_person_access(actor, person, write=True)
    changes = {k: v for k, v in update.model_dump(exclude_unset=True).items() if getattr(person, k) != v}
    if "role" in changes:
        check_may_change_role(actor, changes["role"], person.company_id)
    if not changes:
        return person
    for field, value in changes.items():
        setattr(person, field, value)
    person.updated_at = uow.now()
    uow.session.add(person)
    uow.publish(PersonUpdated(person_id=person.id, person=person_profile(person), changed=sorted(changes)))
    await uow.commit()
    return person


async def change_password(uow: UnitOfWork, actor: Principal, current: str, new: str) -> None:
    """One's own password, knowing the current one."""
    person = await store.get_person(uow.session, actor.subject)
    if not await verify_secret(person.password_hash, current):
        raise Forbidden("the current password is wrong")
    person.password_hash = await hash_secret(new)
    uow.session.add(person)
    await uow.commit()


async def erase_person(uow: UnitOfWork, person_id: str, actor: Principal) -> None:
    """GDPR erasure: the person is anonymised here (domain.erased_person_fields) and every other service is told
    through `members.person.erased`."""
    person = await store.get_person(uow.session, person_id)
    ensure_person_access(actor, person, write=True)
    now = uow.now()
    for field, value in erased_person_fields(person.id, now).items():
        setattr(person, field, value)
    uow.session.add(person)
    await store.revoke_refresh_tokens_of(uow.session, person.id, now)
    uow.publish(PersonErased(person_id=person.id, company_id=person.company_id))
    await uow.commit()


async def export_person(uow: UnitOfWork, person_id: str, actor: Principal) -> dict[str, Any]:
    """GDPR access: everything this service holds about the person, in one document."""
    session = uow.session
    person = await store.get_person(session, person_id)
    ensure_person_access(actor, person, write=False)
    company = await session.get(Company, person.company_id) if person.company_id else None
    return {
        "person": person.model_dump(mode="json", exclude={"password_hash"}),
        "company": {"id": company.id, "legal_name": company.legal_name} if company else None,
        "governance_terms": [t.model_dump(mode="json") for t in await store.terms_of(session, person.id)],
        "membership_steps_taken": [s.model_dump(mode="json") for s in await store.steps_taken_by(session, person.id)],
        "exported_at": uow.now().isoformat(),
    }
