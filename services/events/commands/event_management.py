"""Organising events: create, edit, publish, cancel and complete them, remind before the start; and which events
a caller may see."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.events import domain, store
from services.events.commands.members_copy import ensure_active_member
from services.events.commands.published_facts import event_summary
from services.events.commands.seats import offer_free_seats
from services.events.domain import EventAction, EventStatus
from services.events.events import (
    EventCancelled,
    EventCompleted,
    EventFact,
    EventPublished,
    EventStartingSoon,
    EventUpdated,
)
from services.events.models import Event, EventCreate, EventUpdate
from shared.auth import Principal
from shared.errors import NotFound
from shared.unit_of_work import UnitOfWork

_STATUS_EVENTS: dict[EventAction, type[EventFact]] = {
    EventAction.PUBLISH: EventPublished,
    EventAction.CANCEL: EventCancelled,
    EventAction.COMPLETE: EventCompleted,
}


async def create_event(uow: UnitOfWork, data: EventCreate, actor: Principal) -> Event:
    organiser = domain.organiser_of_new_event(actor, data.organiser_company_id)
    if organiser.must_be_active_member and organiser.company_id:
        await ensure_active_member(uow, organiser.company_id)
    domain.check_schedule(data.starts_at, data.ends_at)
    domain.check_registration_window(data.registration_opens_at, data.registration_closes_at, data.starts_at)
    now = uow.now()
    event = Event.model_validate(
        {
            **data.model_dump(),
            "organiser_company_id": organiser.company_id,
            "created_by": actor.subject,
            "created_at": now,
            "updated_at": now,
        }
    )
    uow.session.add(event)
    await uow.commit()
    return event


async def update_event(
    uow: UnitOfWork, event_id: str, update: EventUpdate, actor: Principal, offer_hours: float
) -> Event:
    event = await store.lock_event(uow.session, event_id)
    domain.check_organiser(actor, event.organiser_company_id)
    domain.check_editable(event.status)
    zone = ZoneInfo(event.time_zone)
    changes = {name: _in_zone(value, zone) for name, value in update.model_dump(exclude_unset=True).items()}
    changes = {name: value for name, value in changes.items() if getattr(event, name) != value}
    if not changes:
        return event
    for name, value in changes.items():
        setattr(event, name, value)
    domain.check_schedule(event.starts_at, event.ends_at)
    domain.check_registration_window(event.registration_opens_at, event.registration_closes_at, event.starts_at)
    domain.check_capacity(event.capacity, event.seats_held)
    event.revision = domain.calendar_revision(event.revision, changes)
    event.updated_at = uow.now()
    if event.status == EventStatus.PUBLISHED:
        uow.publish(EventUpdated(event_id=event.id, event=event_summary(event), changed=sorted(changes)))
    if "capacity" in changes:
        await offer_free_seats(uow, event, offer_hours)
    await uow.commit()
    return event


def _in_zone(value: Any, zone: ZoneInfo) -> Any:
    """Times sent without an offset are read in the event's time zone, as on creation."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=zone)
    return value


async def change_event_status(uow: UnitOfWork, event_id: str, action: EventAction, actor: Principal) -> Event:
    event = await store.lock_event(uow.session, event_id)
    domain.check_organiser(actor, event.organiser_company_id)
    event.status = domain.next_event_status(event.status, action)
    event.revision = domain.calendar_revision_on(event.revision, action)
    event.updated_at = uow.now()
    uow.publish(_STATUS_EVENTS[action](event_id=event.id, event=event_summary(event)))
    await uow.commit()
    return event


async def remind_events_starting_within(uow: UnitOfWork, hours: float) -> int:
    """Announce once each published event that starts within `hours`; the mark and the fact commit together,
    so a restart or a second replica cannot announce it again."""
    now = uow.now()
    events = await store.events_to_remind(uow.session, now, now + timedelta(hours=hours))
    for event in events:
        event.reminder_sent_at = now
        uow.publish(EventStartingSoon(event_id=event.id, event=event_summary(event)))
    await uow.commit()
    return len(events)


async def visible_event(uow: UnitOfWork, event_id: str, viewer: Principal | None) -> Event:
    """The event, if `viewer` may see it; a draft is not found for anyone but its organisers."""
    event = await store.get_event(uow.session, event_id)
    if not domain.is_visible(event.status, event.organiser_company_id, viewer):
        raise NotFound(f"no event with id {event_id}")
    return event


async def organised_event(uow: UnitOfWork, event_id: str, actor: Principal) -> Event:
    """The event, for its organisers only."""
    event = await store.get_event(uow.session, event_id)
    domain.check_organiser(actor, event.organiser_company_id)
    return event
