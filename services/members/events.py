"""The facts the members service publishes. Each company event carries the company's current profile, so other
services can keep their own copy without calling us (event-carried state transfer)."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import BaseModel

from services.members.domain import GovernanceOffice, Language, SizeClass
from shared import topics
from shared.envelope import IntegrationEvent
from shared.membership import MembershipStatus, Role

COMPANIES_TOPIC = topics.MEMBERS_COMPANIES
PEOPLE_TOPIC = topics.MEMBERS_PEOPLE
FEES_TOPIC = topics.MEMBERS_FEES
GOVERNANCE_TOPIC = topics.MEMBERS_GOVERNANCE
CORRESPONDENCE_TOPIC = topics.MEMBERS_CORRESPONDENCE


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


class CorrespondenceEvent(IntegrationEvent):
    """Internal, for notifications only: what to write to someone who cannot read an inbox here yet. Email
    addresses and single-use tokens travel on this topic and no public one."""

    topic: ClassVar[str] = CORRESPONDENCE_TOPIC


class InvitationSent(CorrespondenceEvent):
    """A company's admin (or staff) invited a colleague: write them the link to `/invitations/{token}`."""

    event_type: ClassVar[str] = "members.invitation.sent"
    key_field: ClassVar[str] = "invitation_id"

    invitation_id: str
    email: str
    language: Language
    company_id: str
    company_name: str
    invited_by: str  # "Given Family"
    token: str
    expires_at: datetime


class PasswordResetRequested(CorrespondenceEvent):
    """A person asked to reset their password: write them the link to `/password-reset/{token}`. Only for an
    address that has an account (the answer to the request does not say which)."""

    event_type: ClassVar[str] = "members.password_reset.requested"
    key_field: ClassVar[str] = "request_id"

    request_id: str
    person_id: str
    email: str
    language: Language
    token: str
    expires_at: datetime


class Applicant(BaseModel):
    email: str
    given_name: str
    family_name: str
    language: Language


class ApplicationDecided(CorrespondenceEvent):
    """Staff approved or rejected a company's application: tell its applicant, with staff's reason on a
    rejection."""

    event_type: ClassVar[str] = "members.application.decided"
    key_field: ClassVar[str] = "company_id"

    company_id: str
    company_name: str
    decision: Literal["approved", "rejected"]
    reason: str | None
    applicant: Applicant


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
    InvitationSent,
    PasswordResetRequested,
    ApplicationDecided,
]
