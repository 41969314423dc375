"""What the members service's facts mean to people: applications to staff, a welcome to each new person, overdue
fees to the company's admins; and our copy of companies and people, kept first. On members.correspondence.v1,
what members asks to be written to addresses that are nobody we know yet: an invitation to join a company, a
password reset, the decision on an application to its applicant. Their links carry single-use tokens: they go into
the email alone (never the inbox, never a log)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from services.notifications import commands, store
from services.notifications.domain import COMPANY_NOTICES, DECISION_NOTICES, Kind
from services.notifications.messages import Context, DeliveryContext, Notice, Recipient, people
from services.notifications.models import (
    ApplicationDecidedFact,
    CompanyFact,
    ContactCompany,
    ContactPerson,
    FeeFact,
    InvitationFact,
    PasswordResetFact,
    PersonFact,
)
from shared.consumer import read_fact
from shared.envelope import CloudEvent
from shared.membership import PersonErasure, Role
from shared.unit_of_work import UnitOfWork


async def on_company_fact(uow: UnitOfWork, delivery_context: DeliveryContext, event: CloudEvent) -> None:
    fact = read_fact(CompanyFact, event.data, "a company fact as members.companies.v1 carries it")
    company = fact.company
    await commands.remember_company(uow, company)
    kind = COMPANY_NOTICES.get(event.type)
    if kind is None:
        return
    recipients = people(await store.people_with_role(uow.session, Role.NETWORK_ADMIN))
    link = f"{delivery_context.web_url}/staff/applications/{company.id}"
    context = {"company": company, "reason": fact.reason}
    await delivery_context.deliver(uow, Notice(event.id, kind, lambda _language: context, link), recipients)


async def on_person_fact(uow: UnitOfWork, delivery_context: DeliveryContext, event: CloudEvent) -> None:
    if event.type == "members.person.erased":
        erased = read_fact(PersonErasure, event.data, "an erasure as members.people.v1 carries it")
        await commands.forget_person(uow, erased.person_id)
        return
    fact = read_fact(PersonFact, event.data, "a person fact as members.people.v1 carries it")
    person = await commands.remember_person(uow, fact.person)
    if event.type == "members.person.joined":
        company_name = await _company_name(uow, person.company_id)
        notice = Notice(
            event.id,
            Kind.WELCOME,
            lambda _language: {"company_name": company_name},
            f"{delivery_context.web_url}/login",
        )
        await delivery_context.deliver(uow, notice, [Recipient.person(person)])


async def on_fee_fact(uow: UnitOfWork, delivery_context: DeliveryContext, event: CloudEvent) -> None:
    if event.type != "members.fee.overdue":
        return
    fee = read_fact(FeeFact, event.data, "a fee fact as members.fees.v1 carries it")
    context = {"fee": fee, "company_name": await _company_name(uow, fee.company_id)}
    admins = await store.people_of_company(uow.session, fee.company_id, roles=[Role.COMPANY_ADMIN])
    link = f"{delivery_context.web_url}/company/fees"
    await delivery_context.deliver(
        uow, Notice(event.id, Kind.FEE_OVERDUE, lambda _language: context, link), people(admins)
    )


async def _company_name(uow: UnitOfWork, company_id: str | None) -> str | None:
    company = await uow.session.get(ContactCompany, company_id) if company_id else None
    return company.legal_name if company else None


async def on_correspondence_fact(uow: UnitOfWork, delivery_context: DeliveryContext, event: CloudEvent) -> None:
    if event.type == "members.invitation.sent":
        notice, recipient = _invitation(delivery_context, event)
    elif event.type == "members.password_reset.requested":
        notice, recipient = await _password_reset(uow, delivery_context, event)
    elif event.type == "members.application.decided":
        notice, recipient = _decision(delivery_context, event)
    else:
        return
    await delivery_context.deliver(uow, notice, [recipient])


def _invitation(delivery_context: DeliveryContext, event: CloudEvent) -> tuple[Notice, Recipient]:
    fact = read_fact(InvitationFact, event.data, "an invitation as members.correspondence.v1 carries it")
    context = {"company_name": fact.company_name, "invited_by": fact.invited_by, "expires_at": fact.expires_at}
    link = f"{delivery_context.web_url}/invitations/{quote(fact.token, safe='')}"
    notice = Notice(event.id, Kind.INVITATION, _same_in_every_language(context), link)
    return notice, Recipient.address_only(fact.email, "", fact.language)


async def _password_reset(
    uow: UnitOfWork, delivery_context: DeliveryContext, event: CloudEvent
) -> tuple[Notice, Recipient]:
    fact = read_fact(PasswordResetFact, event.data, "a password reset as members.correspondence.v1 carries it")
    person = await uow.session.get(ContactPerson, fact.person_id)
    link = f"{delivery_context.web_url}/password-reset/{quote(fact.token, safe='')}"
    notice = Notice(event.id, Kind.PASSWORD_RESET, _same_in_every_language({"expires_at": fact.expires_at}), link)
    # To the address the reset was asked for, by email only: the inbox is behind the password being reset.
    return notice, Recipient.address_only(fact.email, person.given_name if person else "", fact.language)


def _decision(delivery_context: DeliveryContext, event: CloudEvent) -> tuple[Notice, Recipient]:
    fact = read_fact(ApplicationDecidedFact, event.data, "a decision as members.correspondence.v1 carries it")
    kind = DECISION_NOTICES[fact.decision]
    context = {"company": {"legal_name": fact.company_name}, "reason": fact.reason}
    link = f"{delivery_context.web_url}/login" if kind == Kind.COMPANY_APPROVED else None
    notice = Notice(event.id, kind, _same_in_every_language(context), link)
    applicant = fact.applicant
    return notice, Recipient.address_only(applicant.email, applicant.given_name, applicant.language)


def _same_in_every_language(context: dict[str, Any]) -> Context:
    return lambda _language: context
