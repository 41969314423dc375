"""Everything the members service can be asked to do. Each command runs in one unit of work: the change and the
events announcing it are committed together, or not at all."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any

from services.members import store
from services.members.domain import MembershipAction, next_status, size_class
from services.members.events import (
    CompanyApplied,
    CompanyApproved,
    CompanyEvent,
    CompanyProfile,
    CompanyReinstated,
    CompanyRejected,
    CompanySuspended,
    CompanyUpdated,
    CompanyWithdrawn,
    FeeAssessed,
    FeeOverdue,
    FeePaymentRecorded,
    GovernanceTermEnded,
    GovernanceTermStarted,
    PersonErased,
    PersonJoined,
    PersonProfile,
    PersonUpdated,
)
from services.members.identity import (
    check_not_locked,
    hash_secret,
    record_failed_login,
    record_successful_login,
    verify_secret,
)
from services.members.models import (
    Company,
    CompanyApplication,
    CompanyUpdate,
    Fee,
    FeeCreate,
    GovernanceTerm,
    GovernanceTermCreate,
    MembershipStep,
    PartnerClient,
    PartnerClientCreate,
    PartnerClientCreated,
    Payment,
    PaymentCreate,
    Person,
    PersonCreate,
    PersonUpdate,
)
from shared.auth import Principal, ensure_company_access
from shared.clock import utc_now
from shared.errors import Conflict, DomainError, Forbidden, NotFound
from shared.membership import MembershipStatus, Role
from shared.unit_of_work import UnitOfWork

_MEMBERSHIP_EVENTS: dict[MembershipAction, type[CompanyEvent]] = {
    MembershipAction.APPROVE: CompanyApproved,
    MembershipAction.REJECT: CompanyRejected,
    MembershipAction.SUSPEND: CompanySuspended,
    MembershipAction.REINSTATE: CompanyReinstated,
    MembershipAction.WITHDRAW: CompanyWithdrawn,
}


def company_profile(company: Company) -> CompanyProfile:
    return CompanyProfile.model_validate(company, from_attributes=True)


def person_profile(person: Person) -> PersonProfile:
    return PersonProfile.model_validate(person, from_attributes=True)


# ---- membership ------------------------------------------------------------------------------------------------


async def apply_for_membership(uow: UnitOfWork, application: CompanyApplication) -> Company:
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
            company_id=company.id, action="applied", from_status=None, to_status=MembershipStatus.APPLIED, actor_id=None
        )
    )
    uow.publish(CompanyApplied(company_id=company.id, company=company_profile(company), actor_id=person.id))
    await uow.commit_or_conflict("a company with this Partita IVA or an applicant with this email already exists")
    return company


async def change_membership(
    uow: UnitOfWork, company_id: str, action: MembershipAction, actor: Principal, reason: str | None
) -> Company:
    """Staff approve, reject, suspend, reinstate or withdraw; a company's own admin may withdraw it."""
    session = uow.session
    company = await store.get_company(session, company_id)
    own_withdrawal = action == MembershipAction.WITHDRAW and actor.role == Role.COMPANY_ADMIN
    if not (actor.is_staff or own_withdrawal):
        raise Forbidden(f"only network staff may {action} a company")
    ensure_company_access(actor, company_id, write=True)
    previous = company.status
    company.status = next_status(previous, action, reason)
    company.updated_at = utc_now()
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
    await uow.commit()
    return company


async def update_company(uow: UnitOfWork, company_id: str, update: CompanyUpdate, actor: Principal) -> Company:
    ensure_company_access(actor, company_id, write=True)
    company = await store.get_company(uow.session, company_id)
    changes = {k: v for k, v in update.model_dump(exclude_unset=True).items() if getattr(company, k) != v}
    if not changes:
        return company
    for field, value in changes.items():
        setattr(company, field, value)
    company.size_class = size_class(company.employees, company.turnover_eur, company.balance_sheet_eur)
    company.updated_at = utc_now()
    uow.session.add(company)
    uow.publish(
        CompanyUpdated(
            company_id=company.id, company=company_profile(company), actor_id=actor.subject, changed=sorted(changes)
        )
    )
    await uow.commit()
    return company


# ---- people ----------------------------------------------------------------------------------------------------


def _check_may_grant(actor: Principal, role: Role, company_id: str | None) -> None:
    if role == Role.NETWORK_ADMIN:
        if not actor.is_staff:
            raise Forbidden("only network staff may create or promote network staff")
        if company_id is not None:
            raise Conflict("network staff do not belong to a member company")
    elif company_id is None:
        raise Conflict(f"a {role} belongs to a member company, and this person belongs to none")


