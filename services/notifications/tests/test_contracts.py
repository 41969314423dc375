"""Partners subscribe without reading our code; a malformed fact is dead-lettered, not fatal."""

from __future__ import annotations

import asyncio
import uuid

import jsonschema

from services.notifications.events import PUBLISHED_EVENTS
from services.notifications.handlers import TOPICS
from services.notifications.tests.conftest import NotificationsApi
from shared.topics import consumer_group
from tests.support.facts import publish_fact
from tests.support.infrastructure import KafkaReader


async def test_the_asyncapi_document_lists_what_notifications_publishes_and_reads(
    notifications: NotificationsApi,
) -> None:
    document = (await notifications.client.get("/asyncapi.json")).json()
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert {"notifications.deliveries.v1", *TOPICS} <= addresses
    listing = (await notifications.client.get("/events/schemas")).json()
    assert {entry["type"] for entry in listing} == {event.event_type for event in PUBLISHED_EVENTS}


async def test_delivery_outcomes_validate_against_their_schemas(
    notifications: NotificationsApi, kafka_reader: KafkaReader
) -> None:
    person = await notifications.person(await notifications.company())
    await notifications.mailbox.until_received(1, person.email)
    facts = await kafka_reader.read(
        "notifications.deliveries.v1",
        lambda found: sum(fact["data"].get("person_id") == person.id for fact in found) == 2,
    )
    mine = [fact for fact in facts if fact["data"].get("person_id") == person.id]
    assert sorted(fact["data"]["channel"] for fact in mine) == ["email", "in_app"]
    for fact in mine:
        assert fact["type"] == "notifications.message.sent"
        jsonschema.validate(fact["data"], (await notifications.client.get(fact["dataschema"])).json())


async def test_a_malformed_fact_goes_to_the_dead_letter_topic_and_the_next_is_applied(
    notifications: NotificationsApi, kafka_reader: KafkaReader
) -> None:
    broken = str(uuid.uuid4())
    await publish_fact(
        notifications.kafka_bootstrap,
        "members.people.v1",
        "members.person.joined",
        broken,
        {"person_id": broken, "person": {"id": broken}},
    )  # no name, no address
    await notifications.person(await notifications.company())  # a good fact after it is still applied

    dead = await kafka_reader.read(
        "members.people.v1.dlq",
        lambda found: any(
            fact.get("subject") == broken and fact["_headers"]["dlq_consumer"].startswith("notifications.")
            for fact in found
        ),
    )
    letter = next(
        fact
        for fact in dead
        if fact.get("subject") == broken and fact["_headers"]["dlq_consumer"].startswith("notifications.")
    )
    assert letter["_headers"]["dlq_consumer"] == "notifications.members-people"
    assert letter["_headers"]["dlq_reason"] == (
        "DeadLetter: not a person fact as members.people.v1 carries it: person.given_name: Field required"
    )


async def test_metrics_report_each_consumer_group_lag_and_the_outbox_backlog(notifications: NotificationsApi) -> None:
    await notifications.person(await notifications.company())
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        metrics = (await notifications.client.get("/metrics")).text
        lags = [line for line in metrics.splitlines() if line.startswith("filiera_consumer_lag{")]
        if any('consumer="notifications.members-people"' in line for line in lags):
            break
        assert asyncio.get_running_loop().time() < deadline, "no consumer lag reported"
        await asyncio.sleep(0.2)
    assert {f'consumer="{consumer_group("notifications", topic)}"' for topic in TOPICS} <= {
        line.split(",")[0].split("{")[1] for line in lags
    }
    assert "filiera_outbox_backlog " in metrics
