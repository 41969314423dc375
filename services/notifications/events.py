"""The facts the notifications service publishes: the outcome of every delivery, for audit."""

from __future__ import annotations

from typing import ClassVar

from services.notifications.domain import Channel, Kind
from shared import topics
from shared.envelope import IntegrationEvent

DELIVERIES_TOPIC = topics.NOTIFICATIONS_DELIVERIES


class MessageOutcome(IntegrationEvent):
    topic: ClassVar[str] = DELIVERIES_TOPIC
    key_field: ClassVar[str] = "message_id"

    message_id: str
    source_event_id: str
    kind: Kind
    channel: Channel
    person_id: str | None
    attempts: int


class MessageSent(MessageOutcome):
    """Stored in the inbox, or accepted by the mail server."""

    event_type: ClassVar[str] = "notifications.message.sent"


class MessageFailed(MessageOutcome):
    """Given up after its retries; kept in the delivery log with the reason."""

    event_type: ClassVar[str] = "notifications.message.failed"
    reason: str


class WebhookOutcome(IntegrationEvent):
    topic: ClassVar[str] = DELIVERIES_TOPIC
    key_field: ClassVar[str] = "delivery_id"

    delivery_id: str
    endpoint_id: str
    event_id: str
    # The delivered fact's type ("event_type" is every fact class's own type).
    delivered_type: str
    attempts: int
    status_code: int | None


class WebhookDelivered(WebhookOutcome):
    event_type: ClassVar[str] = "notifications.webhook.delivered"


class WebhookFailed(WebhookOutcome):
    """Given up (or the endpoint was disabled); the delivery can still be replayed by hand."""

    event_type: ClassVar[str] = "notifications.webhook.failed"
    reason: str


class EndpointDisabled(IntegrationEvent):
    topic: ClassVar[str] = DELIVERIES_TOPIC
    key_field: ClassVar[str] = "endpoint_id"
    event_type: ClassVar[str] = "notifications.endpoint.disabled"

    endpoint_id: str
    owner_id: str
    reason: str


PUBLISHED_EVENTS: list[type[IntegrationEvent]] = [
    MessageSent,
    MessageFailed,
    WebhookDelivered,
    WebhookFailed,
    EndpointDisabled,
]
