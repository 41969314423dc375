"""iCalendar (RFC 5545) files: the events service's feeds and the `.ics` the notifications service attaches."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar
from icalendar import Event as Component

PRODUCT_ID = "-//Filiera//Capannori footwear district events//IT"


@dataclass(frozen=True)
class CalendarEntry:
    uid: str  # the same for every copy of one event, so calendars update it rather than add another
    stamp: datetime
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    summary: str
    description: str
    location: str
    url: str
    cancelled: bool = False
    categories: Sequence[str] = ()
    # Grows with each change of time, place or title (and with a cancellation), so a calendar that holds the entry
    # takes the newer copy (RFC 5545 §3.8.7.4).
    sequence: int = 0


def calendar_of(entries: Iterable[CalendarEntry], name: str, method: str | None = None) -> bytes:
    """A calendar of `entries`. `method` ("PUBLISH", "REQUEST", "CANCEL") makes it an iTIP message (RFC 5546), as
    an email's calendar part is; a feed has none."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    if method:
        calendar.add("method", method)
    calendar.add("x-wr-calname", name)
    for entry in entries:
        calendar.add_component(_component(entry))
    calendar.add_missing_timezones()
    ical: bytes = calendar.to_ical()
    return ical


def _component(entry: CalendarEntry) -> Component:
    zone = ZoneInfo(entry.time_zone)
    component = Component()
    component.add("uid", entry.uid)
    component.add("dtstamp", entry.stamp)
    # Local times with their zone, so a calendar shows 9:30 in Capannori whatever the reader's own zone.
    component.add("dtstart", entry.starts_at.astimezone(zone))
    component.add("dtend", entry.ends_at.astimezone(zone))
    component.add("summary", entry.summary)
    component.add("description", entry.description)
    component.add("location", entry.location)
    component.add("url", entry.url)
    component.add("sequence", entry.sequence)
    component.add("status", "CANCELLED" if entry.cancelled else "CONFIRMED")
    if entry.categories:
        component.add("categories", list(entry.categories))
    return component
