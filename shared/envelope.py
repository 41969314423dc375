"""The CloudEvents 1.0 envelope (JSON structured mode) every event on Kafka travels in.

Kafka key = the aggregate's id, so one company's events stay in order on one partition.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

CONTENT_TYPE = "application/cloudevents+json"
CORRELATION_HEADER = "correlation_id"


class CloudEvent(BaseModel):
    model_config = ConfigDict(extra="allow")

    specversion: Literal["1.0"] = "1.0"
    id: str
    source: str
    type: str
    subject: str | None = None
    time: datetime
    datacontenttype: str = "application/json"
    dataschema: str | None = None
    data: dict[str, Any]


class IntegrationEvent(BaseModel):
    """A fact one service tells the others, named in the past tense.

    Subclasses set `event_type` and `topic`, and name the field that holds the aggregate id in `key_field`.
    The model's fields are the CloudEvent's `data`; its JSON Schema is the event's published contract.
    """

    event_type: ClassVar[str]
    topic: ClassVar[str]
    key_field: ClassVar[str]

    def aggregate_id(self) -> str:
        return str(getattr(self, self.key_field))

    def to_cloudevent(self, source: str, occurred_at: datetime) -> CloudEvent:
        return CloudEvent(
            id=str(uuid.uuid4()),
            source=source,
            type=self.event_type,
            subject=self.aggregate_id(),
            time=occurred_at,
            dataschema=f"/events/schemas/{self.event_type}.json",
            data=self.model_dump(mode="json"),
        )
