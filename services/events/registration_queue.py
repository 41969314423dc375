"""Group commit of seat decisions: the registrations that queue for one event meanwhile share one hold of its lock.

Registrations for one event are serialised by the event's lock, so a hot event takes them one lock-hold at a
time, and a hold is several round trips to the database. The queue keeps one line per event in this process:
whoever arrives while a batch is being decided waits for the next batch, which locks the event once, decides
every registration in arrival order and commits them together. Replicas each have their own queue; the lock
still orders their batches, so nothing here is needed for correctness — only for speed.
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
class _QueuedRegistration:
    registration: Registration
    decided: asyncio.Future[Registration] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class RegistrationQueue:
    """New registrations waiting, per event, for their seat to be decided."""

    def __init__(self, unit_of_work: Callable[[], UnitOfWork]) -> None:
        self._unit_of_work = unit_of_work
        self._waiting: dict[str, list[_QueuedRegistration]] = {}
        self._deciding: dict[str, asyncio.Task[None]] = {}

    async def seat(self, registration: Registration) -> Registration:
        """The registration with its seat decided and committed, or the DomainError that refused it."""
        queued = _QueuedRegistration(registration)
        event_id = registration.event_id
        self._waiting.setdefault(event_id, []).append(queued)
        if event_id not in self._deciding:
            self._deciding[event_id] = asyncio.create_task(
                self._decide_while_waiting(event_id), name=f"registration-queue-{event_id}"
            )
        # Shielded: a client hanging up must not cancel a decision that other registrations share.
        return await asyncio.shield(queued.decided)

    async def _decide_while_waiting(self, event_id: str) -> None:
        try:
            while waiting := self._waiting.pop(event_id, None):
                batch, rest = waiting[:MAX_BATCH], waiting[MAX_BATCH:]
                if rest:
                    self._waiting[event_id] = rest
                await self._decide(event_id, batch)
        finally:
            del self._deciding[event_id]

    async def _decide(self, event_id: str, batch: list[_QueuedRegistration]) -> None:
        try:
            async with self._unit_of_work() as uow:
                outcomes: list[Registration | BaseException] = list(
                    await commands.seat_new_registrations(uow, event_id, [q.registration for q in batch])
                )
        except IntegrityError:
            if len(batch) > 1:  # a twin is in the batch: alone, each gets the answer it would have got
                for queued in batch:
                    await self._decide(event_id, [queued])
                return
            outcomes = [commands.already_registered(batch[0].registration)]
        except Exception as error:  # the event is closed, or the database failed: nobody was seated
            outcomes = [error] * len(batch)
        for queued, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                queued.decided.set_exception(outcome)
            else:
                queued.decided.set_result(outcome)
