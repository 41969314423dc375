"""Registrations: seats while they last, then the waitlist in order of arrival; never one seat too many."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from services.events.tests.conftest import STAFF, EventsApi, events_service, eventually
from tests.support.clock import MovableClock
from tests.support.infrastructure import KafkaReader


async def test_a_member_registers_and_partners_read_the_confirmation(
    events: EventsApi, kafka_reader: KafkaReader
) -> None:
    event = await events.published_event(capacity=2)
    giulia = await events.member()
    response = await events.client.post(f"/events/{event['id']}/registrations", headers=giulia.headers, json={})
    assert response.status_code == 201, response.text
    registration = response.json()
    assert registration["status"] == "confirmed"
    assert registration["name"] == "Giulia Bertolucci"
    assert registration["price_due_cents"] == 0
    assert len(registration["checkin_token"]) >= 24

    facts = await kafka_reader.read(
        "events.registrations.v1",
        lambda fs: any(f["subject"] == event["id"] and f["type"] == "events.registration.confirmed" for f in fs),
    )
    confirmed = [f for f in facts if f["subject"] == event["id"]][-1]
    assert confirmed["data"]["registration"]["person_id"] == giulia.id
    assert confirmed["_key"] == event["id"]


async def test_two_hundred_registrations_for_fifty_seats_never_overbook(events: EventsApi) -> None:
    event = await events.published_event(capacity=50, audience="public", price_other_cents=2500)
    guests = [
        {"guest": {"name": f"Buyer {n:03d}", "company": "Schuhhaus GmbH", "email": f"buyer{n}@example.com"}}
        for n in range(200)
    ]

    responses = await asyncio.gather(
        *(events.client.post(f"/events/{event['id']}/registrations", json=guest) for guest in guests)
    )

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


async def test_a_freed_seat_is_offered_to_the_first_waiting_who_is_promoted_on_accepting(
    events: EventsApi, kafka_reader: KafkaReader
) -> None:
    event = await events.published_event(capacity=1)
    first, second, third = [await events.member() for _ in range(3)]
    seat = (await events.client.post(f"/events/{event['id']}/registrations", headers=first.headers, json={})).json()
    waiting = (await events.client.post(f"/events/{event['id']}/registrations", headers=second.headers, json={})).json()
    behind = (await events.client.post(f"/events/{event['id']}/registrations", headers=third.headers, json={})).json()
    assert (waiting["status"], waiting["waitlist_position"]) == ("waitlisted", 1)
    assert (behind["status"], behind["waitlist_position"]) == ("waitlisted", 2)

    cancelled = await events.client.post(f"/registrations/{seat['id']}/cancel", headers=first.headers)
    assert cancelled.json()["status"] == "cancelled"
    offered = (await events.client.get(f"/registrations/{waiting['id']}", headers=second.headers)).json()
    assert offered["status"] == "offered"
    expires = datetime.fromisoformat(offered["offer_expires_at"])
    assert timedelta(hours=23) < expires - datetime.now(UTC) <= timedelta(hours=24)
    assert (await events.client.get(f"/registrations/{behind['id']}", headers=third.headers)).json()[
        "waitlist_position"
    ] == 1

    someone_else = await events.client.post(f"/registrations/{waiting['id']}/accept-offer", headers=third.headers)
    assert someone_else.status_code == 403
    accepted = await events.client.post(f"/registrations/{waiting['id']}/accept-offer", headers=second.headers)
    assert accepted.status_code == 200 and accepted.json()["status"] == "confirmed"

    facts = await kafka_reader.read(
        "events.registrations.v1",
        lambda fs: any(
            f["data"]["registration_id"] == waiting["id"] and f["type"] == "events.registration.promoted" for f in fs
        ),
    )
    story = [f["type"] for f in facts if f["subject"] == event["id"]]
    assert story == [
        "events.registration.confirmed",
        "events.registration.waitlisted",
        "events.registration.waitlisted",
        "events.registration.cancelled",
        "events.registration.offered",
        "events.registration.promoted",
    ]


async def test_an_offer_not_taken_in_time_passes_to_the_next_in_line(database_url: str, kafka_bootstrap: str) -> None:
    clock = MovableClock()
    async with events_service(database_url, kafka_bootstrap, clock=clock, offer_hours=24) as events:
        event = await events.published_event(capacity=1)
        first, second, third = [await events.member() for _ in range(3)]
        seat = (await events.client.post(f"/events/{event['id']}/registrations", headers=first.headers, json={})).json()
        slow = (
            await events.client.post(f"/events/{event['id']}/registrations", headers=second.headers, json={})
        ).json()
        next_in_line = (
            await events.client.post(f"/events/{event['id']}/registrations", headers=third.headers, json={})
        ).json()
        await events.client.post(f"/registrations/{seat['id']}/cancel", headers=first.headers)
        offered = (await events.client.get(f"/registrations/{slow['id']}", headers=second.headers)).json()
        assert offered["status"] == "offered"

        clock.advance(timedelta(hours=24, minutes=1))  # the offer's day has passed

        async def offer_reached_the_next() -> bool:
            now = (await events.client.get(f"/registrations/{next_in_line['id']}", headers=third.headers)).json()
            return bool(now["status"] == "offered")

        await eventually(offer_reached_the_next)
        lapsed = await events.client.get(f"/registrations/{slow['id']}", headers=second.headers)
        assert lapsed.json()["status"] == "lapsed"
        too_late = await events.client.post(f"/registrations/{slow['id']}/accept-offer", headers=second.headers)
        assert too_late.status_code == 409
        assert "no open offer" in too_late.json()["detail"]


async def test_approval_events_hold_no_seat_until_the_organiser_decides(events: EventsApi) -> None:
    event = await events.published_event(capacity=1, requires_approval=True)
    giulia, marco = await events.member(), await events.member()
    pending = (await events.client.post(f"/events/{event['id']}/registrations", headers=giulia.headers, json={})).json()
    other = (await events.client.post(f"/events/{event['id']}/registrations", headers=marco.headers, json={})).json()
    assert pending["status"] == other["status"] == "pending"

    approved = await events.client.post(f"/registrations/{pending['id']}/approve", headers=STAFF)
    assert approved.json()["status"] == "confirmed"
    no_reason = await events.client.post(f"/registrations/{other['id']}/reject", headers=STAFF, json={})
    assert no_reason.status_code == 422
    rejected = await events.client.post(
        f"/registrations/{other['id']}/reject", headers=STAFF, json={"reason": "the course is for pattern makers"}
    )
    assert rejected.json()["status"] == "rejected"
    again = await events.client.post(f"/registrations/{other['id']}/approve", headers=STAFF)
    assert again.status_code == 409


async def test_a_company_cannot_take_more_seats_than_its_limit(events: EventsApi) -> None:
    event = await events.published_event(capacity=10, seats_per_company=2)
    company = await events.company()
    people = [await events.member(company) for _ in range(3)]
    answers = [
        await events.client.post(f"/events/{event['id']}/registrations", headers=p.headers, json={}) for p in people
    ]
    assert [a.status_code for a in answers] == [201, 201, 409]
    assert "limit 2" in answers[2].json()["detail"]


async def test_the_same_person_cannot_register_twice(events: EventsApi) -> None:
    event = await events.published_event()
    giulia = await events.member()
    await events.client.post(f"/events/{event['id']}/registrations", headers=giulia.headers, json={})
    second = await events.client.post(f"/events/{event['id']}/registrations", headers=giulia.headers, json={})
    assert second.status_code == 409
    assert second.json()["detail"] == "you are already registered for this event"


async def test_registration_outside_the_window_or_for_a_cancelled_event_is_refused(events: EventsApi) -> None:
    giulia = await events.member()
    opens = datetime.now(UTC) + timedelta(days=2)
    not_yet = await events.published_event(registration_opens_at=opens.isoformat())
    early = await events.client.post(f"/events/{not_yet['id']}/registrations", headers=giulia.headers, json={})
    assert early.status_code == 409 and "registrations open at" in early.json()["detail"]

    cancelled = await events.published_event()
    await events.client.post(f"/events/{cancelled['id']}/cancel", headers=STAFF)
    late = await events.client.post(f"/events/{cancelled['id']}/registrations", headers=giulia.headers, json={})
    assert late.status_code == 409
    assert late.json()["detail"] == "the event is cancelled: registrations are closed"


async def test_self_cancellation_ends_at_the_deadline(events: EventsApi) -> None:
    deadline_passed = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    event = await events.published_event(cancellation_deadline=deadline_passed)
    giulia = await events.member()
    registration = (
        await events.client.post(f"/events/{event['id']}/registrations", headers=giulia.headers, json={})
    ).json()
    refused = await events.client.post(f"/registrations/{registration['id']}/cancel", headers=giulia.headers)
    assert refused.status_code == 409 and "deadline has passed" in refused.json()["detail"]
    by_staff = await events.client.post(f"/registrations/{registration['id']}/cancel", headers=STAFF)
    assert by_staff.json()["status"] == "cancelled"


async def test_the_same_guest_sending_ten_registrations_at_once_gets_one(events: EventsApi) -> None:
    event = await events.published_event(audience="public")
    guest = {"guest": {"name": "Anna Schmidt", "company": "Schuhhaus", "email": "Anna@Example.com"}}
    answers = await asyncio.gather(
        *(events.client.post(f"/events/{event['id']}/registrations", json=guest) for _ in range(10))
    )
    assert sorted(a.status_code for a in answers) == [201] + [409] * 9
    assert {a.json()["detail"] for a in answers if a.status_code == 409} == {
        "anna@example.com is already registered for this event"
    }
    summary = (await events.client.get(f"/events/{event['id']}")).json()
    assert summary["seats_left"] == event["capacity"] - 1
