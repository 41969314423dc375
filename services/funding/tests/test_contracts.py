"""Partners subscribe without reading our code; a malformed fact from members is dead-lettered, not fatal."""

from __future__ import annotations

import uuid

import jsonschema

from services.funding.events import PUBLISHED_EVENTS
from services.funding.tests.conftest import FundingApi
from tests.support.facts import publish_fact
from tests.support.infrastructure import KafkaReader


async def test_the_asyncapi_document_lists_what_funding_publishes_and_reads(funding: FundingApi) -> None:
    document = (await funding.client.get("/asyncapi.json")).json()
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert {
        "funding.calls.v1",
        "funding.matches.v1",
        "funding.searches.v1",
        "members.companies.v1",
        "members.people.v1",
    } <= addresses
    listing = (await funding.client.get("/events/schemas")).json()
    assert {entry["type"] for entry in listing} == {event.event_type for event in PUBLISHED_EVENTS}


async def test_published_facts_validate_against_their_schemas(funding: FundingApi, kafka_reader: KafkaReader) -> None:
    company_id = await funding.company()
    call = await funding.create_call()
    calls = await kafka_reader.read("funding.calls.v1", lambda fs: any(f["subject"] == call["id"] for f in fs))
    matches = await kafka_reader.read("funding.matches.v1", lambda fs: any(f["subject"] == company_id for f in fs))
    checked = [f for f in calls if f["subject"] == call["id"]] + [f for f in matches if f["subject"] == company_id]
    assert {f["type"] for f in checked} == {"funding.call.published", "funding.match.found"}
    for fact in checked:
        schema = (await funding.client.get(fact["dataschema"])).json()
        jsonschema.validate(fact["data"], schema)


async def test_a_malformed_company_fact_goes_to_the_dead_letter_topic_and_the_next_is_applied(
    funding: FundingApi, kafka_reader: KafkaReader
) -> None:
    broken = str(uuid.uuid4())
    await publish_fact(
        funding.kafka_bootstrap, "members.companies.v1", "members.company.approved", broken, {"company_id": broken}
    )  # no "company": nothing to apply
    await funding.company()  # a good fact after it is still applied

    dead = await kafka_reader.read(
        "members.companies.v1.dlq",
        lambda fs: any(
            f.get("subject") == broken and f["_headers"]["dlq_consumer"] == "funding.members-companies" for f in fs
        ),
    )
    letter = next(
        f for f in dead if f.get("subject") == broken and f["_headers"]["dlq_consumer"] == "funding.members-companies"
    )
    assert letter["_headers"]["dlq_reason"] == (
        "DeadLetter: not a company as members.companies.v1 carries it: company: Input should be a valid dictionary or "
        "object to extract fields from"
    )
