"""A person's own registrations, as their "My registrations" page shows them: the list with each one's event, one
registration with its check-in code, and the code behind its ticket (the QR code the door scans)."""

from __future__ import annotations

from services.events import domain, store
from services.events.models import MyRegistration, RegistrationDetail
from shared.auth import Principal
from shared.unit_of_work import UnitOfWork


async def registrations_of(uow: UnitOfWork, person: Principal, upcoming: bool) -> list[MyRegistration]:
    """The caller's registrations, soonest event first; `upcoming`: only for events that have not ended yet."""
    ending_after = uow.now() if upcoming else None
    found = await store.registrations_of_person_with_events(uow.session, person.subject, ending_after)
    return [
        MyRegistration.of_event(registration, event, await store.waitlist_position(uow.session, registration))
        for registration, event in found
    ]


async def registration_detail(uow: UnitOfWork, registration_id: str, viewer: Principal) -> RegistrationDetail:
    """One registration with its event, for the registrant or the event's organisers; its check-in code only for
    those who may see the ticket."""
    registration = await store.get_registration(uow.session, registration_id)
    event = await store.get_event(uow.session, registration.event_id)
    domain.check_registrant_or_organiser(viewer, registration.person_id, event.organiser_company_id)
    position = await store.waitlist_position(uow.session, registration)
    shown_code = registration.checkin_token if domain.may_see_check_in_code(viewer, registration.person_id) else None
    return RegistrationDetail.shown(MyRegistration.of_event(registration, event, position), shown_code)


async def ticket_code(uow: UnitOfWork, registration_id: str, viewer: Principal) -> str:
    """The check-in code of a confirmed registration, for its registrant or the network's staff to show."""
    registration = await store.get_registration(uow.session, registration_id)
    domain.check_ticket_viewer(viewer, registration.person_id)
    domain.check_ticket_admits(registration.status)
    return registration.checkin_token
