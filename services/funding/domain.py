"""The funding service's rules: what a call is, whatever its source; what its dates make of it; which companies
can use it, and why.

Nothing here touches the database, HTTP or Kafka. Connectors turn each source's format into `CallRecord`s;
matching scores a call against a company's profile and says its reasons in plain words. The classifications
calls are described in (ATECO codes, Italian regions) are in `classifications.py`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cached_property

from services.funding.classifications import ALL_OF_ITALY, ateco_prefixes
from shared.errors import Conflict, DomainError
from shared.text import fold


class Source(StrEnum):
    EU_FUNDING_TENDERS = "eu_funding_tenders"
    INCENTIVI_GOV_IT = "incentivi_gov_it"
    STAFF = "staff"  # entered by the network's staff


class CallStatus(StrEnum):
    FORTHCOMING = "forthcoming"
    OPEN = "open"
    CLOSED = "closed"


# Calls still worth telling companies about: matched when they appear or change, reminded before deadlines.
MATCHABLE = (CallStatus.FORTHCOMING, CallStatus.OPEN)


class SizeClass(StrEnum):
    """The EU SME classes, as the members service computes them."""

    MICRO = "micro"
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


@dataclass(frozen=True)
class CallRecord:
    """One call as a source describes it, in one shape for every source.

    Empty `sizes`, `regions` or `ateco_codes` mean the source sets no limit there (any size, anywhere, any sector).
    """

    source: Source
    external_id: str
    title_it: str | None = None
    title_en: str | None = None
    summary: str = ""
    description: str = ""  # plain text: sources send HTML, which is never passed on
    programme: str | None = None
    status: CallStatus | None = None  # None: the dates decide (see `status_on`)
    opens_at: datetime | None = None
    deadlines: tuple[datetime, ...] = ()  # ascending; two-stage and multi-cut-off calls have several
    budget_eur: int | None = None
    grant_min_eur: int | None = None
    grant_max_eur: int | None = None
    sizes: frozenset[SizeClass] = frozenset()
    regions: frozenset[str] = frozenset()  # Italian region names as `canonical_region` spells them
    ateco_codes: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    url: str | None = None


@dataclass(frozen=True)
class Quarantined:
    """A record a connector could not read: kept with its reason for staff to see, never dropped silently."""

    source: Source
    external_id: str | None
    reason: str
    raw: str  # the record as received, as JSON or the CSV line


ParsedRecord = CallRecord | Quarantined


def last_of_each(records: Iterable[CallRecord]) -> list[CallRecord]:
    """A source that lists one call twice in a run is taken at its last word."""
    return list({record.external_id: record for record in records}.values())


def check_call_terms(
    grant_min_eur: int | None, grant_max_eur: int | None, opens_at: datetime | None, deadlines: Iterable[datetime]
) -> None:
    """What every call must say consistently, whoever enters it: a grant range that is a range, dates that say
    where in the world they are, and no deadline before the call opens."""
    deadlines = list(deadlines)
    if grant_min_eur is not None and grant_max_eur is not None and grant_min_eur > grant_max_eur:
        raise DomainError("grant_min_eur is above grant_max_eur")
    for moment in [opens_at, *deadlines]:
        if moment is not None and moment.tzinfo is None:
            raise DomainError("dates need a time zone offset, e.g. 2027-03-31T17:00:00+02:00")
    if opens_at and deadlines and min(deadlines) <= opens_at:
        raise DomainError("every deadline must come after the opening")


def ensure_edited_by_staff(source: Source) -> None:
    """Staff edit the calls they entered; a feed's calls follow their source, which would undo an edit."""
    if source != Source.STAFF:
        raise Conflict(f"this call comes from {source} and follows it; only staff-entered calls are edited here")


def status_on(
    now: datetime, stated: CallStatus | None, opens_at: datetime | None, deadlines: tuple[datetime, ...]
) -> CallStatus:
    """A call whose last deadline has passed is closed, whatever its source last said (feeds lag); otherwise
    the source's word where it gives one, else open between the opening and the last deadline."""
    if deadlines and now >= deadlines[-1]:
        return CallStatus.CLOSED
    if stated is not None:
        return stated
    if opens_at is not None and now < opens_at:
        return CallStatus.FORTHCOMING
    return CallStatus.OPEN


