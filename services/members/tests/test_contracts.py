"""Partners subscribe without reading our code: the AsyncAPI document and one JSON Schema per event type."""

from __future__ import annotations

import jsonschema

from services.members.events import PUBLISHED_EVENTS
from services.members.tests.conftest import MembersApi
from tests.support.infrastructure import KafkaReader


async def test_the_asyncapi_document_lists_every_topic_members_publishes_on(members: MembersApi) -> None:
    document = (await members.client.get("/asyncapi.json")).json()
    assert document["asyncapi"].startswith("3.")
    addresses = {channel["address"] for channel in document["channels"].values()}
    public = {"members.companies.v1", "members.people.v1", "members.fees.v1", "members.governance.v1"}
    assert addresses == public | {"members.correspondence.v1"}  # the last for notifications only


async def test_every_event_type_has_a_schema(members: MembersApi) -> None:
    listing = (await members.client.get("/events/schemas")).json()
    assert {entry["type"] for entry in listing} == {event.event_type for event in PUBLISHED_EVENTS}
    missing = await members.client.get("/events/schemas/members.company.exploded.json")
    assert missing.status_code == 404


async def test_published_events_validate_against_their_schemas(members: MembersApi, kafka_reader: KafkaReader) -> None:
    company, _ = await members.active_company("owner@example.com")
    events = await kafka_reader.read(
        "members.companies.v1", lambda evs: sum(e["subject"] == company["id"] for e in evs) == 2
    )
    for event in (e for e in events if e["subject"] == company["id"]):
        schema = (await members.client.get(event["dataschema"])).json()
        jsonschema.validate(event["data"], schema)
