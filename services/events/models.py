"""Tables of the events service and the shapes its API accepts and returns: events, registrations, feedback, and
what it keeps of the members service's companies and people (with the facts it reads them from)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, EmailStr, model_validator
from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from services.events.domain import ACTIVE, Audience, EventStatus, EventType, Language, RegistrationStatus
from shared.columns import enum_column, json_list, timestamp
from shared.errors import DomainError
from shared.ids import Id, new_id
from shared.membership import MembershipStatus, PublishedCompany, PublishedPerson
from shared.text import Line, Paragraph, PartialUpdate, WebUrl

POLO_TECNOLOGICO = "Polo Tecnologico di Capannori, via Nuova 44/A, Segromigno in Monte (LU)"


def _known_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise DomainError(f"unknown time zone {name!r}: use an IANA name such as Europe/Rome") from error
    return name


TimeZoneName = Annotated[str, AfterValidator(_known_zone)]


class EventFields(SQLModel):
    """What an organiser writes about an event. Times without an offset are read in the event's time zone."""

    title_it: Line = Field(min_length=3, max_length=200)
    title_en: Line = Field(default="", max_length=200)
    description_it: Paragraph = Field(default="", max_length=10_000)
    description_en: Paragraph = Field(default="", max_length=10_000)
    event_type: EventType = enum_column(EventType)
    time_zone: TimeZoneName = Field(default="Europe/Rome", max_length=60)
    starts_at: datetime = timestamp()
    ends_at: datetime = timestamp()
    venue: Line = Field(default=POLO_TECNOLOGICO, max_length=300)
    online_url: WebUrl | None = Field(default=None, max_length=300)
    audience: Audience = enum_column(Audience, default=Audience.MEMBERS)
    capacity: int = Field(ge=1, le=100_000)
    seats_per_company: int | None = Field(default=None, ge=1, le=100_000)
    registration_opens_at: datetime | None = timestamp(default=None, nullable=True)
    registration_closes_at: datetime | None = timestamp(
        default=None, nullable=True, description="Default: when the event starts"
    )
    cancellation_deadline: datetime | None = timestamp(
        default=None, nullable=True, description="Self-cancellation until then; default: the start"
    )
    price_member_cents: int = Field(default=0, ge=0, le=10**9)
    price_other_cents: int = Field(default=0, ge=0, le=10**9)
    requires_approval: bool = False
    tags: list[Line] = json_list()

    @model_validator(mode="after")
    def _times_in_the_event_zone(self) -> EventFields:
        zone = ZoneInfo(self.time_zone)
        for name in (
            "starts_at",
            "ends_at",
            "registration_opens_at",
            "registration_closes_at",
            "cancellation_deadline",
        ):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                setattr(self, name, value.replace(tzinfo=zone))
        return self


class EventCreate(EventFields):
    organiser_company_id: Id | None = Field(
        default=None, description="The member company hosting it; none when the network organises it"
    )


class Event(EventFields, table=True):
    id: str = Field(default_factory=new_id, primary_key=True)
    organiser_company_id: str | None = Field(default=None, index=True)
    status: EventStatus = enum_column(EventStatus, default=EventStatus.DRAFT)
    created_by: str
    # Written from the service's clock (uow.now()) by the command that makes the row, as every time here is.
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()
    reminder_sent_at: datetime | None = timestamp(default=None, nullable=True)
    # Kept under the event's lock by every registration change (commands.set_status): reading them is what
    # keeps a seat decision to a few statements while the lock is held.
    registrations_received: int = Field(default=0, description="Arrival order of registrations")
    seats_held: int = Field(default=0, description="Registrations confirmed or offered")
    waiting: int = Field(default=0, description="Registrations on the waitlist")
    # The SEQUENCE of the event's calendar entries: grows with each change people's calendars must apply
    # (domain.calendar_revision).
    revision: int = Field(default=0)