def next_deadline(now: datetime, deadlines: tuple[datetime, ...]) -> datetime | None:
    return next((deadline for deadline in deadlines if deadline > now), None)


# Stored for queries, derived from what is announced: changes to them alone are not news.
NOT_NEWS = frozenset({"next_deadline", "stated_status", "eligibility", "search_text"})


def news(changed: Iterable[str]) -> list[str]:
    """Of a call's changed fields, those a `funding.call.updated` announces (`next_deadline` moves with time)."""
    return sorted(name for name in changed if name not in NOT_NEWS)


# Lead times of the closing-soon reminders, in days before each deadline.
REMINDER_DAYS = (14, 3)


def reminder_due(now: datetime, deadline: datetime, leads_in_days: tuple[int, ...]) -> int | None:
    """The lead time whose reminder is due for a deadline: the shortest one the deadline is within. A deadline
    first seen two days ahead gets the 3-day reminder only, never a late 14-day one."""
    if deadline <= now:
        return None
    within = [lead for lead in leads_in_days if deadline - now <= timedelta(days=lead)]
    return min(within) if within else None


def reminder_horizon(now: datetime, leads_in_days: tuple[int, ...]) -> datetime:
    """Deadlines later than this need no reminder yet."""
    return now + timedelta(days=max(leads_in_days))


_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> set[str]:
    """The words of a text, folded (see shared.text.fold): what search and matching compare."""
    return set(_WORD.findall(fold(text)))


def search_text(record: CallRecord) -> str:
    """What free-text search reads of a call, folded: its titles, summary, programme, identifier, keywords, tags."""
    parts = [record.title_it or "", record.title_en or "", record.summary, record.programme or ""]
    return fold(" ".join([*parts, record.external_id, *record.keywords, *record.tags]))


def eligibility_keys(sizes: Iterable[SizeClass], regions: Iterable[str], ateco_codes: Iterable[str]) -> str:
    """A call's limits as one searchable string, `|size:small|region:Toscana|ateco:1520|`: the same query reads it
    on PostgreSQL and SQLite, where JSON lists are queried differently."""
    keys = [f"size:{size}" for size in sorted(sizes)] + [f"region:{region}" for region in sorted(regions)]
    keys += [f"ateco:{code.replace('.', '')}" for code in ateco_codes]
    return "|" + "|".join(keys) + "|"


@dataclass(frozen=True)
class CompanyProfile:
    """What matching needs of a member company, from the members service's facts."""

    id: str
    name: str
    active: bool
    size_class: SizeClass | None
    region: str | None  # canonical, see `canonical_region`
    ateco_codes: tuple[str, ...]
    interests: tuple[str, ...] = ()  # capabilities, interests, certifications, export markets: what it cares about

    # Computed once per profile: one company is scored against thousands of calls.
    @cached_property
    def terms(self) -> frozenset[str]:
        return frozenset(word for interest in self.interests for word in words(interest) if len(word) > 2)

    @cached_property
    def ateco_digits(self) -> tuple[tuple[str, str], ...]:
        return tuple((code, code.replace(".", "")) for code in self.ateco_codes)


@dataclass(frozen=True)
class CallFacts:
    """What matching needs of a call: its limits and its words, computed once per call."""

    id: str
    sizes: frozenset[SizeClass]
    regions: frozenset[str]
    ateco_codes: tuple[str, ...]
    terms: frozenset[str]

    @cached_property
    def ateco_digits(self) -> tuple[tuple[str, str], ...]:
        return tuple((code, code.replace(".", "")) for code in self.ateco_codes)

    @classmethod
    def of(cls, call_id: str, record: CallRecord) -> CallFacts:
        text = " ".join([record.title_it or "", record.title_en or "", record.summary, *record.keywords, *record.tags])
        return cls(call_id, record.sizes, record.regions, record.ateco_codes, frozenset(words(text)))


@dataclass(frozen=True)
class Match:
    score: int  # 0..100
    reasons: tuple[str, ...]


# A call named for the company's sector is a match on that alone; a region or a size alone is not.
MATCH_THRESHOLD = 30
_POINTS_ATECO = 50
_POINTS_REGION = 15
_POINTS_SIZE = 10
_POINTS_TERM = 15
_MAX_TERMS = 4


