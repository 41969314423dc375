"""Registrations: seats while they last, then the waitlist in order of arrival; never one seat too many."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from conftest import KafkaReader
from services.events.tests.conftest import STAFF, EventsApi


async def test_a_member_registers_and_partners_read_the_confirmation(events: EventsApi,
                                                                      kafka_reader: KafkaReader) -> None:
    event = await events.published_event(capacity=2)
    giulia = await events.member()
    response = await events.client.post(f"/events/{event['id']}/registrations", headers=giulia.headers, json={})
    assert response.status_code == 201, response.text
    registration = response.json()
    assert registration["status"] == "confirmed"
    assert registration["name"] == "Giulia Bertolucci"
    assert registration["price_due_cents"] == 0
    assert len(registration["checkin_token"]) >= 24

    facts = await kafka_reader.read("events.registrations.v1",
                                    lambda fs: any(f["subject"] == event["id"] and f["type"] ==
                                                   "events.registration.confirmed" for f in fs))
    confirmed = [f for f in facts if f["subject"] == event["id"]][-1]
    assert confirmed["data"]["registration"]["person_id"] == giulia.id
    assert confirmed["_key"] == event["id"]


async def test_two_hundred_registrations_for_fifty_seats_never_overbook(events: EventsApi) -> None:
    event = await events.published_event(capacity=50, audience="public", price_other_cents=2500)
    guests = [{"guest": {"name": f"Buyer {n:03d}", "company": "Schuhhaus GmbH", "email": f"buyer{n}@example.com"}}
              for n in range(200)]

    responses = await asyncio.gather(*(events.client.post(f"/events/{event['id']}/registrations", json=guest)
                                       for guest in guests))

    assert [r.status_code for r in responses] == [201] * 200
    statuses = [r.json()["status"] for r in responses]
    assert statuses.count("confirmed") == 50
    assert statuses.count("waitlisted") == 150
    listed = await events.client.get(f"/events/{event['id']}/registrations", headers=STAFF)
    in_arrival_order = listed.json()
    # Seats went to the first fifty to arrive; the waitlist keeps the order of arrival.
    assert [r["status"] for r in in_arrival_order] == ["confirmed"] * 50 + ["waitlisted"] * 150
    assert [r["waitlist_position"] for r in in_arrival_order[50:]] == list(range(1, 151))
    summary = await events.client.get(f"/events/{event['id']}")
    assert summary.json()["seats_left"] == 0 and summary.json()["waiting"] == 150
