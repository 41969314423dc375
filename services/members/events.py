"""The facts the members service publishes. Each company event carries the company's current profile, so other
services can keep their own copy without calling us (event-carried state transfer)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import BaseModel

from services.members.domain import GovernanceOffice, SizeClass
from shared import topics
from shared.envelope import IntegrationEvent
from shared.membership import MembershipStatus, Role

COMPANIES_TOPIC = topics.MEMBERS_COMPANIES
PEOPLE_TOPIC = topics.MEMBERS_PEOPLE
FEES_TOPIC = topics.MEMBERS_FEES
GOVERNANCE_TOPIC = topics.MEMBERS_GOVERNANCE


class CompanyProfile(BaseModel):
    id: str
    legal_name: str
    partita_iva: str
    status: MembershipStatus
    size_class: SizeClass
    employees: int
    ateco_primary: str
    ateco_secondary: list[str]
    comune: str
    frazione: str | None
    province: str
    region: str
    website: str | None
    capabilities: list[str]
    certifications: list[str]
    export_markets: list[str]
    languages: list[str]
    interests: list[str]
    public_listing: bool


class CompanyEvent(IntegrationEvent):
    topic: ClassVar[str] = COMPANIES_TOPIC
    key_field: ClassVar[str] = "company_id"

    company_id: str
    company: CompanyProfile
    actor_id: str | None = None
    reason: str | None = None


class CompanyApplied(CompanyEvent):
    event_type: ClassVar[str] = "members.company.applied"


class CompanyApproved(CompanyEvent):
    event_type: ClassVar[str] = "members.company.approved"


class CompanyRejected(CompanyEvent):
    event_type: ClassVar[str] = "members.company.rejected"


class CompanyUpdated(CompanyEvent):
    event_type: ClassVar[str] = "members.company.updated"
    changed: list[str]


class CompanySuspended(CompanyEvent):
    event_type: ClassVar[str] = "members.company.suspended"


class CompanyReinstated(CompanyEvent):
    event_type: ClassVar[str] = "members.company.reinstated"


class CompanyWithdrawn(CompanyEvent):
    event_type: ClassVar[str] = "members.company.withdrawn"


class PersonProfile(BaseModel):
    id: str
    company_id: str | None
    given_name: str
    family_name: str
    email: str
    language: str
    role: Role
    job_title: str | None


class PersonEvent(IntegrationEvent):
    topic: ClassVar[str] = PEOPLE_TOPIC
    key_field: ClassVar[str] = "person_id"

    person_id: str


class PersonJoined(PersonEvent):
    event_type: ClassVar[str] = "members.person.joined"
    person: PersonProfile


class PersonUpdated(PersonEvent):
    event_type: ClassVar[str] = "members.person.updated"
    person: PersonProfile
    changed: list[str]


class PersonErased(PersonEvent):
    """Every service must delete or anonymise what it holds about this person."""

    event_type: ClassVar[str] = "members.person.erased"
    company_id: str | None


class FeeEvent(IntegrationEvent):
    topic: ClassVar[str] = FEES_TOPIC
    key_field: ClassVar[str] = "company_id"

    fee_id: str
    company_id: str
    year: int
    amount_cents: int
    paid_cents: int
    due_date: date


class FeeAssessed(FeeEvent):
    event_type: ClassVar[str] = "members.fee.assessed"


class FeePaymentRecorded(FeeEvent):
    event_type: ClassVar[str] = "members.fee.payment_recorded"
    payment_cents: int


class FeeOverdue(FeeEvent):
    """The fee's due date has passed and it is not fully paid; announced once per fee, while its company is active."""

    event_type: ClassVar[str] = "members.fee.overdue"


class GovernanceEvent(IntegrationEvent):
    topic: ClassVar[str] = GOVERNANCE_TOPIC
    key_field: ClassVar[str] = "term_id"

    term_id: str
    person_id: str
    office: GovernanceOffice
    term_from: date
    term_to: date | None


class GovernanceTermStarted(GovernanceEvent):
    event_type: ClassVar[str] = "members.governance.term_started"


class GovernanceTermEnded(GovernanceEvent):
    event_type: ClassVar[str] = "members.governance.term_ended"


PUBLISHED_EVENTS: list[type[IntegrationEvent]] = [
    CompanyApplied,
    CompanyApproved,
    CompanyRejected,
    CompanyUpdated,
    CompanySuspended,
    CompanyReinstated,
    CompanyWithdrawn,
    PersonJoined,
    PersonUpdated,
    PersonErased,
    FeeAssessed,
    FeePaymentRecorded,
    FeeOverdue,
    GovernanceTermStarted,
    GovernanceTermEnded,
]
