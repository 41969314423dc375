"""What the members service's facts mean to people: applications to staff, the decision to the applicant, a welcome
to each new person, overdue fees to the company's admins; and our copy of companies and people, kept first."""

from __future__ import annotations

from services.notifications import commands, store
from services.notifications.domain import COMPANY_NOTICES, Kind
from services.notifications.messages import DeliveryContext, Notice, Recipient, people
from services.notifications.models import CompanyFact, ContactCompany, FeeFact, PersonFact
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
    if kind == Kind.APPLICATION_RECEIVED:
        recipients = people(await store.people_with_role(uow.session, Role.NETWORK_ADMIN))
        link = f"{delivery_context.web_url}/staff/applications/{company.id}"
    else:
        recipients = people(await store.people_of_company(uow.session, company.id))
        link = delivery_context.web_url
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
