"""A person's own registrations as the web client's "My registrations" shows them: the list with each event, one
registration with its check-in code, and the ticket's QR code."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import segno

from services.events.tests.conftest import STAFF, EventsApi, events_service
from shared.membership import Role
from tests.support.clock import MovableClock


def _qr_of(code: str) -> str:
    """The QR code of `code` as the door's scanner reads it, drawn here on its own."""
    image = io.BytesIO()
    segno.make_qr(code, error="m").save(image, kind="svg", scale=8, border=2)
    return image.getvalue().decode()


async def test_a_member_lists_their_registrations_with_each_event_soonest_first(events: EventsApi) -> None:
    soon_starts = datetime.now(UTC) + timedelta(days=3)
    later = await events.published_event(capacity=5, venue="Fiera di Milano, Rho")
    full = await events.published_event(
        capacity=1,
        title_it="Incontri B2B con buyer tedeschi",
        title_en="B2B meetings with German buyers",
        starts_at=soon_starts.isoformat(),
        ends_at=(soon_starts + timedelta(hours=3)).isoformat(),
    )
    giulia, marco = await events.member(), await events.member(name=("Marco", "Pieroni"))
    await events.client.post(f"/events/{full['id']}/registrations", headers=marco.headers, json={})
    waiting = await events.client.post(f"/events/{full['id']}/registrations", headers=giulia.headers, json={})
    seated = await events.client.post(f"/events/{later['id']}/registrations", headers=giulia.headers, json={})

    mine = await events.client.get("/me/registrations", headers=giulia.headers)

    assert mine.status_code == 200, mine.text
    assert [r["id"] for r in mine.json()] == [waiting.json()["id"], seated.json()["id"]]
    first, second = mine.json()
    assert (first["status"], first["waitlist_position"], first["offer_expires_at"]) == ("waitlisted", 1, None)
    assert first["event"]["title_it"] == "Incontri B2B con buyer tedeschi"
    assert first["event"]["title_en"] == "B2B meetings with German buyers"
    assert datetime.fromisoformat(first["event"]["starts_at"]) == soon_starts
    assert datetime.fromisoformat(first["event"]["starts_at"]).utcoffset() in (timedelta(hours=1), timedelta(hours=2))
    assert second["status"] == "confirmed" and second["waitlist_position"] is None
    assert second["event"]["venue"] == "Fiera di Milano, Rho"
    assert {"id", "ends_at", "time_zone", "online_url", "status", "cancellation_deadline"} <= set(second["event"])
    assert "checkin_token" not in first  # the list names the registrations; each one's page shows its ticket


async def test_a_seat_offered_from_the_waitlist_shows_until_when_it_is_held(events: EventsApi) -> None:
    event = await events.published_event(capacity=1)
    first, second = await events.member(), await events.member()
    seat = (await events.client.post(f"/events/{event['id']}/registrations", headers=first.headers, json={})).json()
    await events.client.post(f"/events/{event['id']}/registrations", headers=second.headers, json={})
    await events.client.post(f"/registrations/{seat['id']}/cancel", headers=first.headers)

    [offered] = (await events.client.get("/me/registrations", headers=second.headers)).json()
    assert offered["status"] == "offered"
    expires = datetime.fromisoformat(offered["offer_expires_at"])
    assert timedelta(hours=23) < expires - datetime.now(UTC) <= timedelta(hours=24)


async def test_upcoming_leaves_out_the_events_that_have_ended(database_url: str, kafka_bootstrap: str) -> None:
    clock = MovableClock()
    async with events_service(database_url, kafka_bootstrap, clock=clock) as events:
        event = await events.published_event()  # in ten days, for four hours
        giulia = await events.member()
        registered = await events.client.post(f"/events/{event['id']}/registrations", headers=giulia.headers, json={})
        upcoming = await events.client.get("/me/registrations", headers=giulia.headers, params={"upcoming": "true"})
        assert [r["id"] for r in upcoming.json()] == [registered.json()["id"]]

        clock.advance(timedelta(days=10, hours=5))  # the event is over

        ended = await events.client.get("/me/registrations", headers=giulia.headers, params={"upcoming": "true"})
        assert ended.status_code == 200 and ended.json() == []
        everything = await events.client.get("/me/registrations", headers=giulia.headers)
        assert [r["id"] for r in everything.json()] == [registered.json()["id"]]


async def test_the_registrant_sees_the_check_in_code_and_the_organising_company_s_admins_do_not(
    events: EventsApi,
) -> None:
    organiser = await events.member(role=Role.COMPANY_ADMIN)
    event = await events.published_event(headers=organiser.headers)
    giulia = await events.member()
    registered = (
        await events.client.post(f"/events/{event['id']}/registrations", headers=giulia.headers, json={})
    ).json()
    path = f"/registrations/{registered['id']}"

    own = await events.client.get(path, headers=giulia.headers)
    assert own.status_code == 200, own.text
    assert own.json()["checkin_token"] == registered["checkin_token"]
    assert own.json()["event"]["id"] == event["id"] and own.json()["event"]["title_it"] == event["title_it"]
    assert own.json()["status"] == "confirmed"
    by_staff = await events.client.get(path, headers=STAFF)
    assert by_staff.json()["checkin_token"] == registered["checkin_token"]
    by_the_organiser = await events.client.get(path, headers=organiser.headers)
    assert by_the_organiser.status_code == 200 and by_the_organiser.json()["checkin_token"] is None
    assert by_the_organiser.json()["name"] == "Giulia Bertolucci"
    someone_else = await events.client.get(path, headers=(await events.member()).headers)
    assert someone_else.status_code == 403


async def test_the_ticket_is_the_qr_code_of_what_the_door_scans(events: EventsApi) -> None:
    event = await events.published_event()
    giulia = await events.member()
    registered = (
        await events.client.post(f"/events/{event['id']}/registrations", headers=giulia.headers, json={})
    ).json()
    path = f"/registrations/{registered['id']}/qr.svg"

    ticket = await events.client.get(path, headers=giulia.headers)

    assert ticket.status_code == 200 and ticket.headers["content-type"] == "image/svg+xml"
    assert ticket.headers["cache-control"] == "private, no-store"
    assert ticket.text == _qr_of(registered["checkin_token"])
    assert (await events.client.get(path, headers=STAFF)).text == ticket.text
    assert (await events.client.get(path, headers=(await events.member()).headers)).status_code == 403
    assert (await events.client.get(path)).status_code == 401
    scanned = await events.client.post("/check-in", headers=STAFF, json={"token": registered["checkin_token"]})
    assert scanned.status_code == 200 and scanned.json()["registration_id"] == registered["id"]


async def test_no_ticket_is_shown_for_a_registration_without_a_confirmed_seat(events: EventsApi) -> None:
    event = await events.published_event(capacity=1)
    first, second = await events.member(), await events.member()
    seat = (await events.client.post(f"/events/{event['id']}/registrations", headers=first.headers, json={})).json()
    waiting = (await events.client.post(f"/events/{event['id']}/registrations", headers=second.headers, json={})).json()

    refused = await events.client.get(f"/registrations/{waiting['id']}/qr.svg", headers=second.headers)
    assert refused.status_code == 409
    assert refused.json()["detail"] == "the registration is waitlisted: there is no ticket to show"

    await events.client.post(f"/registrations/{seat['id']}/cancel", headers=first.headers)
    cancelled = await events.client.get(f"/registrations/{seat['id']}/qr.svg", headers=first.headers)
    assert cancelled.status_code == 409 and "cancelled" in cancelled.json()["detail"]
