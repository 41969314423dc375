"""A unit of work: one database transaction holding a change and the events that announce it."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.clock import Clock, utc_now
from shared.envelope import IntegrationEvent
from shared.errors import Conflict
from shared.outbox import OutboxMessage, outbox_row


class UnitOfWork:
    """`async with uow: ...; uow.publish(event); await uow.commit()` — uncommitted work is rolled back."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        source: str,
        events_committed: Callable[[], None],
        clock: Clock = utc_now,
    ) -> None:
        """`events_committed` is called after a commit that wrote outbox rows: the relay's wake-up."""
        self._sessions = sessions
        self._source = source
        self._events_committed = events_committed
        self._outbox: list[dict[str, Any]] = []
        self.now = clock

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._sessions()
        self._outbox = []
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # close() alone discards uncommitted work; an explicit rollback would also expire what a read loaded.
        if exc_type is not None:
            await self.session.rollback()
        await self.session.close()

    def publish(self, *events: IntegrationEvent) -> None:
        """Announce `events` if, and only if, this unit of work commits: they are written to the outbox with it."""
        written_at = self.now()
        self._outbox += [outbox_row(event, self._source, written_at) for event in events]

    async def commit_or_conflict(self, conflict: str) -> None:
        """Commit; a unique constraint hit by a concurrent request becomes the 409 a sequential one gets."""
        try:
            await self.commit()
        except IntegrityError as error:
            raise Conflict(conflict) from error

    async def commit(self) -> None:
        published, self._outbox = self._outbox, []
        if published:
            await self.session.exec(insert(OutboxMessage), params=published)
        await self.session.commit()
        if published:
            self._events_committed()