def match(call: CallFacts, company: CompanyProfile) -> Match | None:
    """The company's match with the call and its reasons, or None: not eligible, or not relevant enough.

    Hard eligibility first (size, region, ATECO, where the call sets them), then relevance: the call's own sector
    or region, and the company's interests found in the call's words.
    """
    if not company.active:
        return None
    if call.sizes and company.size_class not in call.sizes:
        return None
    if call.regions and company.region not in call.regions:
        return None
    covering = _covering_ateco(call, company)
    if call.ateco_codes and covering is None:
        return None
    score = 0
    reasons: list[str] = []
    if covering is not None:
        score += _POINTS_ATECO
        reasons.append(f"ATECO {covering[1]} eligible (call open to {covering[0]})")
    if call.regions and len(call.regions) < ALL_OF_ITALY:
        score += _POINTS_REGION
        reasons.append(f"open to companies in {company.region}")
    if call.sizes and len(call.sizes) < len(SizeClass):
        score += _POINTS_SIZE
        reasons.append(f"open to {company.size_class} companies")
    shared_terms = sorted(company.terms & call.terms)
    for term in shared_terms[:_MAX_TERMS]:
        score += _POINTS_TERM
        reasons.append(f"keyword: {term}")
    if score < MATCH_THRESHOLD:
        return None
    return Match(min(score, 100), tuple(reasons))


def _covering_ateco(call: CallFacts, company: CompanyProfile) -> tuple[str, str] | None:
    """The first (call code, company code) pair where the call's code covers the company's (see ateco_covers)."""
    for company_code, company_digits in company.ateco_digits:
        for call_code, call_digits in call.ateco_digits:
            if company_digits.startswith(call_digits):
                return call_code, company_code
    return None


class Matcher:
    """Matches calls against many companies without scoring every pair.

    Only companies that share a word with the call, or whose ATECO code the call names, can reach the threshold
    (region and size together stay below it), so an index from words and ATECO prefixes to companies gives the
    candidates; each candidate is then scored in full.
    """

    def __init__(self, companies: list[CompanyProfile]) -> None:
        self._companies = {c.id: c for c in companies if c.active}
        self._by_term: dict[str, set[str]] = {}
        self._by_ateco_prefix: dict[str, set[str]] = {}
        for company in self._companies.values():
            for term in company.terms:
                self._by_term.setdefault(term, set()).add(company.id)
            for code in company.ateco_codes:
                for prefix in ateco_prefixes(code):
                    self._by_ateco_prefix.setdefault(prefix, set()).add(company.id)

    def matches(self, call: CallFacts) -> dict[str, Match]:
        """Company id → match, for every company the call matches."""
        candidates: set[str] = set()
        for term in call.terms & self._by_term.keys():
            candidates |= self._by_term[term]
        for code in call.ateco_codes:
            candidates |= self._by_ateco_prefix.get(code.replace(".", ""), set())
        found = {}
        for company_id in candidates:
            if result := match(call, self._companies[company_id]):
                found[company_id] = result
        return found


@dataclass(frozen=True)
class AnnouncedMatch:
    """A (call, company) match as it was last announced; `active` False once it was withdrawn."""

    active: bool
    score: int
    reasons: tuple[str, ...]

    @property
    def previous_score(self) -> int:
        """The score a `funding.match.updated` says it moved from: nothing, for a withdrawn match back again."""
        return self.score if self.active else 0


# What a `funding.match.withdrawn` says: the matcher knows only that the call no longer fits.
WITHDRAWN_REASONS = ("no longer fits the call's conditions or the company's profile",)


def match_is_news(found: Match | None, announced: AnnouncedMatch | None) -> bool:
    """Whether a (call, company) match scored again differs from what was last announced of it: found for the
    first time, withdrawn while active, or back, or with another score or other reasons. Each difference is
    announced once: found when nothing was announced, withdrawn when nothing is found, else updated."""
    if found is None:
        return announced is not None and announced.active
    if announced is None:
        return True
    return not announced.active or (announced.score, announced.reasons) != (found.score, found.reasons)
