"""Transactional outbox: events are rows written in the same transaction as the change they announce.

The relay publishes pending rows to Kafka in id order and marks them sent. It is woken right after a commit
and also polls, so rows written by another replica, or left behind while Kafka was down, go out too.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiokafka.structs import RecordMetadata
from sqlalchemy import Index, func, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.envelope import CONTENT_TYPE, CORRELATION_HEADER, IntegrationEvent
from shared.leader import LeaderLock
from shared.logs import correlation_id
from shared.columns import timestamp, utc_now
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


def outbox_row(event: IntegrationEvent, source: str) -> OutboxMessage:
    envelope = event.to_cloudevent(source)
    headers = {"content-type": CONTENT_TYPE, "ce_type": envelope.type}
    if cid := correlation_id.get():
        headers[CORRELATION_HEADER] = cid
    return OutboxMessage(
        event_id=envelope.id,
        topic=event.topic,
        key=event.aggregate_id(),
        headers=json.dumps(headers),
        payload=envelope.model_dump_json(exclude_none=True),
    )


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
    ) -> None:
        self._sessions = sessions
        self._send = send
        self._leader = leader
        self._poll_interval = poll_interval
        self._batch_size = batch_size
        self._wakeup = asyncio.Event()

    def wake(self) -> None:
        self._wakeup.set()

    async def run(self, ready: Callable[[], bool]) -> None:
        """Relay until cancelled; `ready` says whether the Kafka producer is connected."""
        backoff = self._poll_interval
        while True:
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout=backoff)
            except TimeoutError:
                pass
            self._wakeup.clear()
            try:
                if not ready() or not await self._leader.ensure():
                    continue
                while await self.publish_pending() == self._batch_size:
                    pass
                backoff = self._poll_interval
            except asyncio.CancelledError:
                raise
            except Exception:
                # Kafka or the database is away: the rows stay pending and the next pass retries them.
                log.exception("outbox relay pass failed; retrying")
                backoff = min(backoff * 2, 10.0)

    async def publish_pending(self) -> int:
        async with self._sessions() as session:
            rows = (
                await session.exec(
                    select(OutboxMessage)
                    .where(OutboxMessage.sent_at.is_(None))  # type: ignore[union-attr]
                    .order_by(OutboxMessage.id)  # type: ignore[arg-type]
                    .limit(self._batch_size)
                )
            ).all()
            await session.commit()
        if not rows:
            OUTBOX_BACKLOG.set(0)
            return 0
        sent_ids = await self._send_in_order(rows)
        await self._mark_sent(sent_ids)
        if len(sent_ids) < len(rows):
            raise RuntimeError(f"{len(rows) - len(sent_ids)} of {len(rows)} outbox rows not published")
        return len(rows)

    async def _send_in_order(self, rows: list[OutboxMessage]) -> list[int]:
        """Send every row before awaiting any acknowledgement; return the ids Kafka acknowledged."""
        futures = []
        for row in rows:
            headers = json.loads(row.headers)
            futures.append(await self._send(row.topic, row.key.encode(), row.payload.encode(), headers))
        results = await asyncio.gather(*futures, return_exceptions=True)
        now = datetime.now(UTC)
        sent = []
        for row, result in zip(rows, results, strict=True):
            if isinstance(result, BaseException):
                log.warning("outbox row %s not published: %r", row.id, result)
                continue
            sent.append(row.id)
            OUTBOX_PUBLISHED.labels(row.topic).inc()
            OUTBOX_RELAY_LATENCY.observe((now - row.created_at).total_seconds())
        return sent  # type: ignore[return-value]

    async def _mark_sent(self, ids: list[int]) -> None:
        async with self._sessions() as session:
            await session.exec(
                update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(sent_at=datetime.now(UTC))  # type: ignore[union-attr,call-overload]
            )
            backlog = await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None))  # type: ignore[union-attr]
            )
            await session.commit()
        OUTBOX_BACKLOG.set(backlog or 0)
