"""Tables of the notifications service, the shapes its API reads and writes, and what it reads of the other
services' facts.

What it knows of people, companies, events and registrations is its own copy, kept from those facts (each read
through a model below, so a malformed one is dead-lettered with what is wrong); what it owns is messages,
preferences, webhook endpoints and their deliveries.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, EmailStr, StrictBool
from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.notifications.domain import Category, Channel, Frequency, Kind, PartnerEventType
from shared.clock import utc_now
from shared.columns import enum_column, json_list, timestamp
from shared.ids import new_id
from shared.membership import PublishedCompany, PublishedPerson, Role
from shared.text import Paragraph, PartialUpdate, WebUrl


class CompanyProfile(PublishedCompany):
    """What notifications reads of a company in a members.companies.v1 fact (the members service's profile)."""

    partita_iva: str  # the staff's notice of an application names it, and where the company is
    comune: str
    public_listing: bool = False


class CompanyFact(BaseModel):
    company: CompanyProfile
    reason: str | None = None  # why an application was rejected


class PersonProfile(PublishedPerson):
    """What notifications reads of a person in a members.people.v1 fact."""

    language: str | None = None
    role: Role = Role.COMPANY_MEMBER


class PersonFact(BaseModel):
    person: PersonProfile


class FeeFact(SQLModel):
    """A members.fees.v1 fact: the fee as its overdue notice names it."""

    company_id: str
    year: int
    amount_cents: int
    paid_cents: int
    due_date: date


class EventSummary(SQLModel):
    """What notifications reads of an event in an events.events.v1 or events.registrations.v1 fact."""

    id: str
    title_it: str
    title_en: str | None = None
    event_type: str
    status: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    venue: str
    online_url: str | None = None


class EventFact(SQLModel):
    event: EventSummary
    changed: list[str] = []  # events.event.updated: the names of the fields that changed


class RegistrationSummary(SQLModel):
    id: str
    event_id: str
    person_id: str | None = None
    name: str
    email: str | None = None
    status: str
    price_due_cents: int | None = None
    offer_expires_at: datetime | None = None
    checked_in_at: datetime | None = None


class RegistrationFact(SQLModel):
    registration: RegistrationSummary
    event: EventSummary
    position: int | None = None  # on the waitlist
    reason: str | None = None  # why it was rejected


class CallSummary(SQLModel):
    """What notifications reads of a funding call in a funding.calls/matches/searches.v1 fact."""

    id: str
    external_id: str = ""
    title_it: str | None = None
    title_en: str | None = None
    programme: str | None = None
    deadlines: list[datetime] = []


class ClosingSoonFact(SQLModel):
    call: CallSummary
    deadline: datetime
    days_before: int
    company_ids: list[str]


class MatchFact(SQLModel):
    call: CallSummary
    company_id: str
    reasons: list[str]


class SearchFact(SQLModel):
    call: CallSummary
    person_id: str
    search_name: str


class ContactCompany(SQLModel, table=True):
    __tablename__ = "contact_company"

    id: str = Field(primary_key=True)
    legal_name: str
    status: str = Field(max_length=40)
    public_listing: bool = False


class ContactPerson(SQLModel, table=True):
    __tablename__ = "contact_person"

    id: str = Field(primary_key=True)
    company_id: str | None = Field(default=None, index=True)
    given_name: str
    family_name: str
    email: str
    language: str = Field(default="it", max_length=5)
    role: str = Field(max_length=40, index=True)


class KnownEvent(SQLModel, table=True):
    __tablename__ = "known_event"

    id: str = Field(primary_key=True)
    title_it: str
    title_en: str
    event_type: str = Field(max_length=40)
    status: str = Field(max_length=40)
    starts_at: datetime = timestamp()
    ends_at: datetime = timestamp()
    time_zone: str = "Europe/Rome"
    venue: str
    online_url: str | None = None
    updated_at: datetime = timestamp(default_factory=utc_now)


class KnownRegistration(SQLModel, table=True):
    __tablename__ = "known_registration"

    id: str = Field(primary_key=True)
    event_id: str = Field(index=True)
    person_id: str | None = Field(default=None, index=True)
    name: str
    email: str | None = None
    status: str = Field(max_length=40)
    checked_in: bool = False


class Preference(SQLModel, table=True):
    """A person's choice for one category on one channel; absent means the default (domain.default_choice)."""

    person_id: str = Field(primary_key=True)
    category: Category = enum_column(Category, primary_key=True)
    channel: Channel = enum_column(Channel, primary_key=True)
    enabled: bool = True
    frequency: Frequency = enum_column(Frequency, default=Frequency.INSTANT)


class MessageStatus(StrEnum):
    HELD = "held"  # waiting for the person's digest
    QUEUED = "queued"  # an email waiting to be handed to the mail server
    SENT = "sent"  # handed to the mail server, or stored in the inbox
    FAILED = "failed"  # given up after retries; `last_error` says why
    DIGESTED = "digested"  # sent as part of the digest named by `digest_key`


class Message(SQLModel, table=True):
    """One message to one recipient on one channel, because of one fact: the unique key is what makes a
    redelivered fact harmless."""

    __table_args__ = (
        UniqueConstraint("source_event_id", "recipient", "channel", name="uq_message_per_fact_recipient_channel"),
        Index("ix_message_inbox", "person_id", "channel", "created_at"),
        Index("ix_message_due", "status", "next_attempt_at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True)
    source_event_id: str = Field(max_length=200)
    # The person's id, or "email:<address>" for someone the platform knows only by address.
    recipient: str = Field(max_length=400)
    person_id: str | None = None
    address: str | None = None
    language: str = Field(default="it", max_length=5)
    channel: Channel = enum_column(Channel)
    kind: Kind = enum_column(Kind)
    category: Category | None = enum_column(Category, default=None, nullable=True)
    title: str
    body: str = Field(sa_type=Text)
    html: str | None = Field(default=None, sa_type=Text)
    link: str | None = None
    calendar: str | None = Field(default=None, sa_type=Text, description="An .ics attached to the email")
    # Categories the email's one-click unsubscribe turns off (none for transactional mail).
    unsubscribe: list[str] = json_list()
    status: MessageStatus = enum_column(MessageStatus)
    held_for: Frequency | None = enum_column(Frequency, default=None, nullable=True)
    digest_key: str | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = timestamp(default=None, nullable=True)
    last_error: str | None = None
    read_at: datetime | None = timestamp(default=None, nullable=True)
    created_at: datetime = timestamp(default_factory=utc_now)
    sent_at: datetime | None = timestamp(default=None, nullable=True)


class WebhookEndpoint(SQLModel, table=True):
    __tablename__ = "webhook_endpoint"

    id: str = Field(default_factory=new_id, primary_key=True)
    owner_id: str = Field(index=True)
    contact_email: str
    url: str = Field(max_length=300)
    description: str = ""
    event_types: list[str] = json_list()
    secret: str
    previous_secret: str | None = None
    previous_secret_expires_at: datetime | None = timestamp(default=None, nullable=True)
    enabled: bool = True
    disabled_reason: str | None = None
    failing_since: datetime | None = timestamp(default=None, nullable=True)
    created_at: datetime = timestamp(default_factory=utc_now)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # given up; replay sends it again


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id", name="uq_delivery_per_endpoint_event"),
        Index("ix_delivery_due", "status", "next_attempt_at"),
    )

    # The `webhook-id` header: the same on every retry and replay, so receivers can drop repeats.
    id: str = Field(default_factory=lambda: f"msg_{new_id().replace('-', '')}", primary_key=True)
    endpoint_id: str = Field(foreign_key="webhook_endpoint.id", index=True)
    event_id: str = Field(max_length=200)
    event_type: str = Field(max_length=100)
    body: str = Field(sa_type=Text)
    status: DeliveryStatus = enum_column(DeliveryStatus, default=DeliveryStatus.PENDING)
    attempts: int = 0
    first_attempt_at: datetime | None = timestamp(default=None, nullable=True)
    next_attempt_at: datetime | None = timestamp(default=None, nullable=True)
    last_status_code: int | None = None
    last_error: str | None = None
    created_at: datetime = timestamp(default_factory=utc_now)
    finished_at: datetime | None = timestamp(default=None, nullable=True)


class WebhookAttempt(SQLModel, table=True):
    __tablename__ = "webhook_attempt"

    id: str = Field(default_factory=new_id, primary_key=True)
    delivery_id: str = Field(foreign_key="webhook_delivery.id", index=True)
    attempted_at: datetime = timestamp()
    status_code: int | None = None
    error: str | None = None
    duration_ms: int


class InboxMessage(SQLModel):
    id: str
    kind: Kind
    category: Category | None
    title: str
    body: str
    link: str | None
    created_at: datetime
    read_at: datetime | None


class UnreadCount(SQLModel):
    unread: int


class MarkedRead(SQLModel):
    marked: int


class PreferencePublic(SQLModel):
    category: Category
    channel: Channel
    enabled: bool
    frequency: Frequency
    transactional: bool = Field(description="Always on and instant: membership administration")


class PreferenceUpdate(SQLModel):
    enabled: StrictBool
    frequency: Frequency = Frequency.INSTANT


class Unsubscribed(SQLModel):
    person_id: str
    categories: list[Category]


class EndpointCreate(SQLModel):
    url: WebUrl = Field(description="https address of the receiver; private and loopback addresses are refused")
    event_types: list[PartnerEventType] = Field(
        min_length=1, max_length=20, description="Types from GET /webhooks/event-types"
    )
    description: Paragraph = Field(default="", max_length=500)
    contact_email: EmailStr = Field(description="Told when the endpoint is disabled")


class EndpointUpdate(PartialUpdate):
    url: WebUrl | None = None
    event_types: list[PartnerEventType] | None = Field(default=None, min_length=1, max_length=20)
    description: Paragraph | None = Field(default=None, max_length=500)
    contact_email: EmailStr | None = None
    enabled: StrictBool | None = Field(default=None, description="true re-enables a disabled endpoint")


class EndpointPublic(SQLModel):
    id: str
    owner_id: str
    url: str
    description: str
    event_types: list[str]
    contact_email: str
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    created_at: datetime


class EndpointCreated(EndpointPublic):
    secret: str = Field(description="whsec_...: shown once; verifies our signatures")


class SecretRotated(SQLModel):
    secret: str = Field(description="The new whsec_... secret, shown once")
    previous_valid_until: datetime = Field(description="Until then, deliveries carry both signatures")


class EventTypeDescription(SQLModel):
    type: PartnerEventType
    description: str


class AttemptPublic(SQLModel):
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryPublic(SQLModel):
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None


class DeliveryDetail(DeliveryPublic):
    body: str
    attempt_log: list[AttemptPublic]


class MessageLogEntry(SQLModel):
    """A message as the delivery log shows it to staff (without its text: the recipient's business)."""

    id: str
    source_event_id: str
    person_id: str | None
    channel: Channel
    kind: Kind
    status: MessageStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
