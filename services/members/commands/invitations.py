"""Invitations: a company's admin (or staff) invites a colleague by email; the colleague opens the link, sets their
own password and joins. Each link is single-use and expires (domain.check_link_usable)."""

from __future__ import annotations

from datetime import timedelta

from services.members import store
from services.members.commands.access import ensure_company_access
from services.members.commands.people import join
from services.members.domain import check_link_usable, check_may_grant, check_may_join, full_name, used_link
from services.members.events import InvitationSent
from services.members.identity import new_secret, secret_digest
from services.members.models import (
    Invitation,
    InvitationAcceptance,
    InvitationCreate,
    InvitationPublic,
    Person,
    PersonCreate,
)
from shared.auth import Principal
from shared.errors import Conflict
from shared.unit_of_work import UnitOfWork


async def invite_colleague(
    uow: UnitOfWork, company_id: str, data: InvitationCreate, actor: Principal, lifetime: timedelta
) -> Invitation:
    """The link's token goes only to the invited person, by the email notifications writes from the fact."""
    ensure_company_access(actor, company_id, write=True)
    session = uow.session
    company = await store.get_company(session, company_id)
    check_may_join(company.status)
    check_may_grant(actor, data.role, company_id)
    if await store.person_with_email(session, data.email):
        raise Conflict(f"{data.email} is already registered")
    inviter = await store.get_person(session, actor.subject)
    token, digest = new_secret()
    now = uow.now()
    invitation = Invitation(
        digest=digest,
        company_id=company.id,
        email=data.email.lower(),
        role=data.role,
        language=data.language,
        invited_by=inviter.id,
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(invitation)
    uow.publish(
        InvitationSent(
            invitation_id=invitation.id,
            email=invitation.email,
            language=invitation.language,
            company_id=company.id,
            company_name=company.legal_name,
            invited_by=full_name(inviter.given_name, inviter.family_name),
            token=token,
            expires_at=invitation.expires_at,
        )
    )
    await uow.commit()
    return invitation


async def open_invitation(uow: UnitOfWork, token: str) -> InvitationPublic:
    """Public (the token is the permission): what the invited person sees before accepting."""
    invitation = await _usable_invitation(uow, token)
    company = await store.get_company(uow.session, invitation.company_id)
    return InvitationPublic(email=invitation.email, company_name=company.legal_name, expires_at=invitation.expires_at)


async def accept_invitation(uow: UnitOfWork, token: str, acceptance: InvitationAcceptance) -> Person:
    """The invited person sets their own password and joins the company, in the role they were invited to."""
    invitation = await _usable_invitation(uow, token)
    company = await store.get_company(uow.session, invitation.company_id)
    check_may_join(company.status)
    data = PersonCreate(
        email=invitation.email,
        role=invitation.role,
        password=acceptance.password,
        given_name=acceptance.given_name,
        family_name=acceptance.family_name,
        language=acceptance.language,
    )
    person = await join(uow, data, company.id)
    if not await store.accept_invitation(uow.session, invitation.id, person.id, uow.now()):
        raise used_link("invitation")  # accepted by another request a moment ago
    await uow.commit_or_conflict(f"{invitation.email} is already registered")
    return person


async def _usable_invitation(uow: UnitOfWork, token: str) -> Invitation:
    invitation = await store.invitation_with_digest(uow.session, secret_digest(token))
    check_link_usable("invitation", invitation.expires_at, invitation.accepted_at, uow.now())
    return invitation
