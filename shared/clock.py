"""Where every service gets the time: an injected clock, so schedules are tested by moving it, not by waiting.

A service's runtime holds one (`ServiceRuntime(clock=...)`); commands read it as `uow.now()`, routes as
`ClockDep` (shared.api). The network's days are Europe/Rome's: a fee due on the 15th is overdue from midnight
in Capannori, not in UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]

ROME = ZoneInfo("Europe/Rome")


def utc_now() -> datetime:
    return datetime.now(UTC)


def rome_date(moment: datetime) -> date:
    """The calendar day it is in Capannori at `moment`."""
    return moment.astimezone(ROME).date()
