"""iCalendar (RFC 5545) for events: one event, the public feed, and a person's own feed."""

from __future__ import annotations

from collections.abc import Iterable

from services.events.domain import EventStatus, calendar_uid
from services.events.models import Event
from shared.calendar import CalendarEntry
from shared.calendar import calendar_of as _calendar_of


def calendar_of(events: Iterable[Event], name: str, public_url: str) -> bytes:
    return _calendar_of((_entry(event, public_url) for event in events), name)


def _entry(event: Event, public_url: str) -> CalendarEntry:
    return CalendarEntry(
        uid=calendar_uid(event.id),
        stamp=event.updated_at,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        time_zone=event.time_zone,
        summary=event.title_it if not event.title_en else f"{event.title_it} / {event.title_en}",
        description="\n\n".join(text for text in (event.description_it, event.description_en) if text),
        location=event.online_url or event.venue,
        url=f"{public_url}/events/{event.id}",
        cancelled=event.status == EventStatus.CANCELLED,
        categories=[event.event_type.value, *event.tags],
        sequence=event.revision,
    )
