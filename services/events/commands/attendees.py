"""What happens around an event for those who attend it: check-in at the door, the attendance list, feedback,
and the private calendar feed of one's events."""

from __future__ import annotations

import secrets

from services.events import domain, store
from services.events.commands.event_management import organised_event
from services.events.commands.published_facts import registration_fact
from services.events.events import RegistrationCheckedIn
from services.events.models import CalendarFeed, CheckInResult, Feedback, FeedbackCreate, FeedbackSummary, Registration
from shared.auth import Principal
from shared.unit_of_work import UnitOfWork


async def check_in(uow: UnitOfWork, token: str, actor: Principal) -> CheckInResult:
    registration = await store.registration_by_token(uow.session, token)
    event = await store.lock_event(uow.session, registration.event_id)
    await uow.session.refresh(registration)
    domain.check_organiser(actor, event.organiser_company_id)
    domain.check_check_in(registration.name, registration.status, registration.checked_in_at)
    checked_in_at = uow.now()
    registration.checked_in_at = registration.updated_at = checked_in_at
    uow.publish(registration_fact(RegistrationCheckedIn, event, registration))
    await uow.commit()
    return CheckInResult(registration_id=registration.id, name=registration.name, checked_in_at=checked_in_at)


async def attendance_list(uow: UnitOfWork, event_id: str, actor: Principal) -> list[Registration]:
    """Who the organisers expect at the door, in order of arrival."""
    await organised_event(uow, event_id, actor)
    registrations = await store.registrations_of_event(uow.session, event_id)
    return [r for r in registrations if r.status in domain.ON_ATTENDANCE_LIST]


async def leave_feedback(uow: UnitOfWork, event_id: str, actor: Principal, data: FeedbackCreate) -> Feedback:
    event = await store.get_event(uow.session, event_id)
    registration = await store.active_registration_of(uow.session, event.id, person_id=actor.subject)
    already_left = registration is not None and await store.feedback_for_registration(uow.session, registration.id)
    domain.check_feedback(
        registration.checked_in_at if registration else None, uow.now(), event.starts_at, bool(already_left)
    )
    domain.check_rating(data.rating)
    assert registration is not None  # check_feedback refuses anyone without a registration
    feedback = Feedback(
        event_id=event.id,
        registration_id=registration.id,
        rating=data.rating,
        comment=data.comment,
        created_at=uow.now(),
    )
    uow.session.add(feedback)
    await uow.commit()
    return feedback


async def feedback_summary(uow: UnitOfWork, event_id: str, actor: Principal) -> FeedbackSummary:
    """For the organisers."""
    await organised_event(uow, event_id, actor)
    feedback = await store.feedback_of_event(uow.session, event_id)
    attendees = sum(1 for r in await store.registrations_of_event(uow.session, event_id) if r.checked_in_at)
    return FeedbackSummary.of(feedback, attendees)


async def calendar_feed_for(uow: UnitOfWork, person_id: str) -> CalendarFeed:
    """The person's private feed, made on first asking and the same afterwards."""
    feed = await store.calendar_feed_of(uow.session, person_id)
    if feed is None:
        feed = CalendarFeed(person_id=person_id, secret=secrets.token_urlsafe(32))
        uow.session.add(feed)
        await uow.commit()
    return feed
