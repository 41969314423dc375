"""Idempotent Kafka consumers with bounded retries and a dead-letter topic.

Each consumed event runs its handler in a unit of work that also records the event id in the consumer's inbox,
so a redelivered event finds its id there and has no second effect. The offsets are committed only after that
transaction. A message that is not a CloudEvent, or whose handler keeps failing, goes to `<topic>.dlq` with the
reason, and the partition moves on. If the database itself is away, the batch is not acknowledged and comes back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from pydantic import BaseModel, ValidationError
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlmodel import Field, SQLModel, col, select

from shared.clock import utc_now
from shared.columns import timestamp
from shared.envelope import CORRELATION_HEADER, CloudEvent
from shared.logs import correlated, correlation_id
from shared.metrics import EVENTS_CONSUMED
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


class ProcessedEvent(SQLModel, table=True):
    __tablename__ = "inbox"

    consumer: str = Field(primary_key=True, max_length=100)
    event_id: str = Field(primary_key=True, max_length=64)
    processed_at: datetime = timestamp(default_factory=utc_now)


@dataclass(frozen=True)
class Fact:
    """An event as a consumer hands it to its handler, with the correlation id it travelled with."""

    event: CloudEvent
    correlation_id: str | None


EventHandler = Callable[[UnitOfWork, CloudEvent], Awaitable[None]]
# Handles the new facts of a batch together (the duplicates already left out), in the batch's unit of work.
BatchHandler = Callable[[UnitOfWork, Sequence[Fact]], Awaitable[None]]


def one_at_a_time(handler: EventHandler) -> BatchHandler:
    """Most handlers read one fact at a time: each then publishes with its own fact's correlation id."""

    async def handle_each(uow: UnitOfWork, facts: Sequence[Fact]) -> None:
        for fact in facts:
            with correlated(fact.correlation_id):
                await handler(uow, fact.event)

    return handle_each


class DeadLetter(Exception):
    """Raise from a handler when retrying cannot help (the event contradicts what we hold)."""


FactModel = TypeVar("FactModel", bound=BaseModel)


