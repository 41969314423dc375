"""HTTP routes of the events service. Routes are thin: they authenticate the caller, call a use case (commands,
which authorise with the domain's rules) or a public query, and shape the answer."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from services.events import calendars, commands, domain, store
from services.events.domain import EventAction, EventType
from services.events.models import (
    CalendarLink,
    CheckIn,
    CheckInResult,
    EventCreate,
    EventPublic,
    EventUpdate,
    FeedbackCreate,
    FeedbackSummary,
    MyRegistration,
    Registration,
    RegistrationCreated,
    RegistrationDetail,
    RegistrationPublic,
    RegistrationRequest,
    RejectionReason,
)
from services.events.qr_codes import qr_svg
from services.events.registration_queue import RegistrationQueue
from services.events.settings import EventsSettings
from shared.api import ERRORS, SettingsDep, UnitOfWorkDep
from shared.auth import CurrentPrincipal, OptionalPrincipal
from shared.clock import ROME
from shared.errors import DomainError
from shared.ids import Id


async def registration_queue(request: Request) -> RegistrationQueue:
    queue: RegistrationQueue = request.app.state.registration_queue
    return queue


RegistrationQueueDep = Annotated[RegistrationQueue, Depends(registration_queue)]
# Check-in codes and feed secrets come from secrets.token_urlsafe.
UrlSafeSecret = Annotated[str, Path(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
ICS = "text/calendar; charset=utf-8"
SVG = "image/svg+xml"


async def registration_public(session: AsyncSession, registration: Registration) -> RegistrationPublic:
    return RegistrationPublic.of(registration, await store.waitlist_position(session, registration))


events = APIRouter(prefix="/events", tags=["events"], responses=ERRORS)


@events.post(
    "",
    status_code=201,
    response_model=EventPublic,
    summary="Create an event, as a draft (staff, or a member company's admins for their company)",
)
async def create_event(data: EventCreate, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return EventPublic.of(await commands.create_event(uow, data, principal))


@events.get("", response_model=list[EventPublic], summary="Published events, soonest first (public)")
async def list_events(
    uow: UnitOfWorkDep,
    event_type: Annotated[EventType | None, Query(alias="type")] = None,
    from_day: Annotated[
        str | None,
        Query(
            alias="from",
            pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
            description="YYYY-MM-DD: events starting that day (in Italy) or later",
        ),
    ] = None,
    include_past: bool = False,
) -> Any:
    statuses = domain.LISTED_WITH_PAST if include_past else domain.LISTED
    starting_after = _start_of_day_in_italy(from_day) if from_day else None
    async with uow:
        found = await store.list_events(uow.session, statuses, event_type, starting_after)
        return [EventPublic.of(event) for event in found]


def _start_of_day_in_italy(day: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(day), time.min, tzinfo=ROME)
    except ValueError as error:
        raise DomainError(f"{day} is not a date") from error


@events.get("/{event_id:id}", response_model=EventPublic, summary="One event (drafts: organisers only)")
async def get_event(event_id: Id, principal: OptionalPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return EventPublic.of(await commands.visible_event(uow, event_id, principal))


@events.patch(
    "/{event_id:id}", response_model=EventPublic, summary="Edit an event; confirmed registrations are kept (organisers)"
)
async def update_event(
    event_id: Id,
    update: EventUpdate,
    principal: CurrentPrincipal,
    uow: UnitOfWorkDep,
    config: SettingsDep[EventsSettings],
) -> Any:
    async with uow:
        event = await commands.update_event(uow, event_id, update, principal, config.offer_hours)
        return EventPublic.of(event)


def _status_route(action: EventAction) -> None:
    @events.post(
        f"/{{event_id:id}}/{action}",
        response_model=EventPublic,
        name=f"{action}_event",
        summary=f"{action.capitalize()} the event (organisers)",
    )
    async def change_status(event_id: Id, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
        async with uow:
            event = await commands.change_event_status(uow, event_id, action, principal)
            return EventPublic.of(event)


for _action in EventAction:
    _status_route(_action)


@events.get(
    "/{event_id:id}.ics",
    response_class=Response,
    summary="The event as an iCalendar file",
    responses={200: {"content": {ICS: {}}}},
)
async def event_ics(
    event_id: Id, principal: OptionalPrincipal, uow: UnitOfWorkDep, config: SettingsDep[EventsSettings]
) -> Response:
    async with uow:
        event = await commands.visible_event(uow, event_id, principal)
    body = calendars.calendar_of([event], event.title_it, config.public_url)
    return Response(body, media_type=ICS, headers={"Content-Disposition": f'attachment; filename="{event.id}.ics"'})


@events.post(
    "/{event_id:id}/registrations",
    status_code=201,
    response_model=RegistrationCreated,
    summary="Register: a seat while seats remain, else the waitlist (members with a token; guests on "
    "public events without one)",
)
async def register(
    event_id: Id,
    request: RegistrationRequest,
    principal: OptionalPrincipal,
    uow: UnitOfWorkDep,
    queue: RegistrationQueueDep,
) -> Any:
    async with uow:
        registration = await commands.prepare_registration(uow, event_id, principal, request.guest)
    registration = await queue.seat(registration)
    async with uow:
        public = await registration_public(uow.session, registration)
        return RegistrationCreated.model_validate({**public.model_dump(), "checkin_token": registration.checkin_token})


@events.get(
    "/{event_id:id}/registrations",
    response_model=list[RegistrationPublic],
    summary="Everyone registered, in order of arrival (organisers)",
)
async def event_registrations(event_id: Id, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        registrations = await commands.registrations_of_organised_event(uow, event_id, principal)
    positions = domain.waitlist_positions(registrations)
    return [RegistrationPublic.of(r, positions.get(r.id)) for r in registrations]


@events.get(
    "/{event_id:id}/attendance.csv",
    response_class=Response,
    summary="Attendance list (organisers)",
    responses={200: {"content": {"text/csv": {}}}},
)
async def attendance_csv(event_id: Id, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Response:
    async with uow:
        attendees = await commands.attendance_list(uow, event_id, principal)
    return Response(
        _attendance_csv(attendees),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="attendance-{event_id}.csv"'},
    )


def _attendance_csv(attendees: list[Registration]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "email", "company_id", "guest_company", "status", "checked_in_at", "price_due_cents"])
    for r in attendees:
        writer.writerow(
            [
                r.name,
                r.email or "",
                r.company_id or "",
                r.guest_company or "",
                r.status,
                r.checked_in_at.isoformat() if r.checked_in_at else "",
                r.price_due_cents,
            ]
        )
    return out.getvalue()


@events.post("/{event_id:id}/feedback", status_code=201, summary="Rate the event 1-5 and comment, once (attendees)")
async def leave_feedback(
    event_id: Id, data: FeedbackCreate, principal: CurrentPrincipal, uow: UnitOfWorkDep
) -> dict[str, str]:
    async with uow:
        feedback = await commands.leave_feedback(uow, event_id, principal, data)
        return {"id": feedback.id}


@events.get("/{event_id:id}/feedback", response_model=FeedbackSummary, summary="Feedback summary (organisers)")
async def feedback_summary(event_id: Id, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.feedback_summary(uow, event_id, principal)


registrations = APIRouter(prefix="/registrations", tags=["registrations"], responses=ERRORS)


@registrations.get(
    "/{registration_id:id}",
    response_model=RegistrationDetail,
    summary="One registration with its event (the registrant or the organisers); its check-in code for the "
    "registrant and the network's staff",
)
async def get_registration(registration_id: Id, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.registration_detail(uow, registration_id, principal)


@registrations.get(
    "/{registration_id:id}/qr.svg",
    response_class=Response,
    summary="The ticket: the QR code of a confirmed registration's check-in code (the registrant or the network's "
    "staff)",
    responses={200: {"content": {SVG: {}}}},
)
async def registration_qr_code(registration_id: Id, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Response:
    async with uow:
        code = await commands.ticket_code(uow, registration_id, principal)
    return Response(qr_svg(code), media_type=SVG, headers={"Cache-Control": "private, no-store"})


@registrations.post(
    "/{registration_id:id}/cancel",
    response_model=RegistrationPublic,
    summary="Cancel (the registrant until the deadline, or the organisers); a freed seat is offered "
    "to the first on the waitlist",
)
async def cancel_registration(
    registration_id: Id, principal: CurrentPrincipal, uow: UnitOfWorkDep, config: SettingsDep[EventsSettings]
) -> Any:
    async with uow:
        registration = await commands.cancel_registration(uow, registration_id, principal, config.offer_hours)
        return await registration_public(uow.session, registration)


@registrations.post(
    "/{registration_id:id}/accept-offer",
    response_model=RegistrationPublic,
    summary="Take the seat offered from the waitlist, before the offer lapses",
)
async def accept_offer(registration_id: Id, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        registration = await commands.accept_offer(uow, registration_id, principal)
        return await registration_public(uow.session, registration)


@registrations.post(
    "/{registration_id:id}/approve",
    response_model=RegistrationPublic,
    summary="Approve a registration waiting for approval (organisers)",
)
async def approve_registration(registration_id: Id, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        registration = await commands.decide_registration(uow, registration_id, principal, rejection_reason=None)
        return await registration_public(uow.session, registration)


@registrations.post(
    "/{registration_id:id}/reject",
    response_model=RegistrationPublic,
    summary="Reject a registration waiting for approval, saying why (organisers)",
)
async def reject_registration(
    registration_id: Id, decision: RejectionReason, principal: CurrentPrincipal, uow: UnitOfWorkDep
) -> Any:
    async with uow:
        registration = await commands.decide_registration(uow, registration_id, principal, decision.reason)
        return await registration_public(uow.session, registration)


check_in_and_calendars = APIRouter(tags=["check-in and calendars"], responses=ERRORS)


@check_in_and_calendars.post(
    "/check-in",
    response_model=CheckInResult,
    summary="Check someone in by the code of their QR (organisers); a second scan is a 409 with the time",
)
async def check_in(scan: CheckIn, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.check_in(uow, scan.token, principal)


@check_in_and_calendars.get(
    "/qr/{token}.svg",
    response_class=Response,
    summary="The QR code of a check-in code, to show at the door",
    responses={200: {"content": {SVG: {}}}},
)
async def qr_code(token: UrlSafeSecret, uow: UnitOfWorkDep) -> Response:
    async with uow:
        await store.registration_by_token(uow.session, token)
    return Response(qr_svg(token), media_type=SVG)


@check_in_and_calendars.get(
    "/calendar.ics",
    response_class=Response,
    summary="Subscribable feed of all published events",
    responses={200: {"content": {ICS: {}}}},
)
async def public_calendar(uow: UnitOfWorkDep, config: SettingsDep[EventsSettings]) -> Response:
    async with uow:
        found = await store.list_events(uow.session, domain.IN_PUBLIC_CALENDAR, None, None)
    return Response(calendars.calendar_of(found, "Filiera — eventi del distretto", config.public_url), media_type=ICS)


@check_in_and_calendars.get(
    "/me/calendar",
    response_model=CalendarLink,
    summary="The address of one's private 'my events' feed (keep it secret: it needs no login)",
)
async def my_calendar_link(principal: CurrentPrincipal, uow: UnitOfWorkDep, config: SettingsDep[EventsSettings]) -> Any:
    async with uow:
        feed = await commands.calendar_feed_for(uow, principal.subject)
    return CalendarLink(url=f"{config.public_url}/calendar/{feed.secret}.ics")


@check_in_and_calendars.get(
    "/me/registrations",
    response_model=list[MyRegistration],
    summary="One's own registrations with their events, soonest event first",
)
async def my_registrations(
    principal: CurrentPrincipal,
    uow: UnitOfWorkDep,
    upcoming: Annotated[bool, Query(description="Only registrations for events that have not ended yet")] = False,
) -> Any:
    async with uow:
        return await commands.registrations_of(uow, principal, upcoming)


@check_in_and_calendars.get(
    "/calendar/{secret}.ics",
    response_class=Response,
    summary="A person's private feed of their events",
    responses={200: {"content": {ICS: {}}}},
)
async def private_calendar(secret: UrlSafeSecret, uow: UnitOfWorkDep, config: SettingsDep[EventsSettings]) -> Response:
    async with uow:
        feed = await store.calendar_feed_by_secret(uow.session, secret)
        mine = [
            r
            for r in await store.registrations_of_person(uow.session, feed.person_id)
            if r.status in domain.HOLDS_A_SEAT
        ]
        found = await store.events_by_id(uow.session, {r.event_id for r in mine})
    return Response(calendars.calendar_of(found.values(), "Filiera — i miei eventi", config.public_url), media_type=ICS)


ROUTERS = [events, registrations, check_in_and_calendars]
