"""Events and their lifecycle, who may organise them, and what the members service's facts change here."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.events import store
from services.events.tests.conftest import STAFF, EventsApi, event_body, events_service
from shared.membership import MembershipStatus, Role
from shared.outbox import OutboxMessage
from tests.support.infrastructure import KafkaReader
from tests.support.tokens import bearer


async def test_staff_create_a_draft_publish_it_and_partners_read_the_facts(
    events: EventsApi, kafka_reader: KafkaReader
) -> None:
    created = await events.client.post(
        "/events",
        headers=STAFF,
        json=event_body(
            event_type="trade_fair",
            title_it="MICAM Milano",
            starts_at="2027-02-14T09:30:00",
            ends_at="2027-02-16T18:00:00",
        ),
    )
    assert created.status_code == 201, created.text
    draft = created.json()
    assert draft["status"] == "draft"
    assert draft["starts_at"] == "2027-02-14T09:30:00+01:00"  # read in the event's zone, Europe/Rome
    assert draft["venue"].startswith("Polo Tecnologico di Capannori")
    assert (await events.client.get(f"/events/{draft['id']}")).status_code == 404  # drafts are private
    assert draft["id"] not in [e["id"] for e in (await events.client.get("/events")).json()]

    await events.client.post(f"/events/{draft['id']}/publish", headers=STAFF)
    listed = (await events.client.get("/events", params={"type": "trade_fair"})).json()
    assert draft["id"] in [e["id"] for e in listed]
    cancelled = await events.client.post(f"/events/{draft['id']}/cancel", headers=STAFF)
    assert cancelled.json()["status"] == "cancelled"
    again = await events.client.post(f"/events/{draft['id']}/publish", headers=STAFF)
    assert again.status_code == 409 and again.json()["detail"] == "cannot publish an event that is cancelled"

    facts = await kafka_reader.read("events.events.v1", lambda fs: sum(f["subject"] == draft["id"] for f in fs) == 2)
    assert [f["type"] for f in facts if f["subject"] == draft["id"]] == [
        "events.event.published",
        "events.event.cancelled",
    ]


async def test_an_event_must_end_after_it_starts_and_close_registrations_before_it(events: EventsApi) -> None:
    backwards = await events.client.post(
        "/events",
        headers=STAFF,
        json=event_body(starts_at="2027-03-01T10:00:00+01:00", ends_at="2027-03-01T09:00:00+01:00"),
    )
    assert backwards.status_code == 422 and backwards.json()["detail"] == "the event must end after it starts"
    late_window = await events.client.post(
        "/events",
        headers=STAFF,
        json=event_body(
            starts_at="2027-03-01T10:00:00+01:00",
            ends_at="2027-03-01T12:00:00+01:00",
            registration_closes_at="2027-03-02T00:00:00+01:00",
        ),
    )
    assert late_window.status_code == 422
    unknown_zone = await events.client.post("/events", headers=STAFF, json=event_body(time_zone="Europe/Capannori"))
    assert unknown_zone.status_code == 422


async def test_capacity_cannot_drop_below_confirmed_seats_and_edits_keep_registrations(events: EventsApi) -> None:
    event = await events.published_event(capacity=3)
    people = [await events.member() for _ in range(2)]
    for person in people:
        await events.client.post(f"/events/{event['id']}/registrations", headers=person.headers, json={})
    too_small = await events.client.patch(f"/events/{event['id']}", headers=STAFF, json={"capacity": 1})
    assert too_small.status_code == 409
    assert too_small.json()["detail"] == "capacity 1 is below the 2 seats already confirmed or offered"

    moved = await events.client.patch(
        f"/events/{event['id']}", headers=STAFF, json={"venue": "Lucca, Real Collegio", "capacity": 2}
    )
    assert moved.status_code == 200 and moved.json()["seats_left"] == 0
    listed = (await events.client.get(f"/events/{event['id']}/registrations", headers=STAFF)).json()
    assert [r["status"] for r in listed] == ["confirmed", "confirmed"]


async def test_a_company_admin_organises_their_own_companys_events_only(events: EventsApi) -> None:
    company = await events.company()
    admin = bearer("11111111-1111-4111-8111-111111111111", role=Role.COMPANY_ADMIN, company_id=company)
    other_company = await events.company()
    mine = await events.client.post(
        "/events", headers=admin, json=event_body(event_type="company_event", title_it="Porte aperte in fabbrica")
    )
    assert mine.status_code == 201 and mine.json()["organiser_company_id"] == company
    theirs = await events.client.post("/events", headers=admin, json=event_body(organiser_company_id=other_company))
    assert theirs.status_code == 403
    member = bearer("22222222-2222-4222-8222-222222222222", role=Role.COMPANY_MEMBER, company_id=company)
    assert (await events.client.post("/events", headers=member, json=event_body())).status_code == 403
    staff_event = await events.published_event()
    assert (
        await events.client.patch(f"/events/{staff_event['id']}", headers=admin, json={"capacity": 5})
    ).status_code == 403


async def test_guests_register_for_public_events_only_and_pay_the_non_member_price(events: EventsApi) -> None:
    public = await events.published_event(audience="public", price_other_cents=4000)
    guest = {"guest": {"name": "Anna Schmidt", "company": "Schuhhaus Berlin", "email": "anna@example.com"}}
    registered = await events.client.post(f"/events/{public['id']}/registrations", json=guest)
    assert registered.status_code == 201 and registered.json()["price_due_cents"] == 4000
    twice = await events.client.post(f"/events/{public['id']}/registrations", json=guest)
    assert twice.status_code == 409

    members_only = await events.published_event()
    refused = await events.client.post(f"/events/{members_only['id']}/registrations", json=guest)
    assert refused.status_code == 403 and "log in" in refused.json()["detail"]


async def test_a_suspended_company_cannot_register_new_people(events: EventsApi) -> None:
    event = await events.published_event()
    company = await events.company()
    giulia = await events.member(company)
    await events.set_company_status(company, MembershipStatus.SUSPENDED)
    refused = await events.client.post(f"/events/{event['id']}/registrations", headers=giulia.headers, json={})
    assert refused.status_code == 403
    assert refused.json()["detail"] == "your company is not an active member of the network (suspended)"
    await events.set_company_status(company, MembershipStatus.ACTIVE)
    accepted = await events.client.post(f"/events/{event['id']}/registrations", headers=giulia.headers, json={})
    assert accepted.status_code == 201


async def test_someone_who_registers_before_members_tells_us_of_them_gets_their_name_when_it_arrives(
    events: EventsApi,
) -> None:
    event = await events.published_event()
    company = await events.company()
    person_id = str(uuid.uuid4())
    early = bearer(person_id, role=Role.COMPANY_MEMBER, company_id=company)
    registered = await events.client.post(f"/events/{event['id']}/registrations", headers=early, json={})
    assert registered.status_code == 201 and registered.json()["name"] == person_id  # all we know yet

    await events.tell_members_fact(
        "members.people.v1",
        "members.person.joined",
        person_id,
        {
            "person_id": person_id,
            "person": {
                "id": person_id,
                "company_id": company,
                "given_name": "Giulia",
                "family_name": "Bertolucci",
                "email": "giulia@example.com",
            },
        },
    )

    async def named(session: AsyncSession) -> bool:
        return (await store.get_registration(session, registered.json()["id"])).name == "Giulia Bertolucci"

    await events.until(named)
    listed = (await events.client.get(f"/events/{event['id']}/registrations", headers=STAFF)).json()
    assert [r["name"] for r in listed] == ["Giulia Bertolucci"]


async def test_an_erased_person_is_anonymised_and_the_counts_stay(events: EventsApi) -> None:
    event = await events.published_event(capacity=5)
    giulia = await events.member()
    registration = (
        await events.client.post(f"/events/{event['id']}/registrations", headers=giulia.headers, json={})
    ).json()
    await events.tell_members_fact(
        "members.people.v1",
        "members.person.erased",
        giulia.id,
        {"person_id": giulia.id, "company_id": giulia.company_id},
    )

    async def anonymised(session: AsyncSession) -> bool:
        return (await store.get_registration(session, registration["id"])).person_id is None

    await events.until(anonymised)
    listed = (await events.client.get(f"/events/{event['id']}/registrations", headers=STAFF)).json()
    assert [(r["name"], r["status"]) for r in listed] == [("(erased)", "confirmed")]
    assert (await events.client.get(f"/events/{event['id']}")).json()["seats_left"] == 4


async def test_reminders_go_out_once_a_day_before_the_start(events: EventsApi, kafka_reader: KafkaReader) -> None:
    soon = datetime.now(UTC) + timedelta(hours=3)
    event = await events.published_event(starts_at=soon.isoformat(), ends_at=(soon + timedelta(hours=2)).isoformat())
    later = await events.published_event()  # ten days away: no reminder yet
    facts = await kafka_reader.read(
        "events.events.v1",
        lambda fs: any(f["subject"] == event["id"] and f["type"] == "events.event.starting_soon" for f in fs),
    )
    await events.until(_reminder_sent_for(event["id"]))
    reminders = [f for f in facts if f["type"] == "events.event.starting_soon"]
    assert [f["subject"] for f in reminders].count(event["id"]) == 1
    assert later["id"] not in [f["subject"] for f in reminders]


def _reminder_sent_for(event_id: str) -> Callable[[AsyncSession], Awaitable[bool]]:
    async def sent(session: AsyncSession) -> bool:
        return (await store.get_event(session, event_id)).reminder_sent_at is not None

    return sent


async def test_a_restart_does_not_send_a_reminder_again(
    database_url: str, kafka_bootstrap: str, kafka_reader: KafkaReader
) -> None:
    soon = datetime.now(UTC) + timedelta(hours=1)
    async with events_service(database_url, kafka_bootstrap) as first_run:
        event = await first_run.published_event(
            starts_at=soon.isoformat(), ends_at=(soon + timedelta(hours=1)).isoformat()
        )
        await first_run.until(_reminder_sent_for(event["id"]))
    async with events_service(database_url, kafka_bootstrap) as second_run:
        # A marker: an event the restarted service must remind. The pass that reminds it would have reminded the
        # first event again too, had its mark not survived the restart (one query finds all events to remind).
        marker = await second_run.published_event(
            starts_at=soon.isoformat(), ends_at=(soon + timedelta(hours=1)).isoformat()
        )
        await second_run.until(_reminder_sent_for(marker["id"]))
        assert await _reminders_written(second_run, event["id"]) == 1
        # Read while the service runs: its relay puts the marker's reminder on Kafka.
        facts = await kafka_reader.read(
            "events.events.v1",
            lambda fs: any(f["subject"] == marker["id"] and f["type"] == "events.event.starting_soon" for f in fs),
        )
    reminders = [f for f in facts if f["type"] == "events.event.starting_soon" and f["subject"] == event["id"]]
    assert len(reminders) == 1


async def _reminders_written(events: EventsApi, event_id: str) -> int:
    async with events.app.state.runtime.sessions() as session:
        rows = (await session.exec(select(OutboxMessage).where(OutboxMessage.key == event_id))).all()
    return sum(json.loads(row.headers)["ce_type"] == "events.event.starting_soon" for row in rows)