class EventUpdate(PartialUpdate):
    """Only the fields sent change; registrations already confirmed are kept."""

    clearable: ClassVar[frozenset[str]] = frozenset(
        {
            "online_url",
            "seats_per_company",
            "registration_opens_at",
            "registration_closes_at",
            "cancellation_deadline",
        }
    )

    title_it: Line | None = Field(default=None, min_length=3, max_length=200)
    title_en: Line | None = Field(default=None, max_length=200)
    description_it: Paragraph | None = Field(default=None, max_length=10_000)
    description_en: Paragraph | None = Field(default=None, max_length=10_000)
    event_type: EventType | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    venue: Line | None = Field(default=None, max_length=300)
    online_url: WebUrl | None = None
    audience: Audience | None = None
    capacity: int | None = Field(default=None, ge=1, le=100_000)
    seats_per_company: int | None = Field(default=None, ge=1, le=100_000)
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    cancellation_deadline: datetime | None = None
    price_member_cents: int | None = Field(default=None, ge=0, le=10**9)
    price_other_cents: int | None = Field(default=None, ge=0, le=10**9)
    requires_approval: bool | None = None
    tags: list[Line] | None = None


class EventPublic(EventFields):
    """Times are given in the event's own time zone, with their offset."""

    id: str
    organiser_company_id: str | None
    status: EventStatus
    seats_left: int
    waiting: int

    @classmethod
    def of(cls, event: Event) -> EventPublic:
        return cls.model_validate({**event.model_dump(), "seats_left": max(0, event.capacity - event.seats_held)})

    @model_validator(mode="after")
    def _times_shown_in_the_event_zone(self) -> EventPublic:
        zone = ZoneInfo(self.time_zone)
        for name in (
            "starts_at",
            "ends_at",
            "registration_opens_at",
            "registration_closes_at",
            "cancellation_deadline",
        ):
            if (value := getattr(self, name)) is not None:
                setattr(self, name, value.astimezone(zone))
        return self


_ACTIVE_SQL = text(f"status IN ({', '.join(repr(str(status)) for status in sorted(ACTIVE))})")


class Guest(SQLModel):
    """Someone from outside the network registering for a public event."""

    name: Line = Field(min_length=2, max_length=200)
    company: Line | None = Field(default=None, max_length=200)
    email: EmailStr
    language: Language = Field(default=Language.IT, description="The language the guest is written to in")


class RegistrationRequest(SQLModel):
    guest: Guest | None = Field(default=None, description="Only without a token, on public events")


class Registration(SQLModel, table=True):
    __table_args__ = (
        Index("ix_registration_event_status", "event_id", "status", "sequence"),
        # One active registration per person and per address: two simultaneous attempts cannot both pass.
        Index(
            "uq_registration_active_person",
            "event_id",
            "person_id",
            unique=True,
            postgresql_where=_ACTIVE_SQL,
            sqlite_where=_ACTIVE_SQL,
        ),
        Index(
            "uq_registration_active_email",
            "event_id",
            "email",
            unique=True,
            postgresql_where=_ACTIVE_SQL,
            sqlite_where=_ACTIVE_SQL,
        ),
    )

    id: str = Field(default_factory=new_id, primary_key=True)
    event_id: str = Field(foreign_key="event.id")
    sequence: int = Field(description="Order of arrival for this event")
    person_id: str | None = Field(default=None, index=True)
    company_id: str | None = Field(default=None, index=True)
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=320)
    guest_company: str | None = Field(default=None, max_length=200)
    # A guest's own choice; none for members, whose language the members service keeps.
    language: Language | None = enum_column(Language, length=2, default=None, nullable=True)
    is_member: bool
    status: RegistrationStatus = enum_column(RegistrationStatus)
    price_due_cents: int
    checkin_token: str = Field(unique=True, max_length=64)
    checked_in_at: datetime | None = timestamp(default=None, nullable=True)
    offer_expires_at: datetime | None = timestamp(default=None, nullable=True)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()


class RegistrationPublic(SQLModel):
    id: str
    event_id: str
    person_id: str | None
    company_id: str | None
    name: str
    status: RegistrationStatus
    waitlist_position: int | None = Field(default=None, description="1 = next to be offered a seat")
    price_due_cents: int
    checked_in_at: datetime | None
    offer_expires_at: datetime | None
    created_at: datetime
    language: Language | None = Field(default=None, description="A guest's language; none for members")

    @classmethod
    def of(cls, registration: Registration, waitlist_position: int | None) -> RegistrationPublic:
        return cls.model_validate({**registration.model_dump(), "waitlist_position": waitlist_position})


