"""Tables of the funding service and the shapes its API accepts and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Strict,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic import Field as PydanticField
from sqlalchemy import BigInteger, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.funding.classifications import ATECO_PATTERN, canonical_region, is_ateco_code
from services.funding.domain import CallStatus, SizeClass, Source, check_call_terms
from shared.clock import utc_now
from shared.columns import datetime_list, enum_column, json_list, timestamp
from shared.errors import DomainError
from shared.ids import new_id
from shared.italy import ItalianRegion
from shared.membership import MembershipStatus, PublishedCompany
from shared.text import Line, Moment, Paragraph, PartialUpdate, WebUrl


def _ateco(code: str) -> str:
    if not is_ateco_code(code):
        raise DomainError(f"{code!r} is not an ATECO code (e.g. 15.20 or 15.20.10)")
    return code


def _region(name: object) -> object:
    """Any usual spelling ('Tuscany', 'toscana') becomes the region's name; the schema lists the names."""
    return canonical_region(name) or name if isinstance(name, str) else name


# The schema states the rules the validators apply, so clients (and schemathesis) know them before sending.
# Whole euros (up to ten thousand billion: budgets of EU programmes are stated in full); strict, so that `false`
# is not taken for 0.
Euros = Annotated[int, Strict(), Field(ge=0, le=10**13)]
AtecoCode = Annotated[str, AfterValidator(_ateco), WithJsonSchema({"type": "string", "pattern": ATECO_PATTERN})]
Region = Annotated[ItalianRegion, BeforeValidator(_region)]


class CallFields(SQLModel):
    """What a call says, whatever its source."""

    title_it: Line | None = Field(default=None, max_length=500)
    title_en: Line | None = Field(default=None, max_length=500)
    summary: Paragraph = Field(default="", max_length=2_000)
    description: Paragraph = Field(default="", max_length=100_000)
    programme: Line | None = Field(default=None, max_length=300)
    opens_at: Moment | None = timestamp(default=None, nullable=True)
    deadlines: list[Moment] = datetime_list(description="One or more, ascending (two-stage calls have several)")
    budget_eur: Euros | None = Field(default=None, sa_type=BigInteger)
    grant_min_eur: Euros | None = Field(default=None, sa_type=BigInteger)
    grant_max_eur: Euros | None = Field(default=None, sa_type=BigInteger)
    sizes: list[SizeClass] = json_list(SizeClass, description="Eligible sizes; empty: any")
    regions: list[Region] = json_list(description="Eligible Italian regions; empty: anywhere")
    ateco_codes: list[AtecoCode] = json_list(description="Eligible ATECO codes, prefixes included; empty: any")
    keywords: list[Line] = json_list()
    tags: list[Line] = json_list()
    url: WebUrl | None = Field(default=None, max_length=300)


class FundingCall(CallFields, table=True):
    __tablename__ = "funding_call"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    source: Source = enum_column(Source)
    external_id: str = Field(max_length=200)
    stated_status: CallStatus | None = enum_column(CallStatus, default=None, nullable=True)
    status: CallStatus = enum_column(CallStatus, index=True)
    next_deadline: datetime | None = timestamp(default=None, nullable=True, index=True)
    # Title, summary, keywords and tags folded (lower case, no accents): what free-text search reads.
    search_text: str = ""
    # The call's limits as `|size:small|region:Toscana|ateco:1520|` (domain.eligibility_keys), for search filters.
    eligibility: str = "||"
    created_at: datetime = timestamp(default_factory=utc_now)
    updated_at: datetime = timestamp(default_factory=utc_now)


class CallCreate(CallFields):
    """A call the network's staff enter themselves (a Tuscan call announced at a meeting, a voucher)."""

    title_it: Line = Field(min_length=3, max_length=500)
    status: CallStatus | None = Field(default=None, description="Default: from the opening date and deadlines")

    @model_validator(mode="after")
    def _consistent(self) -> CallCreate:
        check_call_terms(self.grant_min_eur, self.grant_max_eur, self.opens_at, self.deadlines)
        return self

    @classmethod
    def edited(cls, current: dict[str, Any], update: CallUpdate) -> CallCreate:
        """The call as an edit would leave it, checked whole again (a new deadline against the old opening)."""
        try:
            return cls.model_validate(current | update.model_dump(exclude_unset=True))
        except ValidationError as error:
            raise DomainError("; ".join(e["msg"].removeprefix("Value error, ") for e in error.errors())) from error


class CallUpdate(PartialUpdate):
    clearable = frozenset(
        {"title_en", "programme", "opens_at", "budget_eur", "grant_min_eur", "grant_max_eur", "url", "status"}
    )

    title_it: Line | None = Field(default=None, min_length=3, max_length=500)
    title_en: Line | None = Field(default=None, max_length=500)
    summary: Paragraph | None = Field(default=None, max_length=2_000)
    description: Paragraph | None = Field(default=None, max_length=100_000)
    programme: Line | None = Field(default=None, max_length=300)
    status: CallStatus | None = None
    opens_at: Moment | None = None
    deadlines: list[Moment] | None = None
    budget_eur: Euros | None = None
    grant_min_eur: Euros | None = None
    grant_max_eur: Euros | None = None
    sizes: list[SizeClass] | None = None
    regions: list[Region] | None = None
    ateco_codes: list[AtecoCode] | None = None
    keywords: list[Line] | None = None
    tags: list[Line] | None = None
    url: WebUrl | None = Field(default=None, max_length=300)


