"""Group commit of seat decisions: the newcomers who queue for one event meanwhile share one hold of its lock.

Registrations for one event are serialised by the event's lock, so a hot event takes them one lock-hold at a
time, and a hold is several round trips to the database. The desk keeps one queue per event in this process:
whoever arrives while a batch is being decided waits for the next batch, which locks the event once, decides
every newcomer in arrival order and commits them together. Replicas each have their own desk; the lock still
orders their batches, so nothing here is needed for correctness — only for speed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError

from services.events import commands
from services.events.models import Registration
from shared.unit_of_work import UnitOfWork

# Large enough to drain any realistic queue in one go; small enough to keep one transaction short.
MAX_BATCH = 100


@dataclass
class _Newcomer:
    registration: Registration
    decided: asyncio.Future[Registration] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class SeatDesk:
    def __init__(self, unit_of_work: Callable[[], UnitOfWork]) -> None:
        self._unit_of_work = unit_of_work
        self._queues: dict[str, list[_Newcomer]] = {}
        self._serving: dict[str, asyncio.Task[None]] = {}

    async def seat(self, registration: Registration) -> Registration:
        """The registration with its seat decided and committed, or the DomainError that refused it."""
        newcomer = _Newcomer(registration)
        event_id = registration.event_id
        self._queues.setdefault(event_id, []).append(newcomer)
        if event_id not in self._serving:
            self._serving[event_id] = asyncio.create_task(self._serve(event_id), name=f"seat-desk-{event_id}")
        # Shielded: a client hanging up must not cancel a decision that other newcomers share.
        return await asyncio.shield(newcomer.decided)

    async def _serve(self, event_id: str) -> None:
        try:
            while queue := self._queues.pop(event_id, None):
                batch, rest = queue[:MAX_BATCH], queue[MAX_BATCH:]
                if rest:
                    self._queues[event_id] = rest
                await self._decide(event_id, batch)
        finally:
            del self._serving[event_id]

    async def _decide(self, event_id: str, batch: list[_Newcomer]) -> None:
        try:
            async with self._unit_of_work() as uow:
                outcomes: list[Registration | BaseException] = list(
                    await commands.seat_newcomers(uow, event_id, [n.registration for n in batch])
                )
        except IntegrityError:
            if len(batch) > 1:  # a twin is in the batch: alone, each gets the answer it would have got
                for newcomer in batch:
                    await self._decide(event_id, [newcomer])
                return
            outcomes = [commands.already_registered(batch[0].registration)]
        except Exception as error:  # the event is closed, or the database failed: nobody was seated
            outcomes = [error] * len(batch)
        for newcomer, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                newcomer.decided.set_exception(outcome)
            else:
                newcomer.decided.set_result(outcome)