async def add_person(uow: UnitOfWork, company_id: str | None, data: PersonCreate, actor: Principal) -> Person:
    """Staff add people anywhere (and other staff); a company admin adds colleagues to their own company."""
    if company_id is not None:
        ensure_company_access(actor, company_id, write=True)
        company = await store.get_company(uow.session, company_id)
        if company.status != MembershipStatus.ACTIVE:
            raise Conflict(f"people can be added only to an active company; this one is {company.status}")
    elif not actor.is_staff:
        raise Forbidden("only network staff may add network staff")
    _check_may_grant(actor, data.role, company_id)
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
    await uow.commit_or_conflict(f"a person with email {data.email} already exists")
    return person


def ensure_person_access(actor: Principal, person: Person, *, write: bool) -> None:
    """People reach themselves; company admins their colleagues; staff everyone."""
    if actor.subject == person.id or actor.is_staff:
        return
    if person.company_id is None:
        raise Forbidden("only network staff may act on network staff")
    ensure_company_access(actor, person.company_id, write=write)


async def update_person(uow: UnitOfWork, person_id: str, update: PersonUpdate, actor: Principal) -> Person:
    person = await store.get_person(uow.session, person_id)
    ensure_person_access(actor, person, write=True)
    changes = {k: v for k, v in update.model_dump(exclude_unset=True).items() if getattr(person, k) != v}
    if "role" in changes:
        if actor.role not in (Role.NETWORK_ADMIN, Role.COMPANY_ADMIN):
            raise Forbidden("only staff and company admins may change roles")
        _check_may_grant(actor, changes["role"], person.company_id)
    if not changes:
        return person
    for field, value in changes.items():
        setattr(person, field, value)
    person.updated_at = utc_now()
    uow.session.add(person)
    uow.publish(PersonUpdated(person_id=person.id, person=person_profile(person), changed=sorted(changes)))
    await uow.commit()
    return person


async def change_password(uow: UnitOfWork, actor: Principal, current: str, new: str) -> None:
    person = await store.get_person(uow.session, actor.subject)
    if not await verify_secret(person.password_hash, current):
        raise Forbidden("the current password is wrong")
    person.password_hash = await hash_secret(new)
    uow.session.add(person)
    await uow.commit()


async def erase_person(uow: UnitOfWork, person_id: str, actor: Principal) -> None:
    """GDPR erasure: the person is anonymised here (rows that others point to remain, with no personal data)
    and every other service is told through `members.person.erased`."""
    person = await store.get_person(uow.session, person_id)
    ensure_person_access(actor, person, write=True)
    person.given_name = "—"
    person.family_name = "—"
    person.email = f"erased-{person.id}@invalid"
    person.phone = None
    person.job_title = None
    person.password_hash = None
    person.erased_at = utc_now()
    uow.session.add(person)
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
        "exported_at": utc_now().isoformat(),
    }


async def register_partner_client(uow: UnitOfWork, data: PartnerClientCreate, actor: Principal) -> PartnerClientCreated:
    secret = secrets.token_urlsafe(32)
    client = PartnerClient(
        name=data.name, scopes=data.scopes, secret_hash=await hash_secret(secret), created_by=actor.subject
    )
    uow.session.add(client)
    await uow.commit()
    return PartnerClientCreated(client_id=client.id, client_secret=secret, name=client.name, scopes=client.scopes)


async def create_first_admin(uow: UnitOfWork, email: str, password: str) -> Person | None:
    """The network's first staff account, from the environment or the CLI; does nothing once staff exist."""
    if await store.any_network_admin(uow.session):
        return None
    data = PersonCreate(
        email=email, password=password, given_name="Network", family_name="Admin", role=Role.NETWORK_ADMIN
    )
    person = Person.model_validate(
        {**data.model_dump(exclude={"password"}), "email": email.lower(), "password_hash": await hash_secret(password)}
    )
    uow.session.add(person)
    uow.publish(PersonJoined(person_id=person.id, person=person_profile(person)))
    await uow.commit_or_conflict(f"a person with email {email} already exists")
    return person


# ---- fees and governance ---------------------------------------------------------------------------------------


def _fee_event_fields(fee: Fee) -> dict[str, Any]:
    return {
        "fee_id": fee.id,
        "company_id": fee.company_id,
        "year": fee.year,
        "amount_cents": fee.amount_cents,
        "paid_cents": fee.paid_cents,
        "due_date": fee.due_date,
    }


