"""Transactional outbox: events are rows written in the same transaction as the change they announce.

The relay publishes pending rows to Kafka in id order and marks them sent. It is woken right after a commit
and also polls, so rows written by another replica, or left behind while Kafka was down, go out too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiokafka.structs import RecordMetadata
from sqlalchemy import Index, func, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.clock import Clock, utc_now
from shared.columns import timestamp
from shared.envelope import CONTENT_TYPE, CORRELATION_HEADER, IntegrationEvent
from shared.leader import LeaderLock
from shared.logs import correlation_id
from shared.metrics import OUTBOX_BACKLOG, OUTBOX_PUBLISHED, OUTBOX_RELAY_LATENCY

log = logging.getLogger(__name__)


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "sent_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(unique=True, max_length=64)
    topic: str = Field(max_length=200)
    key: str = Field(max_length=200)
    headers: str
    payload: str
    created_at: datetime = timestamp(default_factory=utc_now)
    sent_at: datetime | None = timestamp(default=None, nullable=True)


def outbox_row(event: IntegrationEvent, source: str, written_at: datetime) -> dict[str, Any]:
    """The outbox row announcing `event`, written at `written_at` (the unit of work's clock), as column values for
    one multi-row INSERT of all a transaction's events (ORM objects would each cost a flush). The correlation id is
    the one of the work at hand."""
    envelope = event.to_cloudevent(source, written_at)
    headers = {"content-type": CONTENT_TYPE, "ce_type": envelope.type}
    if cid := correlation_id.get():
        headers[CORRELATION_HEADER] = cid
    return {
        "event_id": envelope.id,
        "topic": event.topic,
        "key": event.aggregate_id(),
        "headers": json.dumps(headers),
        "payload": envelope.model_dump_json(exclude_none=True),
        "created_at": written_at,
    }


def _stored_id(row: OutboxMessage) -> int:
    """The id of a row read back from the table (the model allows None only before its INSERT)."""
    assert row.id is not None
    return row.id


# Sends one record and returns the future of its acknowledgement (so a batch is sent before any is awaited).
SendRecord = Callable[[str, bytes, bytes, dict[str, str]], Awaitable["asyncio.Future[RecordMetadata]"]]


class OutboxRelay:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        send: SendRecord,
        leader: LeaderLock,
        poll_interval: float = 1.0,
        batch_size: int = 500,
        clock: Clock = utc_now,
    ) -> None:
        """`clock` is the one the service's units of work write rows with: a row's latency is measured on it."""
        self._sessions = sessions
        self._clock = clock
        self._send = send
        self._leader = leader
        self._poll_interval = poll_interval
        self._batch_size = batch_size
        self._wakeup = asyncio.Event()
        self._in_flight: set[int] = set()
        self._settling: set[asyncio.Task[None]] = set()
        self._stopping = False

    def wake(self) -> None:
        self._wakeup.set()

    def stop(self) -> None:
        """Ask `run` to return after its current pass: cancelling it inside a database call can wedge the driver."""
        self._stopping = True
        self._wakeup.set()

    async def run(self, ready: Callable[[], bool]) -> None:
        """Relay until `stop()`; `ready` says whether the Kafka producer is connected. Stopping makes one last
        pass, so what was committed just before a shutdown goes out now rather than after the restart."""
        backoff = self._poll_interval
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=backoff)
            woken = self._wakeup.is_set()
            self._wakeup.clear()
            try:
                if ready() and await self._leader.ensure():
                    while await self.publish_pending() == self._batch_size:
                        pass
                    if not woken:  # on the timer only: counting is a query we need not make after every commit
                        await self._report_backlog()
                backoff = self._poll_interval
            except Exception:
                # Kafka or the database is away: the rows stay pending and the next pass retries them.
                log.exception("outbox relay pass failed; retrying")
                backoff = min(backoff * 2, 10.0)
            if self._stopping:
                return

    async def publish_pending(self) -> int:
        """Hand the pending rows to the producer, in id order, and return how many.

        Acknowledgements and marking rows sent finish in the background, so the next pass does not wait for
        them: that wait would be every event's latency under load. Rows in flight are excluded by id rather than
        by a cursor, because transactions commit out of id order and a cursor would skip a late lower id.
        """
        rows = await self._pending_rows()
        if not rows:
            return 0
        futures: list[asyncio.Future[RecordMetadata]] = []
        try:
            for row in rows:
                futures.append(
                    await self._send(row.topic, row.key.encode(), row.payload.encode(), json.loads(row.headers))
                )
                self._in_flight.add(_stored_id(row))
        finally:
            # If the producer refuses a row, those it already took are still settled; the rest stay pending.
            if futures:
                settling = asyncio.create_task(self._settle(rows[: len(futures)], futures))
                self._settling.add(settling)
                settling.add_done_callback(self._settling.discard)
        return len(rows)

    async def _pending_rows(self) -> list[OutboxMessage]:
        query = (
            select(OutboxMessage)
            .where(col(OutboxMessage.sent_at).is_(None))
            .order_by(col(OutboxMessage.id))
            .limit(self._batch_size)
        )
        if self._in_flight:
            query = query.where(col(OutboxMessage.id).not_in(self._in_flight))
        async with self._sessions() as session:
            rows = (await session.exec(query)).all()
            await session.commit()
        return list(rows)

    async def _settle(self, rows: list[OutboxMessage], futures: list[asyncio.Future[RecordMetadata]]) -> None:
        """Mark what Kafka acknowledged; what it did not stays pending and goes again on a later pass."""
        results = await asyncio.gather(*futures, return_exceptions=True)
        now = self._clock()
        sent: list[int] = []
        for row, result in zip(rows, results, strict=True):
            if isinstance(result, BaseException):
                log.warning("outbox row %s not published: %r", row.id, result)
                continue
            sent.append(_stored_id(row))
            OUTBOX_PUBLISHED.labels(row.topic).inc()
            OUTBOX_RELAY_LATENCY.observe((now - row.created_at).total_seconds())
        try:
            await self._mark_sent(sent)
        except Exception:
            # They reach Kafka again later; consumers drop the repeat by event id.
            log.exception("could not mark %d published outbox rows", len(sent))
        finally:
            self._in_flight.difference_update(_stored_id(row) for row in rows)

    async def drain(self) -> None:
        """Wait for the acknowledgements of what was already handed to the producer (tests, shutdown)."""
        while self._settling:
            await asyncio.gather(*self._settling, return_exceptions=True)

    async def _mark_sent(self, ids: list[int]) -> None:
        async with self._sessions() as session:
            await session.exec(
                update(OutboxMessage).where(col(OutboxMessage.id).in_(ids)).values(sent_at=self._clock())
            )
            await session.commit()

    async def _report_backlog(self) -> None:
        async with self._sessions() as session:
            pending = select(func.count()).select_from(OutboxMessage).where(col(OutboxMessage.sent_at).is_(None))
            backlog = (await session.exec(pending)).one()
        OUTBOX_BACKLOG.set(backlog)
