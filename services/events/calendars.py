"""iCalendar (RFC 5545) for events: one event, the public feed, and a person's own feed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar
from icalendar import Event as CalendarEntry

from services.events.domain import EventStatus
from services.events.models import Event

PRODUCT_ID = "-//Filiera//Capannori footwear district events//IT"


def calendar_of(events: Iterable[Event], name: str, public_url: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    for event in events:
        calendar.add_component(_entry(event, public_url))
    calendar.add_missing_timezones()
    return calendar.to_ical()


def _entry(event: Event, public_url: str) -> CalendarEntry:
    zone = ZoneInfo(event.time_zone)
    entry = CalendarEntry()
    entry.add("uid", f"{event.id}@filiera")
    entry.add("dtstamp", event.updated_at)
    entry.add("dtstart", _local(event.starts_at, zone))
    entry.add("dtend", _local(event.ends_at, zone))
    entry.add("summary", event.title_it if not event.title_en else f"{event.title_it} / {event.title_en}")
    entry.add("description", "\n\n".join(text for text in (event.description_it, event.description_en) if text))
    entry.add("location", event.online_url or event.venue)
    entry.add("url", f"{public_url}/events/{event.id}")
    entry.add("status", "CANCELLED" if event.status == EventStatus.CANCELLED else "CONFIRMED")
    entry.add("categories", [event.event_type.value, *event.tags])
    return entry


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone)
