"""A clock a test moves forward instead of sleeping, for a service or component that takes a `shared.clock.Clock`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class MovableClock:
    """Real time, plus however far the test moved it forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, by: timedelta) -> None:
        self.offset += by
