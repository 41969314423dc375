"""The shapes the notifications API reads and writes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, EmailStr, StrictBool
from pydantic_core import PydanticCustomError
from sqlmodel import Field, SQLModel

from services.notifications.domain import Category, Channel, Frequency, Kind, Language, PartnerEventType
from services.notifications.models.tables import DeliveryStatus, MessageStatus
from shared.ids import Id
from shared.text import Line, Paragraph, PartialUpdate, WebUrl


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


def _plain(message: str) -> Callable[[str], str]:
    """A check that the text, stripped, is not empty; refused with `message`, in words a form can show."""

    def check(text: str) -> str:
        text = text.strip()
        if not text:
            raise PydanticCustomError("blank", message)
        return text

    return check


class InquiryCreate(SQLModel):
    """A buyer's message to a company of the directory, from its page's contact form."""

    company_id: Id
    name: Annotated[Line, AfterValidator(_plain("please write your name"))] = Field(max_length=200)
    email: EmailStr = Field(description="Where the company answers, and where the buyer's copy goes")
    company: Line | None = Field(default=None, max_length=200, description="The buyer's company")
    country: Line | None = Field(default=None, max_length=100, description="Where the buyer is")
    message: Annotated[Paragraph, AfterValidator(_plain("please write your message to the company"))] = Field(
        max_length=5000
    )
    language: Language = Field(default=Language.IT, description="The language of the buyer's copy")
    website: str = Field(
        default="",
        max_length=2000,
        description="Leave empty: hidden from people in the form, it catches robots (a filled one is dropped)",
    )


class InquiryAccepted(SQLModel):
    accepted: bool = Field(default=True, description="Always true: the answer never tells a robot it was caught")
