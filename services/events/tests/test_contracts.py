"""Partners subscribe without reading our code; a malformed fact from members is dead-lettered, not fatal."""

from __future__ import annotations

import uuid

import jsonschema

from services.events.events import PUBLISHED_EVENTS
from services.events.tests.conftest import EventsApi
from tests.support.infrastructure import KafkaReader

# Named by shared.topics.consumer_group (it was "events.member-companies" before one rule named them all).
CONSUMER = "events.members-companies"


async def test_the_asyncapi_document_lists_what_events_publishes_and_reads(events: EventsApi) -> None:
    document = (await events.client.get("/asyncapi.json")).json()
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert {"events.events.v1", "events.registrations.v1", "members.companies.v1", "members.people.v1"} <= addresses
    listing = (await events.client.get("/events/schemas")).json()
    assert {entry["type"] for entry in listing} == {event.event_type for event in PUBLISHED_EVENTS}


async def test_published_facts_validate_against_their_schemas(events: EventsApi, kafka_reader: KafkaReader) -> None:
    event = await events.published_event(capacity=1)
    first, second = await events.member(), await events.member()
    for person in (first, second):
        await events.client.post(f"/events/{event['id']}/registrations", headers=person.headers, json={})
    facts = await kafka_reader.read(
        "events.registrations.v1", lambda fs: sum(f["subject"] == event["id"] for f in fs) == 2
    )
    published = await kafka_reader.read("events.events.v1", lambda fs: any(f["subject"] == event["id"] for f in fs))
    for fact in [f for f in facts + published if f["subject"] == event["id"]]:
        schema = (await events.client.get(fact["dataschema"])).json()
        jsonschema.validate(fact["data"], schema)


async def test_a_malformed_company_fact_goes_to_the_dead_letter_topic_and_the_next_is_applied(
    events: EventsApi, kafka_reader: KafkaReader
) -> None:
    broken = str(uuid.uuid4())
    await events.tell_members_fact(
        "members.companies.v1", "members.company.approved", broken, {"company_id": broken}
    )  # no "company": nothing to apply
    await events.company()  # a good fact after it is still applied

    dead = await kafka_reader.read(
        "members.companies.v1.dlq",
        lambda fs: any(f.get("subject") == broken and f["_headers"]["dlq_consumer"] == CONSUMER for f in fs),
    )
    letter = next(f for f in dead if f.get("subject") == broken and f["_headers"]["dlq_consumer"] == CONSUMER)
    assert letter["_headers"]["dlq_reason"] == (
        "DeadLetter: not a company fact as members.companies.v1 carries it: company: Field required"
    )


async def test_a_company_fact_with_an_unknown_membership_status_is_dead_lettered(
    events: EventsApi, kafka_reader: KafkaReader
) -> None:
    odd = str(uuid.uuid4())
    await events.tell_members_fact(
        "members.companies.v1",
        "members.company.approved",
        odd,
        {"company_id": odd, "company": {"id": odd, "legal_name": "Tomaificio S.r.l.", "status": "dormant"}},
    )
    dead = await kafka_reader.read(
        "members.companies.v1.dlq",
        lambda fs: any(f.get("subject") == odd and f["_headers"]["dlq_consumer"] == CONSUMER for f in fs),
    )
    letter = next(f for f in dead if f.get("subject") == odd and f["_headers"]["dlq_consumer"] == CONSUMER)
    assert letter["_headers"]["dlq_reason"].startswith(
        "DeadLetter: not a company fact as members.companies.v1 carries it: company.status: Input should be "
        "'applied', 'active',"
    )
