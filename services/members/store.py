"""Queries over the members database, and the read models the API serves from them (the public directory, the
governance list). Writes go through `commands`, inside a unit of work."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ColumnElement
from sqlmodel import col, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from services.members.domain import DirectoryQuery, fee_overdue
from services.members.models import (
    Company,
    CompanyPublic,
    DirectoryEntry,
    Fee,
    GovernanceTerm,
    GovernanceTermPublic,
    Invitation,
    LoginAttempts,
    MembershipStep,
    PasswordReset,
    Person,
    RefreshToken,
)
from shared.api import Page
from shared.errors import NotFound
from shared.membership import MembershipStatus, Role


async def get_company(session: AsyncSession, company_id: str) -> Company:
    company = await session.get(Company, company_id)
    if company is None:
        raise NotFound(f"no company with id {company_id}")
    return company


async def company_with_partita_iva(session: AsyncSession, partita_iva: str) -> Company | None:
    return (await session.exec(select(Company).where(Company.partita_iva == partita_iva))).first()


async def list_companies(
    session: AsyncSession, status: MembershipStatus | None, page: int, page_size: int
) -> Page[CompanyPublic]:
    """One page of the companies (with `status`, if given), by name."""
    query = select(Company)
    if status is not None:
        query = query.where(Company.status == status)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.exec(query.order_by(col(Company.legal_name)).offset((page - 1) * page_size).limit(page_size))
    return Page(
        items=[CompanyPublic.model_validate(company, from_attributes=True) for company in rows.all()],
        total=total or 0,
        page=page,
        page_size=page_size,
    )


async def membership_history(session: AsyncSession, company_id: str) -> list[MembershipStep]:
    query = select(MembershipStep).where(MembershipStep.company_id == company_id).order_by(col(MembershipStep.at))
    return list((await session.exec(query)).all())


async def get_person(session: AsyncSession, person_id: str) -> Person:
    person = await session.get(Person, person_id)
    if person is None or person.erased_at is not None:
        raise NotFound(f"no person with id {person_id}")
    return person


async def person_with_email(session: AsyncSession, email: str) -> Person | None:
    return (await session.exec(select(Person).where(Person.email == email.lower()))).first()


async def people_of(session: AsyncSession, company_id: str) -> list[Person]:
    query = (
        select(Person)
        .where(Person.company_id == company_id, col(Person.erased_at).is_(None))
        .order_by(col(Person.family_name), col(Person.given_name))
    )
    return list((await session.exec(query)).all())


async def applicant_of(session: AsyncSession, company_id: str) -> Person | None:
    """Who applied for the company: its first person, registered with the application."""
    query = select(Person).where(Person.company_id == company_id).order_by(col(Person.created_at)).limit(1)
    return (await session.exec(query)).first()


async def any_network_admin(session: AsyncSession) -> bool:
    query = select(Person.id).where(Person.role == Role.NETWORK_ADMIN, col(Person.erased_at).is_(None)).limit(1)
    return (await session.exec(query)).first() is not None


async def fees_of(session: AsyncSession, company_id: str) -> list[Fee]:
    query = select(Fee).where(Fee.company_id == company_id).order_by(col(Fee.year))
    return list((await session.exec(query)).all())


async def get_fee(session: AsyncSession, fee_id: str) -> Fee:
    fee = await session.get(Fee, fee_id)
    if fee is None:
        raise NotFound(f"no fee with id {fee_id}")
    return fee


def _overdue_on(today: date) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = fee_overdue(col(Fee.due_date), col(Fee.paid_cents), col(Fee.amount_cents), today)
    return condition


async def overdue_fees(session: AsyncSession, today: date) -> list[Fee]:
    query = select(Fee).where(_overdue_on(today)).order_by(col(Fee.due_date))
    return list((await session.exec(query)).all())


async def overdue_fees_to_announce(session: AsyncSession, today: date) -> list[Fee]:
    """Overdue fees of active companies not announced yet, locked until the caller commits: a second run that
    overlaps this one skips them, then finds them announced."""
    query = (
        select(Fee)
        .join(Company, col(Company.id) == col(Fee.company_id))
        .where(_overdue_on(today), col(Fee.overdue_announced_at).is_(None), Company.status == MembershipStatus.ACTIVE)
        .order_by(col(Fee.due_date), col(Fee.id))
        .with_for_update(of=Fee, skip_locked=True)
    )
    return list((await session.exec(query)).all())


async def governance(session: AsyncSession, current_on: date | None) -> list[GovernanceTermPublic]:
    """The network's bodies and who serves in them, with their company's name, in one query: every term, or only
    those running on `current_on`."""
    query = (
        select(GovernanceTerm, Person.given_name, Person.family_name, Company.legal_name)
        .join(Person, col(Person.id) == col(GovernanceTerm.person_id))
        .outerjoin(Company, col(Company.id) == col(Person.company_id))
    )
    if current_on is not None:
        query = query.where(
            col(GovernanceTerm.term_from) <= current_on,
            (col(GovernanceTerm.term_to).is_(None)) | (col(GovernanceTerm.term_to) >= current_on),
        )
    rows = await session.exec(query.order_by(col(GovernanceTerm.office), col(GovernanceTerm.term_from)))
    return [
        GovernanceTermPublic(
            id=term.id,
            office=term.office,
            term_from=term.term_from,
            term_to=term.term_to,
            person_name=f"{given_name} {family_name}",
            company_name=company_name,
        )
        for term, given_name, family_name, company_name in rows.all()
    ]


async def terms_of(session: AsyncSession, person_id: str) -> list[GovernanceTerm]:
    return list((await session.exec(select(GovernanceTerm).where(GovernanceTerm.person_id == person_id))).all())


async def steps_taken_by(session: AsyncSession, person_id: str) -> list[MembershipStep]:
    return list((await session.exec(select(MembershipStep).where(MembershipStep.actor_id == person_id))).all())


async def directory(
    session: AsyncSession, query: DirectoryQuery, lang: str, page: int, page_size: int
) -> Page[DirectoryEntry]:
    """One page of the public B2B directory: the active companies that chose to be listed and match `query`, by
    name. The district has under a thousand, so the finer filters (capabilities, markets, free text in two
    languages) run in Python, the same on PostgreSQL and SQLite."""
    listed = select(Company).where(Company.status == MembershipStatus.ACTIVE, col(Company.public_listing).is_(True))
    candidates = (await session.exec(listed.order_by(col(Company.legal_name)))).all()
    matches = [company for company in candidates if query.admits(company)]
    start = (page - 1) * page_size
    return Page(
        items=[DirectoryEntry.of(company, lang) for company in matches[start : start + page_size]],
        total=len(matches),
        page=page,
        page_size=page_size,
    )


async def refresh_token_with_digest(session: AsyncSession, digest: str) -> RefreshToken | None:
    return (await session.exec(select(RefreshToken).where(RefreshToken.digest == digest))).first()


async def spend_refresh_token(session: AsyncSession, token_id: str, now: datetime) -> bool:
    """Mark a refresh token rotated, if no one did first: of two requests presenting it at once, one rotates it
    and the other is a reuse."""
    result = await session.exec(
        update(RefreshToken)
        .where(
            col(RefreshToken.id) == token_id,
            col(RefreshToken.rotated_at).is_(None),
            col(RefreshToken.revoked_at).is_(None),
        )
        .values(rotated_at=now)
    )
    return int(result.rowcount) == 1


async def revoke_refresh_family(session: AsyncSession, family_id: str, now: datetime) -> None:
    await session.exec(
        update(RefreshToken)
        .where(col(RefreshToken.family_id) == family_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )


async def revoke_refresh_tokens_of(session: AsyncSession, person_id: str, now: datetime) -> None:
    """End every session of a person (their password changed hands, or they are erased)."""
    await session.exec(
        update(RefreshToken)
        .where(col(RefreshToken.person_id) == person_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )


async def login_attempts(session: AsyncSession, account: str, client_address: str) -> LoginAttempts | None:
    return await session.get(LoginAttempts, (account, client_address))


async def forget_login_attempts(session: AsyncSession, account: str) -> None:
    """A new password starts every client of the account afresh."""
    for attempts in await session.exec(select(LoginAttempts).where(LoginAttempts.account == account)):
        await session.delete(attempts)


async def invitation_with_digest(session: AsyncSession, digest: str) -> Invitation:
    invitation = (await session.exec(select(Invitation).where(Invitation.digest == digest))).first()
    if invitation is None:
        raise NotFound("no such invitation")
    return invitation


async def accept_invitation(session: AsyncSession, invitation_id: str, person_id: str, now: datetime) -> bool:
    """Mark an invitation accepted, if no one did first (single use, even for two requests at once)."""
    result = await session.exec(
        update(Invitation)
        .where(col(Invitation.id) == invitation_id, col(Invitation.accepted_at).is_(None))
        .values(accepted_at=now, person_id=person_id)
    )
    return int(result.rowcount) == 1


async def password_reset_with_digest(session: AsyncSession, digest: str) -> PasswordReset:
    reset = (await session.exec(select(PasswordReset).where(PasswordReset.digest == digest))).first()
    if reset is None:
        raise NotFound("no such password reset")
    return reset


async def use_password_reset(session: AsyncSession, reset_id: str, now: datetime) -> bool:
    """Mark a password reset used, if no one did first (single use, even for two requests at once)."""
    result = await session.exec(
        update(PasswordReset)
        .where(col(PasswordReset.id) == reset_id, col(PasswordReset.used_at).is_(None))
        .values(used_at=now)
    )
    return int(result.rowcount) == 1
