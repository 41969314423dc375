"""Idempotent Kafka consumers with bounded retries and a dead-letter topic.

Each consumed event runs its handler in a unit of work that also records the event id in the consumer's inbox,
so a redelivered event finds its id there and has no second effect. The offset is committed only after that
transaction. A message that is not a CloudEvent, or whose handler keeps failing, goes to `<topic>.dlq` with the
reason, and the partition moves on. If the database itself is away, the message is not acknowledged and comes back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlmodel import Field, SQLModel

from shared.columns import timestamp, utc_now
from shared.envelope import CORRELATION_HEADER, CloudEvent
from shared.logs import correlation_id
from shared.metrics import EVENTS_CONSUMED
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


class ProcessedEvent(SQLModel, table=True):
    __tablename__ = "inbox"

    consumer: str = Field(primary_key=True, max_length=100)
    event_id: str = Field(primary_key=True, max_length=64)
    processed_at: datetime = timestamp(default_factory=utc_now)


EventHandler = Callable[[UnitOfWork, CloudEvent], Awaitable[None]]


class DeadLetter(Exception):
    """Raise from a handler when retrying cannot help (the event contradicts what we hold)."""


def dead_letter_topic(topic: str) -> str:
    return f"{topic}.dlq"


class IdempotentConsumer:
    def __init__(
        self,
        name: str,
        handler: EventHandler,
        unit_of_work: Callable[[], UnitOfWork],
        broker: KafkaBroker,
        max_attempts: int = 3,
        retry_delay: float = 0.2,
    ) -> None:
        self.name = name
        self._handler = handler
        self._unit_of_work = unit_of_work
        self._broker = broker
        self._max_attempts = max_attempts
        self._retry_delay = retry_delay

    async def __call__(self, message: KafkaMessage) -> None:
        raw = message.raw_message
        correlation_id.set(message.headers.get(CORRELATION_HEADER))
        try:
            event = CloudEvent.model_validate_json(message.body)
        except ValidationError as error:
            await self._dead_letter(message, f"not a CloudEvent: {error.errors()[0]['msg']}")
            return
        try:
            outcome = await self._handle_with_retries(event)
        except (OperationalError, InterfaceError, ConnectionError, OSError):
            log.exception("database unreachable; %s will be redelivered", event.id)
            await asyncio.sleep(1.0)
            await message.nack()
            return
        except Exception as error:
            await self._dead_letter(message, f"{type(error).__name__}: {error}")
            return
        EVENTS_CONSUMED.labels(self.name, raw.topic, outcome).inc()  # type: ignore[union-attr]
        log.info("%s %s from %s: %s", event.type, event.id, raw.topic, outcome)  # type: ignore[union-attr]
        await message.ack()

    async def _handle_with_retries(self, event: CloudEvent) -> str:
        for attempt in range(1, self._max_attempts + 1):
            try:
                return await self._handle_once(event)
            except (DeadLetter, OperationalError, InterfaceError, ConnectionError, OSError):
                raise
            except Exception:
                if attempt == self._max_attempts:
                    raise
                log.warning("handling %s failed (attempt %d), retrying", event.id, attempt, exc_info=True)
                await asyncio.sleep(self._retry_delay * attempt)
        raise AssertionError("unreachable")

    async def _handle_once(self, event: CloudEvent) -> str:
        async with self._unit_of_work() as uow:
            if await uow.session.get(ProcessedEvent, (self.name, event.id)) is not None:
                return "duplicate"
            await self._handler(uow, event)
            uow.session.add(ProcessedEvent(consumer=self.name, event_id=event.id))
            try:
                await uow.commit()
            except IntegrityError:
                # Another replica handled the same event concurrently and committed first.
                return "duplicate"
            return "processed"

    async def _dead_letter(self, message: KafkaMessage, reason: str) -> None:
        raw = message.raw_message
        log.error("dead-lettering %s[%s]@%s: %s", raw.topic, raw.partition, raw.offset, reason)  # type: ignore[union-attr]
        headers = {
            **message.headers,
            "dlq_reason": reason[:2000],
            "dlq_consumer": self.name,
            "dlq_original_topic": raw.topic,  # type: ignore[union-attr]
            "dlq_original_partition": str(raw.partition),  # type: ignore[union-attr]
            "dlq_original_offset": str(raw.offset),  # type: ignore[union-attr]
        }
        try:
            await self._broker.publish(message.body, dead_letter_topic(raw.topic), key=raw.key, headers=headers)  # type: ignore[union-attr]
        except Exception:
            log.exception("could not dead-letter; the message will be redelivered")
            await message.nack()
            return
        EVENTS_CONSUMED.labels(self.name, raw.topic, "dead_lettered").inc()  # type: ignore[union-attr]
        await message.ack()


def subscribe(
    broker: KafkaBroker,
    topic: str,
    consumer: IdempotentConsumer,
    description: str = "",
) -> None:
    """Attach `consumer` to `topic` in its own consumer group, acknowledging only what it has made durable."""
    subscriber = broker.subscriber(
        topic,
        group_id=consumer.name,
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset="earliest",
        title=f"{topic}:{consumer.name}",
        description=description or None,
    )
    subscriber(_as_faststream_handler(consumer))


def _as_faststream_handler(consumer: IdempotentConsumer) -> Callable[[KafkaMessage], Awaitable[None]]:
    # No body parameter (KafkaMessage comes from FastStream's context): FastStream would decode and validate a
    # body itself, and a bad one would never reach the consumer, which is where it becomes a dead letter.
    async def handle(message: KafkaMessage) -> None:
        await consumer(message)

    handle.__name__ = consumer.name.replace("-", "_").replace(".", "_")
    return handle
