"""Every fact these tests publish for another service is one that service could publish: each builder of facts.py
gives data that validates against the JSON Schema its publisher serves at `/events/schemas/<type>.json`, with no
field the schema does not name, on the topic the publisher lists for the type. The schemas are read from each
publisher's app in process, as a partner reads them over HTTP (the app is not started: no database, no Kafka)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import jsonschema
import pytest
from fastapi import FastAPI

from services.events.app import create_app as events_app
from services.events.settings import EventsSettings
from services.funding.app import create_app as funding_app
from services.funding.settings import FundingSettings
from services.members.app import create_app as members_app
from services.members.settings import MembersSettings
from shared.membership import MembershipStatus, Role
from tests.support import partner_facts as facts
from tests.support.partner_facts import PublishedFact

IN_MEMORY = "sqlite+aiosqlite://"  # never connected to: the apps are not started
PUBLISHERS: dict[str, Callable[[], FastAPI]] = {
    facts.MEMBERS: lambda: members_app(MembersSettings(database_url=IN_MEMORY)),
    facts.EVENTS: lambda: events_app(EventsSettings(database_url=IN_MEMORY)),
    facts.FUNDING: lambda: funding_app(FundingSettings(database_url=IN_MEMORY)),
}


@dataclass(frozen=True)
class Contract:
    topic: str
    schema: dict[str, Any]


@dataclass(frozen=True)
class SampleRegistrant:
    id: str
    company_id: str | None
    name: str
    email: str


def samples() -> list[PublishedFact]:
    """One fact from every builder, with the optional parts filled in where a builder has them."""
    company_id, person_id = str(uuid.uuid4()), str(uuid.uuid4())
    company = facts.company_profile(company_id, status=MembershipStatus.APPLIED)
    event = facts.event_summary(str(uuid.uuid4()))
    starts_at = datetime.fromisoformat(event["starts_at"])
    person = SampleRegistrant(person_id, company_id, "Giulia Bertolucci", "giulia@example.com")
    call = facts.call_summary(title_it="Bando Toscana Innovazione 2027")
    offered = facts.registration_summary(
        event["id"], person, status="offered", offer_expires_at=starts_at - timedelta(days=2)
    )
    return [
        facts.company_applied(company),
        facts.company_approved(facts.company_profile(company_id, public_listing=False)),
        facts.company_updated(company, changed=["legal_name"]),
        facts.person_joined(person_id, company_id, "Giulia", "giulia@example.com", "it", Role.COMPANY_ADMIN),
        facts.person_erased(person_id, company_id),
        facts.fee_overdue(company_id, 2026, 60_000, 10_000, date(2026, 3, 31)),
        facts.event_published(event),
        facts.event_updated(facts.event_summary(event["id"], venue="Villa Reale di Marlia"), changed=["venue"]),
        facts.event_cancelled(facts.event_summary(event["id"], status="cancelled")),
        facts.event_completed(facts.event_summary(event["id"], status="completed")),
        facts.registration_confirmed(facts.registration_summary(event["id"], person), event),
        facts.registration_confirmed(facts.registration_summary(event["id"], None), event),
        facts.registration_waitlisted(facts.registration_summary(event["id"], person, "waitlisted"), event, 3),
        facts.registration_offered(offered, event),
        facts.registration_checked_in(facts.registration_summary(event["id"], person, checked_in_at=starts_at), event),
        facts.registration_promoted(facts.registration_summary(event["id"], None, guest_language="en"), event),
        facts.registration_cancelled(facts.registration_summary(event["id"], person, "cancelled"), event),
        facts.match_found(call, company_id, ["PMI"]),
        facts.call_closing_soon(facts.call_summary(deadlines=[datetime.now(UTC) + timedelta(days=3)]), 3, [company_id]),
        facts.search_matched("Innovazione Toscana", person_id, call),
        facts.invitation_sent("luca@example.com", company_id, "Calzaturificio Lunata S.r.l.", "en"),
        facts.password_reset_requested(person_id, "giulia@example.com"),
        facts.application_decided(company_id, "Calzaturificio Lunata S.r.l.", "approved", "marco@example.com"),
        facts.application_decided(
            company_id, "Calzaturificio Lunata S.r.l.", "rejected", "marco@example.com", "en", "not a footwear firm"
        ),
    ]


@pytest.fixture(scope="module")
async def contracts() -> dict[tuple[str, str], Contract]:
    """(publisher, event type) -> the topic and JSON Schema its publisher serves for it."""
    served: dict[tuple[str, str], Contract] = {}
    for source, publisher in PUBLISHERS.items():
        transport = httpx.ASGITransport(app=publisher())
        async with httpx.AsyncClient(transport=transport, base_url="http://publisher") as client:
            listing = await client.get("/events/schemas")
            assert listing.status_code == 200, listing.text
            for entry in listing.json():
                schema = await client.get(entry["schema"])
                assert schema.status_code == 200, schema.text
                served[source, entry["type"]] = Contract(entry["topic"], schema.json())
    return served


@pytest.mark.parametrize("fact", samples(), ids=lambda fact: fact.type)
def test_each_built_fact_is_one_its_publisher_could_publish(
    fact: PublishedFact, contracts: dict[tuple[str, str], Contract]
) -> None:
    contract = contracts.get((fact.source, fact.type))
    assert contract is not None, f"{fact.source} does not publish {fact.type}"
    assert fact.topic == contract.topic
    jsonschema.validate(fact.data, contract.schema, format_checker=jsonschema.FormatChecker())
    assert unknown_fields(fact.data, contract.schema, contract.schema.get("$defs", {})) == []


def unknown_fields(instance: Any, schema: dict[str, Any], definitions: dict[str, Any], path: str = "") -> list[str]:
    """Fields of `instance` its schema does not name (a schema allows them; a publisher would not send them)."""
    if "$ref" in schema:
        return unknown_fields(instance, definitions[schema["$ref"].rsplit("/", 1)[-1]], definitions, path)
    if "anyOf" in schema:
        return min(
            (unknown_fields(instance, option, definitions, path) for option in schema["anyOf"]), key=len, default=[]
        )
    if isinstance(instance, dict) and "properties" in schema:
        properties = schema["properties"]
        return [f"{path}{name}" for name in instance if name not in properties] + [
            unknown
            for name, value in instance.items()
            if name in properties
            for unknown in unknown_fields(value, properties[name], definitions, f"{path}{name}.")
        ]
    if isinstance(instance, list) and "items" in schema:
        return [unknown for item in instance for unknown in unknown_fields(item, schema["items"], definitions, path)]
    return []
