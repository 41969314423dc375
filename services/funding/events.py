"""The facts the funding service publishes. Call facts carry the call as it now is; match facts carry the match
and enough of the call for the notifications service to write to the company without calling us."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel

from services.funding.domain import CallStatus, Source
from services.funding.models import FundingCall
from shared import topics
from shared.envelope import IntegrationEvent

CALLS_TOPIC = topics.FUNDING_CALLS
MATCHES_TOPIC = topics.FUNDING_MATCHES
SEARCHES_TOPIC = topics.FUNDING_SEARCHES


class CallSummary(BaseModel):
    id: str
    source: Source
    external_id: str
    title_it: str | None
    title_en: str | None
    programme: str | None
    status: CallStatus
    opens_at: datetime | None
    deadlines: list[datetime]
    budget_eur: int | None
    url: str | None

    @classmethod
    def of(cls, call: FundingCall) -> CallSummary:
        return cls.model_validate(call, from_attributes=True)


class CallFact(IntegrationEvent):
    topic: ClassVar[str] = CALLS_TOPIC
    key_field: ClassVar[str] = "call_id"

    call_id: str
    call: CallSummary


class CallPublished(CallFact):
    event_type: ClassVar[str] = "funding.call.published"


class CallUpdated(CallFact):
    event_type: ClassVar[str] = "funding.call.updated"
    changed: list[str]


class CallClosingSoon(CallFact):
    """Sent 14 and 3 days before each deadline, once each, naming the companies the call matches."""

    event_type: ClassVar[str] = "funding.call.closing_soon"
    deadline: datetime
    days_before: int
    company_ids: list[str]


class MatchFact(IntegrationEvent):
    topic: ClassVar[str] = MATCHES_TOPIC
    key_field: ClassVar[str] = "company_id"  # one company's matches stay in order

    call_id: str
    company_id: str
    score: int
    reasons: list[str]
    call: CallSummary


class MatchFound(MatchFact):
    event_type: ClassVar[str] = "funding.match.found"


class MatchUpdated(MatchFact):
    event_type: ClassVar[str] = "funding.match.updated"
    previous_score: int


class MatchWithdrawn(MatchFact):
    """The call or the company changed and the call no longer fits; `reasons` says why not."""

    event_type: ClassVar[str] = "funding.match.withdrawn"


class SearchMatched(IntegrationEvent):
    topic: ClassVar[str] = SEARCHES_TOPIC
    key_field: ClassVar[str] = "person_id"
    event_type: ClassVar[str] = "funding.search.matched"

    search_id: str
    search_name: str
    person_id: str
    call: CallSummary


PUBLISHED_EVENTS: list[type[IntegrationEvent]] = [
    CallPublished,
    CallUpdated,
    CallClosingSoon,
    MatchFound,
    MatchUpdated,
    MatchWithdrawn,
    SearchMatched,
]
