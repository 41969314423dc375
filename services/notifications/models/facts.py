"""What notifications reads of the other services' facts: each consumed fact through a model here (read_fact),
so a malformed one is dead-lettered with what is wrong."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel
from sqlmodel import SQLModel

from shared.membership import PublishedCompany, PublishedPerson, Role


class CompanyProfile(PublishedCompany):
    """What notifications reads of a company in a members.companies.v1 fact (the members service's profile)."""

    partita_iva: str  # the staff's notice of an application names it, and where the company is
    comune: str
    public_listing: bool = False


class CompanyFact(BaseModel):
    company: CompanyProfile
    reason: str | None = None  # why an application was rejected


class PersonProfile(PublishedPerson):
    """What notifications reads of a person in a members.people.v1 fact."""

    language: str | None = None
    role: Role = Role.COMPANY_MEMBER


class PersonFact(BaseModel):
    person: PersonProfile


class FeeFact(SQLModel):
    """A members.fees.v1 fact: the fee as its overdue notice names it."""

    company_id: str
    year: int
    amount_cents: int
    paid_cents: int
    due_date: date


class EventSummary(SQLModel):
    """What notifications reads of an event in an events.events.v1 or events.registrations.v1 fact."""

    id: str
    title_it: str
    title_en: str | None = None
    event_type: str
    status: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    venue: str
    online_url: str | None = None
    # The UID and SEQUENCE of the event's calendar entries (RFC 5545), as events gives them.
    calendar_uid: str | None = None
    calendar_sequence: int = 0


class EventFact(SQLModel):
    event: EventSummary
    changed: list[str] = []  # events.event.updated: the names of the fields that changed


class RegistrationSummary(SQLModel):
    id: str
    event_id: str
    person_id: str | None = None
    name: str
    email: str | None = None
    status: str
    price_due_cents: int | None = None
    offer_expires_at: datetime | None = None
    checked_in_at: datetime | None = None
    check_in_code: str | None = None  # what the door scans: the ticket's QR code
    language: str | None = None  # a guest's (members are written to in their own)


class CalendarCancellation(SQLModel):
    """What a cancelled registration's fact gives for the registrant's calendar: a CANCEL of their entry."""

    uid: str
    sequence: int


class RegistrationFact(SQLModel):
    registration: RegistrationSummary
    event: EventSummary
    position: int | None = None  # on the waitlist
    reason: str | None = None  # why it was rejected
    calendar: CalendarCancellation | None = None  # events.registration.cancelled


class CallSummary(SQLModel):
    """What notifications reads of a funding call in a funding.calls/matches/searches.v1 fact."""

    id: str
    external_id: str = ""
    title_it: str | None = None
    title_en: str | None = None
    programme: str | None = None
    deadlines: list[datetime] = []


class ClosingSoonFact(SQLModel):
    call: CallSummary
    deadline: datetime
    days_before: int
    company_ids: list[str]


class MatchFact(SQLModel):
    call: CallSummary
    company_id: str
    reasons: list[str]


class SearchFact(SQLModel):
    call: CallSummary
    person_id: str
    search_name: str


class InvitationFact(BaseModel):
    """members.invitation.sent: a company's admin invites a colleague, known only by address until they accept."""

    invitation_id: str
    email: str
    language: str
    company_id: str
    company_name: str
    invited_by: str
    token: str
    expires_at: datetime


class PasswordResetFact(BaseModel):
    """members.password_reset.requested: someone with an account asked to set a new password."""

    request_id: str
    person_id: str
    email: str
    language: str
    token: str
    expires_at: datetime


class Applicant(BaseModel):
    email: str
    given_name: str
    family_name: str
    language: str


class ApplicationDecidedFact(BaseModel):
    """members.application.decided: staff approved or rejected a company's application; its applicant is told."""

    company_id: str
    company_name: str
    decision: Literal["approved", "rejected"]
    reason: str | None = None
    applicant: Applicant
