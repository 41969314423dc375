"""The facts the use cases publish, built from the tables: an event fact carries the event as it now is, a
registration fact the registration and its event."""

from __future__ import annotations

from typing import Any, TypeVar

from services.events import domain
from services.events.events import CalendarCancellation, EventSummary, RegistrationFact, RegistrationSummary
from services.events.models import Event, Registration

FactType = TypeVar("FactType", bound=RegistrationFact)


def event_summary(event: Event) -> EventSummary:
    return EventSummary.model_validate(
        {**event.model_dump(), "calendar_uid": domain.calendar_uid(event.id), "calendar_sequence": event.revision}
    )


def registration_summary(registration: Registration) -> RegistrationSummary:
    return RegistrationSummary.model_validate(
        {**registration.model_dump(), "check_in_code": registration.checkin_token}
    )


def calendar_cancellation(event: Event) -> CalendarCancellation:
    return CalendarCancellation(
        uid=domain.calendar_uid(event.id), sequence=domain.cancellation_sequence(event.revision)
    )


def registration_fact(kind: type[FactType], event: Event, registration: Registration, **extra: Any) -> FactType:
    """`extra`: the fields a kind adds (a waitlisted registration's position, a rejection's reason)."""
    return kind(
        event_id=registration.event_id,
        registration_id=registration.id,
        registration=registration_summary(registration),
        event=event_summary(event),
        **extra,
    )
