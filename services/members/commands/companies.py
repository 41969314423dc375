"""Member companies: applying, the membership decisions, editing a company, and what its people and staff read
of it."""

from __future__ import annotations

from typing import Literal

from services.members import store
from services.members.commands.access import ensure_company_access, ensure_may_change_membership, ensure_staff
from services.members.commands.profiles import company_profile, person_profile
from services.members.domain import MembershipAction, check_may_edit_company, next_status, size_class
from services.members.events import (
    Applicant,
    ApplicationDecided,
    CompanyApplied,
    CompanyApproved,
    CompanyEvent,
    CompanyReinstated,
    CompanyRejected,
    CompanySuspended,
    CompanyUpdated,
    CompanyWithdrawn,
    PersonJoined,
)
from services.members.identity import hash_secret
from services.members.models import (
    Company,
    CompanyApplication,
    CompanyPublic,
    CompanyUpdate,
    MembershipStep,
    Person,
)
from shared.api import Page
from shared.auth import Principal
from shared.errors import Conflict
from shared.membership import MembershipStatus, Role
from shared.unit_of_work import UnitOfWork

Decision = Literal["approved", "rejected"]
# The decisions on an application, which its applicant is told of.
_DECISIONS: dict[MembershipAction, Decision] = {
    MembershipAction.APPROVE: "approved",
    MembershipAction.REJECT: "rejected",
}
_MEMBERSHIP_EVENTS: dict[MembershipAction, type[CompanyEvent]] = {
    MembershipAction.APPROVE: CompanyApproved,
    MembershipAction.REJECT: CompanyRejected,
    MembershipAction.SUSPEND: CompanySuspended,
    MembershipAction.REINSTATE: CompanyReinstated,
    MembershipAction.WITHDRAW: CompanyWithdrawn,
}


async def apply_for_membership(uow: UnitOfWork, application: CompanyApplication) -> Company:
    """Public: a company applies, and its applicant is registered as its first admin."""
    session = uow.session
    if await store.company_with_partita_iva(session, application.partita_iva):
        raise Conflict(f"a company with Partita IVA {application.partita_iva} is already registered")
    applicant = application.applicant
    if await store.person_with_email(session, applicant.email):
        raise Conflict(f"{applicant.email} is already registered")
    fields = application.model_dump(exclude={"applicant"})
    fields["codice_fiscale"] = application.codice_fiscale or application.partita_iva
    fields["size_class"] = size_class(application.employees, application.turnover_eur, application.balance_sheet_eur)
    company = Company.model_validate(fields)
    person = Person(
        company_id=company.id,
        email=applicant.email.lower(),
        given_name=applicant.given_name,
        family_name=applicant.family_name,
        language=applicant.language,
        role=Role.COMPANY_ADMIN,
        password_hash=await hash_secret(applicant.password),
    )
    session.add(company)
    session.add(person)
    session.add(
        MembershipStep(
            company_id=company.id,
            action="applied",
            from_status=None,
            to_status=MembershipStatus.APPLIED,
            actor_id=None,
        )
    )
    uow.publish(CompanyApplied(company_id=company.id, company=company_profile(company), actor_id=person.id))
    await uow.commit_or_conflict("a company with this Partita IVA or an applicant with this email already exists")
    return company


async def change_membership(
    uow: UnitOfWork, company_id: str, action: MembershipAction, actor: Principal, reason: str | None
) -> Company:
    session = uow.session
    company = await store.get_company(session, company_id)
    ensure_may_change_membership(actor, company_id, action)
    previous = company.status
    company.status = next_status(previous, action, reason)
    company.updated_at = uow.now()
    session.add(company)
    session.add(
        MembershipStep(
            company_id=company.id,
            action=action.value,
            from_status=previous,
            to_status=company.status,
            actor_id=actor.subject,
            reason=reason,
        )
    )
    event = _MEMBERSHIP_EVENTS[action]
    uow.publish(event(company_id=company.id, company=company_profile(company), actor_id=actor.subject, reason=reason))
    if action == MembershipAction.APPROVE:
        # The applicant becomes a member person of the network together with the company.
        for person in await store.people_of(session, company.id):
            uow.publish(PersonJoined(person_id=person.id, person=person_profile(person)))
    if action in _DECISIONS and (applicant := await store.applicant_of(session, company.id)) is not None:
        uow.publish(_decision(company, _DECISIONS[action], reason, applicant))
    await uow.commit()
    return company


def _decision(company: Company, decision: Decision, reason: str | None, applicant: Person) -> ApplicationDecided:
    """What the applicant is told of staff's decision, in their language (notifications writes it)."""
    return ApplicationDecided(
        company_id=company.id,
        company_name=company.legal_name,
        decision=decision,
        reason=reason,
        applicant=Applicant(
            email=applicant.email,
            given_name=applicant.given_name,
            family_name=applicant.family_name,
            language=applicant.language,
        ),
    )


async def update_company(uow: UnitOfWork, company_id: str, update: CompanyUpdate, actor: Principal) -> Company:
    ensure_company_access(actor, company_id, write=True)
    company = await store.get_company(uow.session, company_id)
    check_may_edit_company(actor, update.model_fields_set)
    changes = {k: v for k, v in update.model_dump(exclude_unset=True).items() if getattr(company, k) != v}
    if not changes:
        return company
    for field, value in changes.items():
        setattr(company, field, value)
    company.size_class = size_class(company.employees, company.turnover_eur, company.balance_sheet_eur)
    company.updated_at = uow.now()
    uow.session.add(company)
    uow.publish(
        CompanyUpdated(
            company_id=company.id, company=company_profile(company), actor_id=actor.subject, changed=sorted(changes)
        )
    )
    await uow.commit_or_conflict(f"a company with Partita IVA {company.partita_iva} is already registered")
    return company


async def list_companies(
    uow: UnitOfWork, actor: Principal, status: MembershipStatus | None, page: int, page_size: int
) -> Page[CompanyPublic]:
    ensure_staff(actor)
    return await store.list_companies(uow.session, status, page, page_size)


async def get_company(uow: UnitOfWork, company_id: str, actor: Principal) -> Company:
    """A company, for staff and its own people."""
    ensure_company_access(actor, company_id, write=False)
    return await store.get_company(uow.session, company_id)


async def membership_history(uow: UnitOfWork, company_id: str, actor: Principal) -> list[MembershipStep]:
    await get_company(uow, company_id, actor)
    return await store.membership_history(uow.session, company_id)


async def company_people(uow: UnitOfWork, company_id: str, actor: Principal) -> list[Person]:
    await get_company(uow, company_id, actor)
    return await store.people_of(uow.session, company_id)
