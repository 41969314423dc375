"""One leader among a service's replicas for the jobs only one should run at a time (the outbox relay, schedulers).

On PostgreSQL the leader holds a session-level advisory lock on a connection of its own; if that process or its
connection dies, PostgreSQL releases the lock and another replica takes over on its next try. SQLite is the
embedded single-process default, so there the one process is always the leader.
"""

from __future__ import annotations

import hashlib
import logging
import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)


def _lock_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class LeaderLock:
    def __init__(self, engine: AsyncEngine, name: str) -> None:
        self._engine = engine
        self._key = _lock_key(name)
        self._name = name
        self._connection: AsyncConnection | None = None
        self._single_process = engine.dialect.name == "sqlite"
        self._checked_at = 0.0

    async def ensure(self, recheck_seconds: float = 2.0) -> bool:
        """True while this process leads; tries to become leader when it does not.

        The leader's connection is checked at most every `recheck_seconds`, not on every call: the relay asks
        after every commit, and a query each time would be a round trip in every event's latency. Should the
        connection die meanwhile, another replica may lead for that moment too; what both send is a duplicate,
        which consumers drop by event id.
        """
        if self._single_process:
            return True
        if self._connection is not None:
            if time.monotonic() - self._checked_at < recheck_seconds:
                return True
            if await self._still_connected():
                self._checked_at = time.monotonic()
                return True
        return await self._try_acquire()

    async def _still_connected(self) -> bool:
        assert self._connection is not None
        try:
            await self._connection.execute(text("SELECT 1"))
            return True
        except Exception:
            log.warning("lost the connection holding leadership of %s", self._name)
            await self.release()
            return False

    async def _try_acquire(self) -> bool:
        connection = await self._engine.connect()
        acquired = await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key})
        await connection.commit()
        if acquired:
            log.info("leading %s", self._name)
            self._connection = connection
            self._checked_at = time.monotonic()
            return True
        await connection.close()
        return False

    async def release(self) -> None:
        if self._connection is not None:
            try:
                await self._connection.close()
            except Exception:
                log.debug("closing the leader connection failed", exc_info=True)
            self._connection = None
