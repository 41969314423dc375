"""The .ics an email carries: the event's calendar entry as the registrant's calendar keeps it (PUBLISH), or the
CANCEL that takes it out of their calendar when their registration is cancelled (RFC 5546).

Every copy of an event's entry has the UID events gives it and the SEQUENCE of the event as it now is; a calendar
applies an entry over the one it holds only when its SEQUENCE is higher, so a CANCEL carries one above them all.
"""

from __future__ import annotations

from enum import StrEnum

from services.notifications.models import KnownEvent
from shared.calendar import CalendarEntry, calendar_of


class CalendarMethod(StrEnum):
    PUBLISH = "PUBLISH"
    CANCEL = "CANCEL"


def event_uid(known: KnownEvent) -> str:
    """The event's calendar UID: as events names it, or as events has always written it for facts without it."""
    return known.calendar_uid or f"{known.id}@filiera"


def event_calendar(known: KnownEvent, url: str) -> str:
    """The event's entry, to add to a calendar or to update the one there."""
    return _calendar(known, url, CalendarMethod.PUBLISH, event_uid(known), known.calendar_sequence)


def cancellation_calendar(known: KnownEvent, url: str, uid: str | None, sequence: int | None) -> str:
    """The CANCEL of the event's entry in one registrant's calendar; `uid` and `sequence` as the cancelled
    registration's fact gives them, else the event's UID and one above its entries' SEQUENCE."""
    return _calendar(
        known,
        url,
        CalendarMethod.CANCEL,
        uid or event_uid(known),
        sequence if sequence is not None else known.calendar_sequence + 1,
        cancelled=True,
    )


def _calendar(
    known: KnownEvent, url: str, method: CalendarMethod, uid: str, sequence: int, cancelled: bool = False
) -> str:
    entry = CalendarEntry(
        uid=uid,
        stamp=known.updated_at,
        starts_at=known.starts_at,
        ends_at=known.ends_at,
        time_zone=known.time_zone,
        summary=known.title_it if not known.title_en else f"{known.title_it} / {known.title_en}",
        description="",
        location=known.online_url or known.venue,
        url=url,
        cancelled=cancelled or known.status == "cancelled",
        categories=[known.event_type],
        sequence=sequence,
    )
    return calendar_of([entry], known.title_it, method.value).decode()