async def assess_fee(uow: UnitOfWork, company_id: str, data: FeeCreate) -> Fee:
    await store.get_company(uow.session, company_id)
    if any(f.year == data.year for f in await store.fees_of(uow.session, company_id)):
        raise Conflict(f"the {data.year} fee of this company is already assessed")
    fee = Fee.model_validate({**data.model_dump(), "company_id": company_id})
    uow.session.add(fee)
    uow.publish(FeeAssessed(**_fee_event_fields(fee)))
    await uow.commit()
    return fee


async def record_payment(uow: UnitOfWork, fee_id: str, data: PaymentCreate, actor: Principal) -> Fee:
    fee = await store.get_fee(uow.session, fee_id)
    outstanding = fee.amount_cents - fee.paid_cents
    if data.amount_cents > outstanding:
        raise DomainError(f"payment of {data.amount_cents} cents exceeds the {outstanding} cents outstanding")
    fee.paid_cents += data.amount_cents
    uow.session.add(fee)
    uow.session.add(Payment.model_validate({**data.model_dump(), "fee_id": fee.id, "recorded_by": actor.subject}))
    uow.publish(FeePaymentRecorded(**_fee_event_fields(fee), payment_cents=data.amount_cents))
    await uow.commit()
    return fee


async def announce_overdue_fees(uow: UnitOfWork, today: date) -> int:
    """Announce each fee of an active company that is overdue on `today`, once: the mark and the fact commit
    together, so a second run, a restart or another replica finds it announced."""
    now = utc_now()
    fees = await store.overdue_fees_to_announce(uow.session, today)
    for fee in fees:
        fee.overdue_announced_at = now
        uow.session.add(fee)
        uow.publish(FeeOverdue(**_fee_event_fields(fee)))
    await uow.commit()
    return len(fees)


def _term_event_fields(term: GovernanceTerm) -> dict[str, Any]:
    return {
        "term_id": term.id,
        "person_id": term.person_id,
        "office": term.office,
        "term_from": term.term_from,
        "term_to": term.term_to,
    }


async def start_governance_term(uow: UnitOfWork, data: GovernanceTermCreate) -> GovernanceTerm:
    await store.get_person(uow.session, data.person_id)
    term = GovernanceTerm.model_validate(data.model_dump())
    uow.session.add(term)
    uow.publish(GovernanceTermStarted(**_term_event_fields(term)))
    await uow.commit()
    return term


async def end_governance_term(uow: UnitOfWork, term_id: str, term_to: date) -> GovernanceTerm:
    term = await uow.session.get(GovernanceTerm, term_id)
    if term is None:
        raise NotFound(f"no governance term with id {term_id}")
    if term_to < term.term_from:
        raise DomainError("a term cannot end before it starts")
    term.term_to = term_to
    uow.session.add(term)
    uow.publish(GovernanceTermEnded(**_term_event_fields(term)))
    await uow.commit()
    return term


# ---- login ---------------------------------------------------------------------------------------------------


_BAD_LOGIN = "wrong email or password"


async def password_login(uow: UnitOfWork, email: str, password: str, max_failures: int, lockout: timedelta) -> Person:
    """A person logs in; repeated wrong passwords lock the account for a while (brute-force throttling)."""
    person = await store.person_with_email(uow.session, email)
    now = utc_now()
    if person is None or person.erased_at is not None:
        await verify_secret(None, password)  # same cost as a real check, so timing does not reveal who is registered
        raise Forbidden(_BAD_LOGIN)
    check_not_locked(person, now)
    if not await verify_secret(person.password_hash, password):
        record_failed_login(person, now, max_failures, lockout)
        uow.session.add(person)
        await uow.commit()
        raise Forbidden(_BAD_LOGIN)
    if person.company_id is not None:
        company = await store.get_company(uow.session, person.company_id)
        if company.status != MembershipStatus.ACTIVE:
            raise Forbidden(f"your company's membership is {company.status}; login opens once it is active")
    record_successful_login(person)
    uow.session.add(person)
    await uow.commit()
    return person


async def partner_login(uow: UnitOfWork, client_id: str, secret: str, requested_scopes: set[str]) -> PartnerClient:
    client = await uow.session.get(PartnerClient, client_id)
    if client is None or not await verify_secret(client.secret_hash, secret):
        raise Forbidden("wrong client id or secret")
    not_granted = requested_scopes - set(client.scopes)
    if not_granted:
        raise Forbidden(f"scopes not granted to this client: {' '.join(sorted(not_granted))}")
    return client