class CallPublic(CallFields):
    id: str
    source: Source
    external_id: str
    status: CallStatus
    next_deadline: datetime | None
    created_at: datetime
    updated_at: datetime


class CompanyFact(PublishedCompany):
    """What funding reads of a company in a members.companies.v1 fact (the members service's CompanyProfile)."""

    size_class: SizeClass | None = None
    region: str | None = None
    ateco_primary: str
    ateco_secondary: list[str] = PydanticField(default_factory=list)
    capabilities: list[str] = PydanticField(default_factory=list)
    interests: list[str] = PydanticField(default_factory=list)
    certifications: list[str] = PydanticField(default_factory=list)
    export_markets: list[str] = PydanticField(default_factory=list)


class CompanyFactData(BaseModel):
    """The data of every members.companies.v1 fact: the company as it now is, whatever happened to it."""

    company: CompanyFact


class MemberCompany(SQLModel, table=True):
    # Named apart from the events service's `member_company`: the services' tables share one SQLAlchemy
    # metadata when a process (the test suite) imports them all.
    __tablename__ = "company_profile"

    id: str = Field(primary_key=True)
    legal_name: str
    # VARCHAR(20), as migration 0001 made it.
    status: MembershipStatus = enum_column(
        MembershipStatus, length=20, description="The members service's membership status"
    )
    size_class: SizeClass | None = enum_column(SizeClass, default=None, nullable=True)
    region: str | None = None
    ateco_codes: list[str] = json_list()
    interests: list[str] = json_list(description="Capabilities, interests, certifications, export markets")
    updated_at: datetime = timestamp(default_factory=utc_now)


class CallMatch(SQLModel, table=True):
    __tablename__ = "call_match"

    call_id: str = Field(primary_key=True, foreign_key="funding_call.id")
    company_id: str = Field(primary_key=True, index=True)
    score: int
    reasons: list[str] = json_list()
    active: bool = True  # False: withdrawn (the call or the company changed)
    created_at: datetime = timestamp(default_factory=utc_now)
    updated_at: datetime = timestamp(default_factory=utc_now)


class MatchPublic(SQLModel):
    call_id: str
    company_id: str
    score: int
    reasons: list[str]
    call: CallPublic | None = None


class ReminderSent(SQLModel, table=True):
    """A closing-soon reminder that went out: one per call, deadline and lead time, across restarts."""

    __tablename__ = "reminder_sent"

    call_id: str = Field(primary_key=True)
    deadline: datetime = timestamp(primary_key=True)
    days_before: int = Field(primary_key=True)
    sent_at: datetime = timestamp(default_factory=utc_now)


class SearchCriteria(SQLModel):
    """What a search asks for; every criterion given must hold."""

    text: Line | None = Field(default=None, max_length=200, description="Words in the title, summary or keywords")
    status: list[CallStatus] = json_list(CallStatus)
    programme: Line | None = Field(default=None, max_length=300)
    region: Region | None = Field(default=None, sa_type=String(40))
    size: SizeClass | None = enum_column(SizeClass, default=None, nullable=True)
    ateco: AtecoCode | None = Field(default=None, max_length=20)
    deadline_after: Moment | None = timestamp(default=None, nullable=True)
    deadline_before: Moment | None = timestamp(default=None, nullable=True)


class SavedSearchCreate(SearchCriteria):
    name: Line = Field(min_length=1, max_length=100)


class SavedSearch(SavedSearchCreate, table=True):
    __tablename__ = "saved_search"

    id: str = Field(default_factory=new_id, primary_key=True)
    person_id: str = Field(index=True)
    company_id: str | None = None
    created_at: datetime = timestamp(default_factory=utc_now)


class SavedSearchPublic(SavedSearchCreate):
    id: str
    person_id: str
    created_at: datetime


class SearchHit(SQLModel, table=True):
    """A call a saved search was told about: once per search and call."""

    __tablename__ = "search_hit"

    search_id: str = Field(primary_key=True, foreign_key="saved_search.id", ondelete="CASCADE")
    call_id: str = Field(primary_key=True)
    found_at: datetime = timestamp(default_factory=utc_now)


class SourceState(SQLModel, table=True):
    """How the last runs of a source went: what `/readyz`, `/sources` and the metrics report."""

    __tablename__ = "source_state"

    source: Source = enum_column(Source, primary_key=True)
    last_attempt_at: datetime | None = timestamp(default=None, nullable=True)
    last_success_at: datetime | None = timestamp(default=None, nullable=True)
    last_error: str | None = None
    consecutive_failures: int = 0
    records_read: int = 0
    calls_published: int = 0
    calls_updated: int = 0
    quarantined: int = 0


class QuarantinedRecord(SQLModel, table=True):
    """A record a connector could not read, with the reason, for staff to look at."""

    __tablename__ = "quarantined_record"

    id: int | None = Field(default=None, primary_key=True)
    source: Source = enum_column(Source, index=True)
    external_id: str | None = Field(default=None, max_length=200)
    reason: str
    raw: str
    received_at: datetime = timestamp(default_factory=utc_now)


class RunResult(BaseModel):
    """What one read of a source did."""

    source: Source
    records_read: int
    published: int
    updated: int
    quarantined: int
