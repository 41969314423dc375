"""The shapes the notifications API reads and writes."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import BeforeValidator, EmailStr, StrictBool, StringConstraints
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


# What a line and a paragraph may hold (as shared.text's Line and Paragraph), and what makes one not blank: a
# character that is neither a space nor a control character. Spelled out rather than \s (see shared.text).
_LINE = "\x00-\x1f\x7f"
_PARAGRAPH = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
_VISIBLE = "\x00-\x20\x7f"


def _with_visible_character(allowed_controls: str) -> str:
    return f"^[^{allowed_controls}]*[^{_VISIBLE}][^{allowed_controls}]*$"


def _refuse_blank(blank: str) -> BeforeValidator:
    """Text holding no visible character refused with `blank`, in words a form can show (before the pattern,
    which says the same to clients, would refuse it in its own words)."""

    def refuse(value: object) -> object:
        if isinstance(value, str) and not re.search(f"[^{_VISIBLE}]", value):
            raise PydanticCustomError("blank", blank)
        return value

    return BeforeValidator(refuse)


WrittenName = Annotated[
    str, StringConstraints(pattern=_with_visible_character(_LINE)), _refuse_blank("please write your name")
]
WrittenMessage = Annotated[
    str,
    StringConstraints(pattern=_with_visible_character(_PARAGRAPH)),
    _refuse_blank("please write your message to the company"),
]


class InquiryCreate(SQLModel):
    """A buyer's message to a company of the directory, from its page's contact form."""

    company_id: Id
    name: WrittenName = Field(max_length=200)
    email: EmailStr = Field(description="Where the company answers, and where the buyer's copy goes")
    company: Line | None = Field(default=None, max_length=200, description="The buyer's company")
    country: Line | None = Field(default=None, max_length=100, description="Where the buyer is")
    message: WrittenMessage = Field(max_length=5000)
    language: Language = Field(default=Language.IT, description="The language of the buyer's copy")
    website: str = Field(
        default="",
        max_length=2000,
        description="Leave empty: hidden from people in the form, it catches robots (a filled one is dropped)",
    )


class InquiryAccepted(SQLModel):
    accepted: bool = Field(default=True, description="Always true: the answer never tells a robot it was caught")
