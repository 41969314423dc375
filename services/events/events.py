"""The facts the events service publishes. Event facts carry the event as it now is; registration facts carry
the registration and its event, so the notifications service can write to the person (with the event's time and
place) without calling us and whatever order it reads the two topics in."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, Field

from services.events.domain import Audience, EventStatus, EventType, Language, RegistrationStatus
from shared import topics
from shared.envelope import IntegrationEvent

EVENTS_TOPIC = topics.EVENTS_EVENTS
REGISTRATIONS_TOPIC = topics.EVENTS_REGISTRATIONS


class EventSummary(BaseModel):
    id: str
    title_it: str
    title_en: str
    event_type: EventType
    status: EventStatus
    audience: Audience
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    venue: str
    online_url: str | None
    organiser_company_id: str | None
    capacity: int
    tags: list[str]
    # Added for the calendar files of emails: facts published before lack them, so they are optional here.
    calendar_uid: str | None = Field(
        default=None,
        description="The UID of the event's calendar entries (.ics), the same in every copy; absent from earlier "
        "facts, where it is the event's id followed by @filiera",
    )
    calendar_sequence: int = Field(
        default=0,
        description="The SEQUENCE of its calendar entries as the event now is: grows with each change of title, "
        "time or place, and when the event is cancelled (0 in earlier facts, as it was then for every event)",
    )


class EventFact(IntegrationEvent):
    topic: ClassVar[str] = EVENTS_TOPIC
    key_field: ClassVar[str] = "event_id"

    event_id: str
    event: EventSummary


class EventPublished(EventFact):
    event_type: ClassVar[str] = "events.event.published"


class EventUpdated(EventFact):
    event_type: ClassVar[str] = "events.event.updated"
    changed: list[str]


class EventCancelled(EventFact):
    event_type: ClassVar[str] = "events.event.cancelled"


class EventCompleted(EventFact):
    event_type: ClassVar[str] = "events.event.completed"


class EventStartingSoon(EventFact):
    """Sent once, about a day before the start, for the notifications service to remind registrants."""

    event_type: ClassVar[str] = "events.event.starting_soon"


class RegistrationSummary(BaseModel):
    id: str
    event_id: str
    person_id: str | None
    company_id: str | None
    name: str
    email: str | None
    status: RegistrationStatus
    price_due_cents: int
    offer_expires_at: datetime | None
    checked_in_at: datetime | None
    # Added for the emails' tickets and languages: facts published before lack them, so they are optional here.
    check_in_code: str | None = Field(
        default=None, description="What the door scans (as a QR code) to check the registrant in"
    )
    language: Language | None = Field(
        default=None,
        description="The language a guest chose; null for members, written to in their own as the members "
        "service keeps it",
    )


class RegistrationFact(IntegrationEvent):
    topic: ClassVar[str] = REGISTRATIONS_TOPIC
    # Keyed by event, so one event's seats are told in the order they were given.
    key_field: ClassVar[str] = "event_id"

    event_id: str
    registration_id: str
    registration: RegistrationSummary
    event: EventSummary


class RegistrationConfirmed(RegistrationFact):
    event_type: ClassVar[str] = "events.registration.confirmed"


class RegistrationWaitlisted(RegistrationFact):
    event_type: ClassVar[str] = "events.registration.waitlisted"
    position: int


class RegistrationOffered(RegistrationFact):
    """A seat freed up: the registrant may take it until `registration.offer_expires_at`."""

    event_type: ClassVar[str] = "events.registration.offered"


class RegistrationPromoted(RegistrationFact):
    event_type: ClassVar[str] = "events.registration.promoted"


class CalendarCancellation(BaseModel):
    """What the registrant's calendar needs to remove the event: a METHOD:CANCEL of the entry they were sent."""

    uid: str = Field(description="The event's calendar UID (event.calendar_uid)")
    sequence: int = Field(description="The CANCEL's SEQUENCE, above every entry sent for the event as it now is")


class RegistrationCancelled(RegistrationFact):
    event_type: ClassVar[str] = "events.registration.cancelled"
    calendar: CalendarCancellation | None = Field(default=None, description="Absent from earlier facts")


class RegistrationRejected(RegistrationFact):
    event_type: ClassVar[str] = "events.registration.rejected"
    reason: str


class RegistrationLapsed(RegistrationFact):
    event_type: ClassVar[str] = "events.registration.lapsed"


class RegistrationCheckedIn(RegistrationFact):
    event_type: ClassVar[str] = "events.registration.checked_in"


PUBLISHED_EVENTS: list[type[IntegrationEvent]] = [
    EventPublished,
    EventUpdated,
    EventCancelled,
    EventCompleted,
    EventStartingSoon,
    RegistrationConfirmed,
    RegistrationWaitlisted,
    RegistrationOffered,
    RegistrationPromoted,
    RegistrationCancelled,
    RegistrationRejected,
    RegistrationLapsed,
    RegistrationCheckedIn,
]
