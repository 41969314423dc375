"""Other services' facts as a partner would write them (tests/support/partner_facts.py, checked against the
published schemas), as the records a producer sends: the notifications benchmark feeds the service what members,
events and funding publish on their topics."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.membership import Role
from tests.support import partner_facts
from tests.support.partner_facts import PublishedFact

# A record as a producer sends it: topic, value, key.
Record = tuple[str, bytes, bytes]


@dataclass(frozen=True)
class Fact:
    topic: str
    source: str  # the publishing service, as its CloudEvents name it
    type: str
    subject: str  # the aggregate's id, which is also the Kafka key
    data: dict[str, Any]

    @classmethod
    def of(cls, fact: PublishedFact) -> Fact:
        return cls(fact.topic, fact.source, fact.type, fact.subject, fact.data)

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
    company = partner_facts.company_profile(str(uuid.uuid4()), legal_name=f"Calzaturificio {n} S.r.l.")
    return Fact.of(partner_facts.company_approved(company))


def person_joined(company_id: str, n: int, people_per_company: int) -> Fact:
    """The n-th person of the benchmark: the first of each company its admin, the last an English speaker."""
    person_id = str(uuid.uuid4())
    email = f"persona{n}.{person_id[:8]}@example.com"
    language = "en" if n % people_per_company == 2 else "it"
    role = Role.COMPANY_ADMIN if n % people_per_company == 0 else Role.COMPANY_MEMBER
    return Fact.of(partner_facts.person_joined(person_id, company_id, f"Persona{n}", email, language, role))


def funding_call() -> dict[str, Any]:
    """A call as funding.match.found carries it."""
    return partner_facts.call_summary(
        title_en="Transition 5.0: investments in digitalisation and energy efficiency",
        title_it="Transizione 5.0: investimenti in digitalizzazione ed efficienza energetica",
        source="incentivi_gov_it",
        deadlines=[datetime.now(UTC).replace(microsecond=0) + timedelta(days=60)],
    )


def match_found(call: dict[str, Any], company_id: str) -> Fact:
    reasons = ["settore 15.20 (calzature)", "PMI", "Toscana"]
    return Fact.of(partner_facts.match_found(call, company_id, reasons, score=80))


def event_published(n: int) -> Fact:
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=10 + n % 300)
    event = partner_facts.event_summary(
        str(uuid.uuid4()),
        starts_at=starts,
        ends_at=starts + timedelta(hours=8),
        title_it=f"Fiera MICAM Milano: visita collettiva {n}",
        title_en=f"MICAM Milano visit {n}",
        event_type="trade_fair",
        audience="public",
        venue="Fiera Milano, Rho",
        capacity=40,
        tags=["fiera"],
    )
    return Fact.of(partner_facts.event_published(event))
