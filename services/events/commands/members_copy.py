"""What events keeps of the members service's companies and people, from their facts, and the membership check
that copy serves."""

from __future__ import annotations

from services.events import domain, store
from services.events.models import MemberCompany, MemberPerson
from shared.membership import PublishedCompany, PublishedPerson
from shared.unit_of_work import UnitOfWork


async def ensure_active_member(uow: UnitOfWork, company_id: str) -> None:
    company = await store.member_company(uow.session, company_id)
    domain.check_active_member(company.status if company else None)


async def remember_company(uow: UnitOfWork, company: PublishedCompany) -> None:
    known = await store.member_company(uow.session, company.id)
    if known is None:
        uow.session.add(MemberCompany(id=company.id, legal_name=company.legal_name, status=company.status))
    else:
        known.legal_name, known.status = company.legal_name, company.status


async def remember_person(uow: UnitOfWork, person: PublishedPerson) -> None:
    known = await store.member_person(uow.session, person.id)
    if known is None:
        uow.session.add(MemberPerson(id=person.id, company_id=person.company_id, name=person.name, email=person.email))
    else:
        known.company_id, known.name, known.email = person.company_id, person.name, person.email
    # People and companies arrive on two topics: someone may register before their own fact reaches us.
    for registration in await store.registrations_of_person(uow.session, person.id):
        registration.name, registration.email = person.name, person.email


async def forget_person(uow: UnitOfWork, person_id: str) -> None:
    """GDPR erasure: the person's registrations stay (seats and counts are real) but no longer say who."""
    if known := await store.member_person(uow.session, person_id):
        await uow.session.delete(known)
    if feed := await store.calendar_feed_of(uow.session, person_id):
        await uow.session.delete(feed)
    for registration in await store.registrations_of_person(uow.session, person_id):
        registration.person_id = None
        registration.name = domain.ERASED_NAME
        registration.email = None
        if feedback := await store.feedback_for_registration(uow.session, registration.id):
            feedback.comment = ""
