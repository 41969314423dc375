"""The rules of buyers' inquiries to the companies of the directory: which companies may be written to, the spam
trap, and how many inquiries one client, and one company, may be sent in a while."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.errors import TooManyAttempts
from shared.membership import MembershipStatus


@dataclass(frozen=True)
class InquiryLimit:
    """At most `count` inquiries within any `window`."""

    count: int
    window: timedelta
    refusal: str  # what the sender is told, in plain words


# A buyer writing to a handful of companies in an afternoon is welcome; a script sending the directory is not.
PER_CLIENT = InquiryLimit(5, timedelta(hours=1), "you have sent several messages in a short time")
# A company's people read every inquiry: more than this in a day is a flood, whoever sends it.
PER_COMPANY = InquiryLimit(20, timedelta(days=1), "this company has received many messages today")
LONGEST_WINDOW = max(PER_CLIENT.window, PER_COMPANY.window)


class TooManyInquiries(TooManyAttempts):
    """An inquiry over a limit; `retry_after` says when the next one would be accepted."""

    def __init__(self, message: str, retry_after: timedelta) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def caught_by_honeypot(website: str) -> bool:
    """The form's `website` field is hidden from people: only a robot filling every field writes in it."""
    return bool(website.strip())


def may_be_written_to(status: str, public_listing: bool) -> bool:
    """Buyers write to the companies they can see in the directory: active members that chose to be listed."""
    return status == MembershipStatus.ACTIVE and public_listing


def wait_before_next(previous: Sequence[datetime], limit: InquiryLimit, now: datetime) -> timedelta | None:
    """How long until one more inquiry keeps within `limit`, given the moments of the previous ones; None when it
    does now."""
    recent = sorted(moment for moment in previous if moment > now - limit.window)
    if len(recent) < limit.count:
        return None
    return recent[-limit.count] + limit.window - now


def ensure_within_limits(from_client: Sequence[datetime], to_company: Sequence[datetime], now: datetime) -> None:
    """Raises TooManyInquiries, saying when to try again, when one more inquiry would pass either limit."""
    for previous, limit in ((from_client, PER_CLIENT), (to_company, PER_COMPANY)):
        wait = wait_before_next(previous, limit, now)
        if wait is not None:
            minutes = max(1, round(wait.total_seconds() / 60))
            raise TooManyInquiries(f"{limit.refusal}: please try again in {minutes} minutes", wait)


def client_key(address: str) -> str:
    """What is kept of a sender's network address to count their inquiries: a digest, not the address itself."""
    return hashlib.sha256(address.strip().encode()).hexdigest()