def read_fact(model: type[FactModel], data: Any, what: str) -> FactModel:
    """Another service's fact read through the model of what this service keeps of it. Retrying cannot make a
    malformed fact whole, so it goes straight to the dead-letter topic, saying what is wrong: `what` names the
    fact as its topic carries it ("a company as members.companies.v1 carries it")."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the fact"
        raise DeadLetter(f"not {what}: {where}: {first['msg']}") from error


def dead_letter_topic(topic: str) -> str:
    return f"{topic}.dlq"


@dataclass(frozen=True)
class Delivery:
    """One record of a batch Kafka handed us, with its headers decoded."""

    record: ConsumerRecord[Any, Any]
    headers: dict[str, str]


class IdempotentConsumer:
    """Handles what Kafka hands it in batches: all of a batch's facts in one transaction (one commit instead of one
    per fact, which is what a fan-out of thousands of facts costs most; a batch handler can also read what they
    need in one query), and, when any of them fails, each fact on its own, so only the failing one is retried and
    dead-lettered."""

    def __init__(
        self,
        name: str,
        handler: BatchHandler,
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
        batch = [
            Delivery(record, headers)
            for record, headers in zip(message.raw_message, message.batch_headers, strict=True)
        ]
        try:
            events = await self._readable(batch)
            outcomes = await self._handle(events)
        except (OperationalError, InterfaceError, ConnectionError, OSError):
            log.exception("database or Kafka unreachable; %d records will be redelivered", len(batch))
            await asyncio.sleep(1.0)
            await message.nack()  # rewinds to the batch's first record: what was done is in the inbox
            return
        for (delivery, event), outcome in zip(events, outcomes, strict=True):
            EVENTS_CONSUMED.labels(self.name, delivery.record.topic, outcome).inc()
            correlation_id.set(delivery.headers.get(CORRELATION_HEADER))
            log.info("%s %s from %s: %s", event.type, event.id, delivery.record.topic, outcome)
        await message.ack()

    async def _readable(self, batch: list[Delivery]) -> list[tuple[Delivery, CloudEvent]]:
        events = []
        for delivery in batch:
            try:
                events.append((delivery, CloudEvent.model_validate_json(delivery.record.value or b"")))
            except ValidationError as error:
                await self._dead_letter(delivery, f"not a CloudEvent: {error.errors()[0]['msg']}")
        return events

    async def _handle(self, events: list[tuple[Delivery, CloudEvent]]) -> list[str]:
        try:
            return await self._handle_together(events)
        except (OperationalError, InterfaceError, ConnectionError, OSError):
            raise
        except Exception:
            if len(events) > 1:
                log.info("a batch of %d failed; handling its facts one at a time", len(events), exc_info=True)
            return [await self._handle_alone(delivery, event) for delivery, event in events]

    async def _handle_together(self, events: list[tuple[Delivery, CloudEvent]]) -> list[str]:
        async with self._unit_of_work() as uow:
            done = set(
                (
                    await uow.session.exec(
                        select(ProcessedEvent.event_id).where(
                            ProcessedEvent.consumer == self.name,
                            col(ProcessedEvent.event_id).in_([event.id for _, event in events]),
                        )
                    )
                ).all()
            )
            outcomes, fresh = [], []
            for delivery, event in events:
                outcomes.append("duplicate" if event.id in done else "processed")
                if event.id not in done:  # a fact twice in one batch is handled once
                    fresh.append(Fact(event, delivery.headers.get(CORRELATION_HEADER)))
                    done.add(event.id)
            if fresh:
                await self._handler(uow, fresh)
                now = uow.now()
                await uow.session.exec(
                    insert(ProcessedEvent),
                    params=[{"consumer": self.name, "event_id": fact.event.id, "processed_at": now} for fact in fresh],
                )
            await uow.commit()
            return outcomes

    async def _handle_alone(self, delivery: Delivery, event: CloudEvent) -> str:
        for attempt in range(1, self._max_attempts + 1):
            try:
                return (await self._handle_together([(delivery, event)]))[0]
            except (OperationalError, InterfaceError, ConnectionError, OSError):
                raise
            except Exception as error:
                if isinstance(error, IntegrityError) and await self._already_handled(event.id):
                    return "duplicate"  # another replica handled it concurrently and committed first
                if isinstance(error, DeadLetter) or attempt == self._max_attempts:
                    await self._dead_letter(delivery, f"{type(error).__name__}: {error}")
                    return "dead_lettered"
                log.warning("handling %s failed (attempt %d), retrying", event.id, attempt, exc_info=True)
                await asyncio.sleep(self._retry_delay * attempt)
        raise AssertionError("unreachable")

    async def _already_handled(self, event_id: str) -> bool:
        async with self._unit_of_work() as uow:
            return await uow.session.get(ProcessedEvent, (self.name, event_id)) is not None

    async def _dead_letter(self, delivery: Delivery, reason: str) -> None:
        """Raises ConnectionError when the dead-letter topic cannot be written: the batch is then redelivered."""
        record = delivery.record
        log.error("dead-lettering %s[%s]@%s: %s", record.topic, record.partition, record.offset, reason)
        headers = {
            **delivery.headers,
            "dlq_reason": reason[:2000],
            "dlq_consumer": self.name,
            "dlq_original_topic": record.topic,
            "dlq_original_partition": str(record.partition),
            "dlq_original_offset": str(record.offset),
        }
        try:
            await self._broker.publish(record.value, dead_letter_topic(record.topic), key=record.key, headers=headers)
        except Exception as error:
            raise ConnectionError(f"could not dead-letter {record.topic}@{record.offset}") from error


def subscribe(
    broker: KafkaBroker,
    topic: str,
    consumer: IdempotentConsumer,
    description: str = "",
    batch_size: int = 100,
) -> None:
    """Attach `consumer` to `topic` in its own consumer group, acknowledging only what it has made durable. Kafka
    hands over what has arrived, up to `batch_size` records, without waiting for a batch to fill."""
    subscriber = broker.subscriber(
        topic,
        group_id=consumer.name,
        batch=True,
        max_records=batch_size,
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
