"""The other services' facts as a partner would publish them: plain JSON, built from the publishers' published
contracts (`/events/schemas/<type>.json`), not from their code, for the tests and the benchmarks of a service that
reads them. services/notifications/tests/test_fact_contracts.py checks every builder here
against the schema its publisher serves, so a change to a publisher's contract breaks these tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from shared import topics
from shared.membership import MembershipStatus, Role

MEMBERS = "/filiera/members"
EVENTS = "/filiera/events"
FUNDING = "/filiera/funding"


@dataclass(frozen=True)
class PublishedFact:
    """One CloudEvent's worth: where it goes, its type, its key (the aggregate's id) and its `data`."""

    topic: str
    type: str
    subject: str
    data: dict[str, Any]
    source: str


class Registrant(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def company_id(self) -> str | None: ...
    @property
    def name(self) -> str: ...
    @property
    def email(self) -> str: ...


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def company_profile(
    company_id: str,
    status: MembershipStatus = MembershipStatus.ACTIVE,
    legal_name: str = "Calzaturificio Lunata S.r.l.",
    public_listing: bool = True,
) -> dict[str, Any]:
    return {
        "id": company_id,
        "legal_name": legal_name,
        "partita_iva": "01234567897",
        "status": status.value,
        "size_class": "small",
        "employees": 18,
        "ateco_primary": "15.20.10",
        "ateco_secondary": [],
        "comune": "Capannori",
        "frazione": "Lunata",
        "province": "LU",
        "region": "Toscana",
        "website": None,
        "capabilities": ["calzature donna"],
        "certifications": [],
        "export_markets": ["DE"],
        "languages": ["it", "en"],
        "interests": ["sostenibilità"],
        "public_listing": public_listing,
    }


def _company_fact(suffix: str, company: dict[str, Any], **extra: Any) -> PublishedFact:
    data = {"company_id": company["id"], "company": company, "actor_id": None, "reason": None, **extra}
    return PublishedFact(topics.MEMBERS_COMPANIES, f"members.company.{suffix}", company["id"], data, MEMBERS)


def company_applied(company: dict[str, Any]) -> PublishedFact:
    return _company_fact("applied", company)


def company_approved(company: dict[str, Any]) -> PublishedFact:
    return _company_fact("approved", company)


def company_updated(company: dict[str, Any], changed: list[str]) -> PublishedFact:
    return _company_fact("updated", company, changed=changed)


def person_joined(
    person_id: str, company_id: str | None, given_name: str, email: str, language: str, role: Role
) -> PublishedFact:
    person = {
        "id": person_id,
        "company_id": company_id,
        "given_name": given_name,
        "family_name": "Bertolucci",
        "email": email,
        "language": language,
        "role": role.value,
        "job_title": None,
    }
    data = {"person_id": person_id, "person": person}
    return PublishedFact(topics.MEMBERS_PEOPLE, "members.person.joined", person_id, data, MEMBERS)


def person_erased(person_id: str, company_id: str | None) -> PublishedFact:
    data = {"person_id": person_id, "company_id": company_id}
    return PublishedFact(topics.MEMBERS_PEOPLE, "members.person.erased", person_id, data, MEMBERS)


def fee_overdue(company_id: str, year: int, amount_cents: int, paid_cents: int, due_date: date) -> PublishedFact:
    data = {
        "fee_id": str(uuid.uuid4()),
        "company_id": company_id,
        "year": year,
        "amount_cents": amount_cents,
        "paid_cents": paid_cents,
        "due_date": due_date.isoformat(),
    }
    return PublishedFact(topics.MEMBERS_FEES, "members.fee.overdue", company_id, data, MEMBERS)


def invitation_sent(
    email: str, company_id: str, company_name: str, language: str = "it", token: str | None = None
) -> PublishedFact:
    """A company admin, Giulia Bertolucci, invites a colleague by address; the invitation lasts a week."""
    invitation_id = str(uuid.uuid4())
    data = {
        "invitation_id": invitation_id,
        "email": email,
        "language": language,
        "company_id": company_id,
        "company_name": company_name,
        "invited_by": "Giulia Bertolucci",
        "token": token or uuid.uuid4().hex,
        "expires_at": _moment(datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)),
    }
    return PublishedFact(topics.MEMBERS_CORRESPONDENCE, "members.invitation.sent", invitation_id, data, MEMBERS)


def password_reset_requested(
    person_id: str, email: str, language: str = "it", token: str | None = None
) -> PublishedFact:
    """A person with an account asks for a new password; the link lasts an hour."""
    request_id = str(uuid.uuid4())
    data = {
        "request_id": request_id,
        "person_id": person_id,
        "email": email,
        "language": language,
        "token": token or uuid.uuid4().hex,
        "expires_at": _moment(datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)),
    }
    return PublishedFact(topics.MEMBERS_CORRESPONDENCE, "members.password_reset.requested", request_id, data, MEMBERS)


def application_decided(
    company_id: str,
    company_name: str,
    decision: str,
    applicant_email: str,
    language: str = "it",
    reason: str | None = None,
) -> PublishedFact:
    """Staff decided on a company's application ("approved" or "rejected", with a reason); Marco Del Carlo, who
    applied, is told."""
    data = {
        "company_id": company_id,
        "company_name": company_name,
        "decision": decision,
        "reason": reason,
        "applicant": {
            "email": applicant_email,
            "given_name": "Marco",
            "family_name": "Del Carlo",
            "language": language,
        },
    }
    return PublishedFact(topics.MEMBERS_CORRESPONDENCE, "members.application.decided", company_id, data, MEMBERS)


def event_summary(event_id: str, **overrides: Any) -> dict[str, Any]:
    """A training course ten days from now; `starts_at`/`ends_at` overrides are datetimes."""
    starts = overrides.pop("starts_at", datetime.now(UTC).replace(microsecond=0) + timedelta(days=10))
    ends = overrides.pop("ends_at", starts + timedelta(hours=4))
    return {
        "id": event_id,
        "title_it": "Corso di modellistica 3D",
        "title_en": "3D pattern making course",
        "event_type": "training",
        "status": "published",
        "audience": "members",
        "starts_at": _moment(starts),
        "ends_at": _moment(ends),
        "time_zone": "Europe/Rome",
        "venue": "Polo Tecnologico di Capannori, Segromigno in Monte",
        "online_url": None,
        "organiser_company_id": None,
        "capacity": 20,
        "tags": [],
        "calendar_uid": f"{event_id}@filiera",
        "calendar_sequence": 0,
        **overrides,
    }


def _event_fact(suffix: str, event: dict[str, Any], **extra: Any) -> PublishedFact:
    data = {"event_id": event["id"], "event": event, **extra}
    return PublishedFact(topics.EVENTS_EVENTS, f"events.event.{suffix}", event["id"], data, EVENTS)


def event_published(event: dict[str, Any]) -> PublishedFact:
    return _event_fact("published", event)


def event_updated(event: dict[str, Any], changed: list[str]) -> PublishedFact:
    return _event_fact("updated", event, changed=changed)


def event_cancelled(event: dict[str, Any]) -> PublishedFact:
    return _event_fact("cancelled", event)


def event_completed(event: dict[str, Any]) -> PublishedFact:
    return _event_fact("completed", event)


def registration_summary(
    event_id: str,
    person: Registrant | None,
    status: str = "confirmed",
    offer_expires_at: datetime | None = None,
    checked_in_at: datetime | None = None,
    registration_id: str | None = None,
    check_in_code: str | None = None,
    guest_language: str = "it",
) -> dict[str, Any]:
    """A person's registration, or (without a person) a guest's known only by name and address, written to in
    `guest_language`. Its check-in code is drawn unless given."""
    return {
        "id": registration_id or str(uuid.uuid4()),
        "event_id": event_id,
        "person_id": person.id if person else None,
        "company_id": person.company_id if person else None,
        "name": person.name if person else "Ospite Esterno",
        "email": person.email if person else "ospite@example.org",
        "status": status,
        "price_due_cents": 0,
        "offer_expires_at": _moment(offer_expires_at),
        "checked_in_at": _moment(checked_in_at),
        "check_in_code": check_in_code or uuid.uuid4().hex,
        "language": None if person else guest_language,
    }


def _registration_fact(suffix: str, registration: dict[str, Any], event: dict[str, Any], **extra: Any) -> PublishedFact:
    data = {
        "event_id": event["id"],
        "registration_id": registration["id"],
        "registration": registration,
        "event": event,
        **extra,
    }
    return PublishedFact(topics.EVENTS_REGISTRATIONS, f"events.registration.{suffix}", event["id"], data, EVENTS)


def registration_confirmed(registration: dict[str, Any], event: dict[str, Any]) -> PublishedFact:
    return _registration_fact("confirmed", registration, event)


def registration_waitlisted(registration: dict[str, Any], event: dict[str, Any], position: int) -> PublishedFact:
    return _registration_fact("waitlisted", registration, event, position=position)


def registration_offered(registration: dict[str, Any], event: dict[str, Any]) -> PublishedFact:
    return _registration_fact("offered", registration, event)


def registration_checked_in(registration: dict[str, Any], event: dict[str, Any]) -> PublishedFact:
    return _registration_fact("checked_in", registration, event)


def registration_promoted(registration: dict[str, Any], event: dict[str, Any]) -> PublishedFact:
    return _registration_fact("promoted", registration, event)


def registration_cancelled(registration: dict[str, Any], event: dict[str, Any]) -> PublishedFact:
    """The registrant's calendar gets a CANCEL one SEQUENCE above the event's entries."""
    calendar = {"uid": event["calendar_uid"], "sequence": event["calendar_sequence"] + 1}
    return _registration_fact("cancelled", registration, event, calendar=calendar)


def call_summary(
    title_en: str | None = "Euroclusters for Europe's recovery",
    title_it: str | None = None,
    source: str = "eu_funding_tenders",
    deadlines: list[datetime] | None = None,
) -> dict[str, Any]:
    """An open EU call, its deadline 40 days from now unless `deadlines` says otherwise."""
    return {
        "id": str(uuid.uuid4()),
        "source": source,
        "external_id": "SMP-COSME-2026-CLUSTER-01",
        "title_it": title_it,
        "title_en": title_en,
        "programme": "Single Market Programme",
        "status": "open",
        "opens_at": None,
        "deadlines": [_moment(moment) for moment in deadlines or [datetime.now(UTC) + timedelta(days=40)]],
        "budget_eur": 2_000_000,
        "url": "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/topic-details/x",
    }


def match_found(call: dict[str, Any], company_id: str, reasons: list[str], score: int = 70) -> PublishedFact:
    data = {"call_id": call["id"], "company_id": company_id, "score": score, "reasons": reasons, "call": call}
    return PublishedFact(topics.FUNDING_MATCHES, "funding.match.found", company_id, data, FUNDING)


def call_closing_soon(call: dict[str, Any], days_before: int, company_ids: list[str]) -> PublishedFact:
    data = {
        "call_id": call["id"],
        "call": call,
        "deadline": call["deadlines"][0],
        "days_before": days_before,
        "company_ids": company_ids,
    }
    return PublishedFact(topics.FUNDING_CALLS, "funding.call.closing_soon", call["id"], data, FUNDING)


def search_matched(search_name: str, person_id: str, call: dict[str, Any]) -> PublishedFact:
    data = {"search_id": str(uuid.uuid4()), "search_name": search_name, "person_id": person_id, "call": call}
    return PublishedFact(topics.FUNDING_SEARCHES, "funding.search.matched", person_id, data, FUNDING)
