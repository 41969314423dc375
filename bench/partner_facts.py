"""Other services' facts as a partner would write them: JSON CloudEvents shaped by the published schemas
(`/events/schemas/<type>.json`), built without the publishing services' code. The notifications benchmark feeds
the service what members, events and funding publish on their topics."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shared import topics
from shared.membership import MembershipStatus, Role

# A record as a producer sends it: topic, value, key.
Record = tuple[str, bytes, bytes]


@dataclass(frozen=True)
class Fact:
    topic: str
    source: str  # the publishing service, as its CloudEvents name it
    type: str
    subject: str  # the aggregate's id, which is also the Kafka key
    data: dict[str, Any]

    def record(self) -> Record:
        envelope = {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": self.source,
            "type": self.type,
            "subject": self.subject,
            "time": instant(datetime.now(UTC)),
            "datacontenttype": "application/json",
            "dataschema": f"/events/schemas/{self.type}.json",
            "data": self.data,
        }
        return (
            self.topic,
            json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode(),
            self.subject.encode(),
        )


def records(facts: Iterable[Fact]) -> list[Record]:
    return [fact.record() for fact in facts]


def instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def company_approved(n: int) -> Fact:
    company_id = str(uuid.uuid4())
    company = {
        "id": company_id,
        "legal_name": f"Calzaturificio {n} S.r.l.",
        "partita_iva": f"{n:011d}",
        "status": MembershipStatus.ACTIVE,
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
        "public_listing": True,
    }
    data = {"company_id": company_id, "company": company, "actor_id": None, "reason": None}
    return Fact(topics.MEMBERS_COMPANIES, "/filiera/members", "members.company.approved", company_id, data)


def person_joined(company_id: str, n: int, people_per_company: int) -> Fact:
    """The n-th person of the benchmark: the first of each company its admin, the last an English speaker."""
    person_id = str(uuid.uuid4())
    person = {
        "id": person_id,
        "company_id": company_id,
        "given_name": f"Persona{n}",
        "family_name": "Bertolucci",
        "email": f"persona{n}.{person_id[:8]}@example.com",
        "language": "en" if n % people_per_company == 2 else "it",
        "role": Role.COMPANY_ADMIN if n % people_per_company == 0 else Role.COMPANY_MEMBER,
        "job_title": None,
    }
    data = {"person_id": person_id, "person": person}
    return Fact(topics.MEMBERS_PEOPLE, "/filiera/members", "members.person.joined", person_id, data)


def funding_call() -> dict[str, Any]:
    """A call as funding.match.found carries it."""
    now = datetime.now(UTC).replace(microsecond=0)
    return {
        "id": str(uuid.uuid4()),
        "source": "incentivi_gov_it",
        "external_id": "bench-fanout",
        "title_it": "Transizione 5.0: investimenti in digitalizzazione ed efficienza energetica",
        "title_en": "Transition 5.0: investments in digitalisation and energy efficiency",
        "programme": "MIMIT",
        "status": "open",
        "opens_at": instant(now - timedelta(days=3)),
        "deadlines": [instant(now + timedelta(days=60))],
        "budget_eur": 6_300_000_000,
        "url": "https://www.incentivi.gov.it/it/catalogo/transizione-50",
    }


def match_found(call: dict[str, Any], company_id: str) -> Fact:
    data = {
        "call_id": call["id"],
        "company_id": company_id,
        "score": 80,
        "reasons": ["settore 15.20 (calzature)", "PMI", "Toscana"],
        "call": call,
    }
    return Fact(topics.FUNDING_MATCHES, "/filiera/funding", "funding.match.found", company_id, data)


def event_published(n: int) -> Fact:
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=10 + n % 300)
    event_id = str(uuid.uuid4())
    event = {
        "id": event_id,
        "title_it": f"Fiera MICAM Milano: visita collettiva {n}",
        "title_en": f"MICAM Milano visit {n}",
        "event_type": "trade_fair",
        "status": "published",
        "audience": "public",
        "starts_at": instant(starts),
        "ends_at": instant(starts + timedelta(hours=8)),
        "time_zone": "Europe/Rome",
        "venue": "Fiera Milano, Rho",
        "online_url": None,
        "organiser_company_id": None,
        "capacity": 40,
        "tags": ["fiera"],
    }
    data = {"event_id": event_id, "event": event}
    return Fact(topics.EVENTS_EVENTS, "/filiera/events", "events.event.published", event_id, data)
