"""At the door and in people's calendars: QR check-in, attendance lists, iCalendar feeds, feedback."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from icalendar import Calendar

from services.events.tests.conftest import STAFF, EventsApi
from tests.support.infrastructure import KafkaReader


async def test_staff_scan_the_qr_code_once_and_a_second_scan_says_when(
    events: EventsApi, kafka_reader: KafkaReader
) -> None:
    event = await events.published_event()
    giulia = await events.member()
    registration = (
        await events.client.post(f"/events/{event['id']}/registrations", headers=giulia.headers, json={})
    ).json()
    qr = await events.client.get(f"/qr/{registration['checkin_token']}.svg")
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/svg+xml"
    assert qr.text.lstrip().startswith("<?xml") and "<svg" in qr.text

    by_a_member = await events.client.post(
        "/check-in", headers=giulia.headers, json={"token": registration["checkin_token"]}
    )
    assert by_a_member.status_code == 403
    first = await events.client.post("/check-in", headers=STAFF, json={"token": registration["checkin_token"]})
    assert first.status_code == 200 and first.json()["name"] == "Giulia Bertolucci"
    second = await events.client.post("/check-in", headers=STAFF, json={"token": registration["checkin_token"]})
    assert second.status_code == 409
    assert second.json()["detail"] == (
        f"Giulia Bertolucci is already checked in "
        f"(at {datetime.fromisoformat(first.json()['checked_in_at']).isoformat()})"
    )
    unknown = await events.client.post("/check-in", headers=STAFF, json={"token": "not-a-real-code-123"})
    assert unknown.status_code == 404

    await kafka_reader.read(
        "events.registrations.v1",
        lambda fs: any(
            f["type"] == "events.registration.checked_in" and f["data"]["registration_id"] == registration["id"]
            for f in fs
        ),
    )


async def test_a_waitlisted_person_cannot_be_checked_in(events: EventsApi) -> None:
    event = await events.published_event(capacity=1)
    first, second = await events.member(), await events.member()
    await events.client.post(f"/events/{event['id']}/registrations", headers=first.headers, json={})
    waiting = (await events.client.post(f"/events/{event['id']}/registrations", headers=second.headers, json={})).json()
    refused = await events.client.post("/check-in", headers=STAFF, json={"token": waiting["checkin_token"]})
    assert refused.status_code == 409 and "no confirmed seat" in refused.json()["detail"]


async def test_staff_download_the_attendance_list_as_csv(events: EventsApi) -> None:
    event = await events.published_event(audience="public")
    giulia = await events.member()
    mine = (await events.client.post(f"/events/{event['id']}/registrations", headers=giulia.headers, json={})).json()
    await events.client.post(
        f"/events/{event['id']}/registrations",
        json={"guest": {"name": "Anna Schmidt", "company": "Schuhhaus", "email": "a@example.com"}},
    )
    await events.client.post("/check-in", headers=STAFF, json={"token": mine["checkin_token"]})
    response = await events.client.get(f"/events/{event['id']}/attendance.csv", headers=STAFF)
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["name"], r["guest_company"], bool(r["checked_in_at"])) for r in rows] == [
        ("Giulia Bertolucci", "", True),
        ("Anna Schmidt", "Schuhhaus", False),
    ]
    assert (await events.client.get(f"/events/{event['id']}/attendance.csv", headers=giulia.headers)).status_code == 403


def parse_calendar(body: bytes) -> Calendar:
    calendar = Calendar.from_ical(body)
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    return calendar


async def test_each_event_the_public_feed_and_a_private_feed_are_valid_icalendar(events: EventsApi) -> None:
    fair = await events.published_event(
        title_it="Lineapelle",
        title_en="Lineapelle",
        event_type="trade_fair",
        starts_at="2027-02-24T09:00:00",
        ends_at="2027-02-26T18:00:00",
    )
    course = await events.published_event(title_it="Sicurezza sul lavoro")
    draft = (
        await events.client.post(
            "/events",
            headers=STAFF,
            json={
                "title_it": "Bozza",
                "event_type": "webinar",
                "starts_at": "2027-05-01T10:00:00",
                "ends_at": "2027-05-01T11:00:00",
                "capacity": 10,
            },
        )
    ).json()

    one = await events.client.get(f"/events/{fair['id']}.ics")
    assert one.headers["content-type"].startswith("text/calendar")
    [entry] = parse_calendar(one.content).walk("VEVENT")
    assert str(entry["SUMMARY"]) == "Lineapelle / Lineapelle"
    assert entry.decoded("DTSTART").isoformat() == "2027-02-24T09:00:00+01:00"
    assert entry.decoded("DTSTART").tzinfo.key == "Europe/Rome"
    assert str(entry["UID"]) == f"{fair['id']}@filiera"
    assert entry.decoded("SEQUENCE") == 0
    moved = {"starts_at": "2027-02-25T09:00:00", "ends_at": "2027-02-26T18:00:00"}
    assert (await events.client.patch(f"/events/{fair['id']}", headers=STAFF, json=moved)).status_code == 200
    [entry] = parse_calendar((await events.client.get(f"/events/{fair['id']}.ics")).content).walk("VEVENT")
    assert entry.decoded("SEQUENCE") == 1, "a calendar that holds the fair takes the moved copy"

    feed = parse_calendar((await events.client.get("/calendar.ics")).content)
    uids = {str(e["UID"]) for e in feed.walk("VEVENT")}
    assert {f"{fair['id']}@filiera", f"{course['id']}@filiera"} <= uids
    assert f"{draft['id']}@filiera" not in uids
    assert feed.walk("VTIMEZONE"), "times carry their zone definition"

    giulia = await events.member()
    await events.client.post(f"/events/{course['id']}/registrations", headers=giulia.headers, json={})
    link = (await events.client.get("/me/calendar", headers=giulia.headers)).json()["url"]
    assert link == (await events.client.get("/me/calendar", headers=giulia.headers)).json()["url"]  # stable
    private = await events.client.get(link.removeprefix(events.app.state.runtime.settings.public_url))
    assert [str(e["UID"]) for e in parse_calendar(private.content).walk("VEVENT")] == [f"{course['id']}@filiera"]
    assert (await events.client.get("/calendar/not-the-right-secret-at-all.ics")).status_code == 404


async def test_attendees_rate_once_and_staff_see_the_summary(events: EventsApi) -> None:
    started = datetime.now(UTC) + timedelta(minutes=1)
    course = await events.published_event(
        starts_at=started.isoformat(), ends_at=(started + timedelta(hours=2)).isoformat()
    )
    people = [await events.member() for _ in range(3)]
    tokens = []
    for person in people:
        tokens.append(
            (await events.client.post(f"/events/{course['id']}/registrations", headers=person.headers, json={})).json()[
                "checkin_token"
            ]
        )
    too_early = await events.client.post(
        f"/events/{course['id']}/feedback", headers=people[0].headers, json={"rating": 5}
    )
    assert too_early.status_code == 403  # not checked in yet
    for token in tokens[:2]:
        await events.client.post("/check-in", headers=STAFF, json={"token": token})
    await events.client.patch(
        f"/events/{course['id']}",
        headers=STAFF,
        json={"starts_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat()},
    )

    first = await events.client.post(
        f"/events/{course['id']}/feedback", headers=people[0].headers, json={"rating": 5, "comment": "Ottimo corso"}
    )
    assert first.status_code == 201, first.text
    twice = await events.client.post(f"/events/{course['id']}/feedback", headers=people[0].headers, json={"rating": 1})
    assert twice.status_code == 409
    out_of_range = await events.client.post(
        f"/events/{course['id']}/feedback", headers=people[1].headers, json={"rating": 6}
    )
    assert out_of_range.status_code == 422
    await events.client.post(f"/events/{course['id']}/feedback", headers=people[1].headers, json={"rating": 4})
    absent = await events.client.post(f"/events/{course['id']}/feedback", headers=people[2].headers, json={"rating": 1})
    assert absent.status_code == 403

    summary = (await events.client.get(f"/events/{course['id']}/feedback", headers=STAFF)).json()
    assert summary == {
        "responses": 2,
        "attendees": 2,
        "average_rating": 4.5,
        "ratings": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1},
        "comments": ["Ottimo corso"],
    }
