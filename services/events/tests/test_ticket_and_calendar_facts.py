"""What registration and event facts carry for the emails that follow: the ticket's check-in code, a guest's
language, and the calendar UID and SEQUENCE that let a calendar replace or cancel the entry it holds."""

from __future__ import annotations

from typing import Any

import jsonschema

from services.events.tests.conftest import STAFF, EventsApi
from tests.support.infrastructure import KafkaReader


async def _facts_of(
    kafka_reader: KafkaReader, topic: str, event_id: str, fact_type: str, count: int = 1
) -> list[dict[str, Any]]:
    """The event's facts of `fact_type` on `topic`, in order, once `count` of them arrived."""
    facts = await kafka_reader.read(
        topic, lambda fs: sum(f["subject"] == event_id and f["type"] == fact_type for f in fs) >= count
    )
    return [f for f in facts if f["subject"] == event_id and f["type"] == fact_type]


async def _conforms(events: EventsApi, fact: dict[str, Any]) -> None:
    jsonschema.validate(fact["data"], (await events.client.get(fact["dataschema"])).json())


async def test_a_confirmation_carries_the_check_in_code_and_the_event_s_calendar_entry(
    events: EventsApi, kafka_reader: KafkaReader
) -> None:
    event = await events.published_event()
    giulia = await events.member()
    registered = (
        await events.client.post(f"/events/{event['id']}/registrations", headers=giulia.headers, json={})
    ).json()

    [confirmed] = await _facts_of(kafka_reader, "events.registrations.v1", event["id"], "events.registration.confirmed")

    assert confirmed["data"]["registration"]["check_in_code"] == registered["checkin_token"]
    assert confirmed["data"]["registration"]["language"] is None  # a member: written to in their own language
    assert confirmed["data"]["event"]["calendar_uid"] == f"{event['id']}@filiera"
    assert confirmed["data"]["event"]["calendar_sequence"] == 0
    ics = await events.client.get(f"/events/{event['id']}.ics")
    assert f"UID:{event['id']}@filiera" in ics.text  # the entry the confirmation's calendar file replaces
    await _conforms(events, confirmed)


async def test_a_guest_is_confirmed_in_the_language_they_chose(events: EventsApi, kafka_reader: KafkaReader) -> None:
    event = await events.published_event(audience="public")
    guest = {"name": "Anna Weber", "company": "Schuhhaus Weber GmbH", "email": "anna@example.com", "language": "en"}
    english = await events.client.post(f"/events/{event['id']}/registrations", json={"guest": guest})
    unsaid = {"name": "Piero Neri", "email": "piero@example.com"}
    italian = await events.client.post(f"/events/{event['id']}/registrations", json={"guest": unsaid})
    assert (english.status_code, italian.status_code) == (201, 201)
    assert (english.json()["language"], italian.json()["language"]) == ("en", "it")
    unknown = await events.client.post(
        f"/events/{event['id']}/registrations",
        json={"guest": {"name": "Jan de Vries", "email": "jan@example.com", "language": "nl"}},
    )
    assert unknown.status_code == 422

    confirmed = await _facts_of(
        kafka_reader, "events.registrations.v1", event["id"], "events.registration.confirmed", count=2
    )

    by_address = {f["data"]["registration"]["email"]: f["data"]["registration"] for f in confirmed}
    assert by_address["anna@example.com"]["language"] == "en"
    assert by_address["anna@example.com"]["check_in_code"] == english.json()["checkin_token"]
    assert by_address["piero@example.com"]["language"] == "it"


async def test_a_cancelled_registration_carries_a_cancel_above_every_revision_of_the_entry(
    events: EventsApi, kafka_reader: KafkaReader
) -> None:
    event = await events.published_event()
    giulia = await events.member()
    registered = (
        await events.client.post(f"/events/{event['id']}/registrations", headers=giulia.headers, json={})
    ).json()
    path = f"/events/{event['id']}"
    await events.client.patch(path, headers=STAFF, json={"description_it": "Con pausa pranzo."})  # not shown
    await events.client.patch(path, headers=STAFF, json={"venue": "Sala conferenze, Lucca", "capacity": 30})

    cancelled = await events.client.post(f"/registrations/{registered['id']}/cancel", headers=giulia.headers)
    assert cancelled.status_code == 200, cancelled.text

    updated = await _facts_of(kafka_reader, "events.events.v1", event["id"], "events.event.updated", count=2)
    assert [f["data"]["event"]["calendar_sequence"] for f in updated] == [0, 1]
    [fact] = await _facts_of(kafka_reader, "events.registrations.v1", event["id"], "events.registration.cancelled")
    assert fact["data"]["event"]["calendar_sequence"] == 1
    assert fact["data"]["calendar"] == {"uid": f"{event['id']}@filiera", "sequence": 2}
    assert fact["data"]["registration"]["check_in_code"] == registered["checkin_token"]
    await _conforms(events, fact)


async def test_cancelling_the_event_revises_its_calendar_entry(events: EventsApi, kafka_reader: KafkaReader) -> None:
    event = await events.published_event()
    await events.client.patch(f"/events/{event['id']}", headers=STAFF, json={"title_en": "3D pattern making"})
    await events.client.post(f"/events/{event['id']}/cancel", headers=STAFF)

    [fact] = await _facts_of(kafka_reader, "events.events.v1", event["id"], "events.event.cancelled")

    assert fact["data"]["event"]["calendar_sequence"] == 2
    assert fact["data"]["event"]["calendar_uid"] == f"{event['id']}@filiera"
    await _conforms(events, fact)
