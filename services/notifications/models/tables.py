"""Tables of the notifications service. What it knows of people, companies, events and registrations is its own
copy, kept from the other services' facts; what it owns is messages, preferences, webhook endpoints and their
deliveries, and the moments of buyers' inquiries (their limits)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.notifications.domain import Category, Channel, Frequency, Kind
from shared.clock import utc_now
from shared.columns import enum_column, json_list, timestamp
from shared.ids import new_id


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
    # The UID and SEQUENCE its calendar entries carry (a calendar applies an entry only with a higher SEQUENCE).
    calendar_uid: str | None = None
    calendar_sequence: int = 0
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
    language: str | None = Field(default=None, max_length=5)  # a guest's; members are written to in their own


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
    ticket_code: str | None = Field(default=None, max_length=200, description="Shown as a QR code in the email")
    reply_to: str | None = Field(default=None, max_length=320, description="Whom a reply to the email reaches")
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


class Inquiry(SQLModel, table=True):
    """A buyer's inquiry as far as its limits need it: when, to which company, from which client (a digest of its
    address). What the buyer wrote is in the messages; these rows go once older than the longest limit."""

    __table_args__ = (
        Index("ix_inquiry_client", "client", "created_at"),
        Index("ix_inquiry_company", "company_id", "created_at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True)
    company_id: str = Field(max_length=64)
    client: str = Field(max_length=64)
    created_at: datetime = timestamp()