class RegistrationCreated(RegistrationPublic):
    checkin_token: str = Field(description="Shown to the registrant as a QR code; staff scan it at the door")


class RegisteredEvent(SQLModel):
    """What a registrant's list shows of the event; times in the event's time zone, with their offset."""

    id: str
    title_it: str
    title_en: str
    event_type: EventType
    status: EventStatus
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    venue: str
    online_url: str | None
    cancellation_deadline: datetime | None

    @classmethod
    def of(cls, event: Event) -> RegisteredEvent:
        zone = ZoneInfo(event.time_zone)
        deadline = event.cancellation_deadline
        return cls.model_validate(
            {
                **event.model_dump(),
                "starts_at": event.starts_at.astimezone(zone),
                "ends_at": event.ends_at.astimezone(zone),
                "cancellation_deadline": deadline.astimezone(zone) if deadline else None,
            }
        )


class MyRegistration(RegistrationPublic):
    """One of the caller's registrations, with its event."""

    event: RegisteredEvent

    @classmethod
    def of_event(cls, registration: Registration, event: Event, waitlist_position: int | None) -> MyRegistration:
        public = RegistrationPublic.of(registration, waitlist_position)
        return cls.model_validate({**public.model_dump(), "event": RegisteredEvent.of(event)})


class RegistrationDetail(MyRegistration):
    checkin_token: str | None = Field(
        description="The code the door scans (its QR: /registrations/{id}/qr.svg); for the registrant and the "
        "network's staff only, null for the organising company's admins"
    )

    @classmethod
    def shown(cls, registration: MyRegistration, checkin_token: str | None) -> RegistrationDetail:
        return cls.model_validate({**registration.model_dump(), "checkin_token": checkin_token})


class RejectionReason(SQLModel):
    reason: Paragraph = Field(min_length=1, max_length=2000)


class CheckIn(SQLModel):
    token: Line = Field(min_length=8, max_length=64)


class CheckInResult(SQLModel):
    registration_id: str
    name: str
    checked_in_at: datetime


class FeedbackCreate(SQLModel):
    rating: int = Field(ge=1, le=5)
    comment: Paragraph = Field(default="", max_length=5000)


class Feedback(FeedbackCreate, table=True):
    id: str = Field(default_factory=new_id, primary_key=True)
    event_id: str = Field(foreign_key="event.id", index=True)
    registration_id: str = Field(foreign_key="registration.id", unique=True)
    created_at: datetime = timestamp()


class FeedbackSummary(SQLModel):
    responses: int
    attendees: int
    average_rating: float | None
    ratings: dict[int, int]
    comments: list[str]

    @classmethod
    def of(cls, feedback: list[Feedback], attendees: int) -> FeedbackSummary:
        return cls(
            responses=len(feedback),
            attendees=attendees,
            ratings={score: sum(1 for f in feedback if f.rating == score) for score in range(1, 6)},
            average_rating=round(sum(f.rating for f in feedback) / len(feedback), 2) if feedback else None,
            comments=[f.comment for f in feedback if f.comment],
        )


class CalendarLink(SQLModel):
    url: str


class CalendarFeed(SQLModel, table=True):
    """A person's private 'my events' feed, behind a secret that calendar apps can carry in a URL."""

    __tablename__ = "calendar_feed"

    person_id: str = Field(primary_key=True)
    secret: str = Field(unique=True, max_length=64)


class CompanyFact(SQLModel):
    """The data of every members.companies.v1 fact, as far as events reads it: the company as it now is."""

    company: PublishedCompany


class PersonFact(SQLModel):
    """The data of members.person.joined and .updated: the person as they now are."""

    person: PublishedPerson


class MemberCompany(SQLModel, table=True):
    __tablename__ = "member_company"

    id: str = Field(primary_key=True)
    legal_name: str
    # VARCHAR(20), as migration 0001 made it.
    status: MembershipStatus = enum_column(
        MembershipStatus, length=20, description="The members service's membership status"
    )


class MemberPerson(SQLModel, table=True):
    __tablename__ = "member_person"

    id: str = Field(primary_key=True)
    company_id: str | None = Field(default=None, index=True)
    name: str
    email: str
