"""Facts of the other services become messages: in the in-app inbox and by email, in the person's language,
once per fact, recipient and channel however often Kafka delivers the fact."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from icalendar import Calendar
from sqlmodel import select

from services.notifications.models import (
    ContactCompany,
    ContactPerson,
    KnownRegistration,
    Message,
    MessageStatus,
    Preference,
)
from services.notifications.tests.conftest import STAFF, NotificationsApi, over_http, plain_text
from shared.membership import MembershipStatus, Role
from tests.support import partner_facts as facts
from tests.support.partner_facts import call_summary, event_summary, registration_summary


async def registrations_known(api: NotificationsApi, event_id: str, count: int) -> None:
    async def known(session: Any) -> bool:
        return (
            len(list(await session.exec(select(KnownRegistration).where(KnownRegistration.event_id == event_id))))
            == count
        )

    await api.until(known)


async def test_a_new_person_is_welcomed_in_the_inbox_and_by_email_in_their_language(
    notifications: NotificationsApi,
) -> None:
    company_id = await notifications.company(legal_name="Suolificio Il Castagno S.r.l.")
    giulia = await notifications.person(company_id, language="it")
    john = await notifications.person(company_id, language="en", given_name="John")

    [welcome] = await notifications.until_in_inbox(giulia, 1)
    assert welcome["title"] == "Il tuo accesso a Filiera è pronto"
    assert "Suolificio Il Castagno S.r.l." in welcome["body"] and welcome["read_at"] is None
    [english] = await notifications.until_in_inbox(john, 1)
    assert english["title"] == "Your Filiera account is ready"

    [mail] = await notifications.mailbox.until_received(1, giulia.email)
    assert mail["Subject"] == "Il tuo accesso a Filiera è pronto"
    assert mail["Content-Language"] == "it"
    text = plain_text(mail)
    html_part = mail.get_body(("html",))
    assert html_part is not None
    html = html_part.get_content()
    assert "Ciao Giulia" in text and "https://filiera.test/login" in text
    assert "Ciao Giulia" in html and 'href="https://filiera.test/login"' in html
    assert mail["List-Unsubscribe"] is None, "a welcome is transactional: no unsubscribe link"


async def test_a_fact_delivered_twice_writes_one_message_per_channel(notifications: NotificationsApi) -> None:
    company_id = await notifications.company()
    person = await notifications.person(company_id)
    staff = await notifications.person(None, role=Role.NETWORK_ADMIN, given_name="Sara")
    applied = facts.company_applied(facts.company_profile(company_id, status=MembershipStatus.APPLIED))
    fact_id = str(uuid.uuid4())
    await notifications.publish(applied, event_id=fact_id)
    await notifications.publish(applied, event_id=fact_id)
    # A later fact about the same company, on the same partition: once it is applied, both copies were read.
    renamed = facts.company_profile(company_id, status=MembershipStatus.APPLIED, legal_name="Marker S.r.l.")
    await notifications.publish(facts.company_updated(renamed, changed=["legal_name"]))

    async def marker_applied(session: Any) -> bool:
        company = await session.get(ContactCompany, company_id)
        return company is not None and company.legal_name == "Marker S.r.l."

    await notifications.until(marker_applied)
    to_staff = await notifications.messages(source_event_id=fact_id)
    assert sorted(message.channel for message in to_staff) == ["email", "in_app"]
    assert {message.person_id for message in to_staff} == {staff.id}, "applications go to staff only"
    assert (await notifications.inbox(person))["total"] == 1  # only their welcome


async def test_a_funding_match_reaches_the_company_people_with_a_one_click_unsubscribe(
    notifications: NotificationsApi,
) -> None:
    company_id = await notifications.company(legal_name="Tomaificio Marlia S.n.c.")
    admin = await notifications.person(company_id, role=Role.COMPANY_ADMIN)
    await notifications.mailbox.until_received(1, admin.email)  # the welcome
    await notifications.publish(
        facts.match_found(call_summary(), company_id, ["settore 15.20 (calzature)", "PMI"], score=80)
    )

    [*_, alert] = await notifications.mailbox.until_received(2, admin.email)
    assert alert["Subject"].strip() == "Un bando per Tomaificio Marlia S.n.c.: Euroclusters for Europe's recovery"
    assert "settore 15.20 (calzature); PMI" in plain_text(alert)
    unsubscribe = alert["List-Unsubscribe"].strip("<>")
    assert alert["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe.startswith("http://notifications.test/unsubscribe?token=")

    clicked = await notifications.client.post(
        unsubscribe.removeprefix("http://notifications.test"), content="List-Unsubscribe=One-Click"
    )
    assert clicked.status_code == 200, clicked.text
    assert clicked.json()["categories"] == ["funding_alerts"]
    choices = (await notifications.client.get("/preferences/me", headers=admin.headers)).json()
    assert {
        "category": "funding_alerts",
        "channel": "email",
        "enabled": False,
        "frequency": "instant",
        "transactional": False,
    } in choices

    second = call_summary(title_en="Digital Europe: SMEs going digital")
    second_fact = await notifications.publish(facts.match_found(second, company_id, ["PMI"], score=60))
    inbox = await notifications.until_in_inbox(admin, 3)
    assert inbox[0]["title"].endswith("Digital Europe: SMEs going digital"), "still in the inbox"
    # A fact's messages on every channel are written together: with the in-app one there, no email was queued.
    assert [message.channel for message in await notifications.messages(source_event_id=second_fact)] == ["in_app"]
    assert len(notifications.mailbox.to(admin.email)) == 2, "but no longer by email"


async def test_a_broken_unsubscribe_link_is_refused_with_a_reason(notifications: NotificationsApi) -> None:
    answer = await notifications.client.post("/unsubscribe", params={"token": "eyJhbGciOiJIUzI1NiJ9.e30.forged"})
    assert answer.status_code == 422
    assert "not valid" in answer.json()["detail"]


async def test_the_inbox_is_newest_first_paginated_with_an_unread_count(notifications: NotificationsApi) -> None:
    company_id = await notifications.company()
    person = await notifications.person(company_id)
    for number in range(3):
        await notifications.publish(facts.match_found(call_summary(f"Call number {number}"), company_id, ["PMI"]))
    await notifications.until_in_inbox(person, 4)

    first_page = await notifications.inbox(person, page_size=2)
    assert first_page["total"] == 4 and len(first_page["items"]) == 2
    assert first_page["items"][0]["title"].endswith("Call number 2")
    unread = await notifications.client.get("/inbox/unread-count", headers=person.headers)
    assert unread.json() == {"unread": 4}

    read = await notifications.client.post(f"/inbox/{first_page['items'][0]['id']}/read", headers=person.headers)
    assert read.status_code == 200 and read.json()["read_at"] is not None
    assert (await notifications.inbox(person, unread_only=True))["total"] == 3
    everything = await notifications.client.post("/inbox/read-all", headers=person.headers)
    assert everything.json() == {"marked": 3}
    assert (await notifications.client.get("/inbox/unread-count", headers=person.headers)).json() == {"unread": 0}

    stranger = await notifications.person(company_id, given_name="Luca")
    foreign = await notifications.client.post(f"/inbox/{first_page['items'][1]['id']}/read", headers=stranger.headers)
    assert foreign.status_code == 404, "someone else's message is not in your inbox"


async def test_the_live_stream_pushes_new_messages_as_they_arrive(notifications: NotificationsApi) -> None:
    company_id = await notifications.company()
    person = await notifications.person(company_id)
    await notifications.until_in_inbox(person, 1)
    call = call_summary(title_en="Horizon Europe: circular leather")
    stream_open = asyncio.Event()

    async def first_streamed_message() -> dict[str, Any]:
        async with (
            over_http(notifications.app) as url,
            httpx.AsyncClient(base_url=url) as client,
            client.stream("GET", "/inbox/stream", headers=person.headers) as stream,
        ):
            assert stream.headers["content-type"].startswith("text/event-stream")
            stream_open.set()
            event = None
            async for line in stream.aiter_lines():
                if line.startswith("event: "):
                    event = line.removeprefix("event: ")
                if line.startswith("data: ") and event == "message":
                    pushed: dict[str, Any] = json.loads(line.removeprefix("data: "))
                    return pushed
        raise AssertionError("the stream ended")

    listening = asyncio.create_task(first_streamed_message())
    await asyncio.wait_for(stream_open.wait(), timeout=20)
    await notifications.publish(facts.match_found(call, company_id, ["PMI"]))
    pushed = await asyncio.wait_for(listening, timeout=20)  # the first pushed: the welcome, older, is not again
    assert pushed["title"].endswith("Horizon Europe: circular leather")
    assert pushed["link"] == f"https://filiera.test/funding/calls/{call['id']}"


async def test_a_confirmed_registration_brings_an_email_with_a_valid_ics(notifications: NotificationsApi) -> None:
    company_id = await notifications.company()
    person = await notifications.person(company_id)
    event = event_summary(str(uuid.uuid4()))
    await notifications.publish(facts.registration_confirmed(registration_summary(event["id"], person), event))

    received = await notifications.mailbox.until_received(2, person.email)  # with the welcome, in either order
    [confirmation] = [mail for mail in received if mail["Subject"].startswith("Iscrizione")]
    assert confirmation["Subject"] == "Iscrizione confermata: Corso di modellistica 3D"
    [attachment] = list(confirmation.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    calendar = Calendar.from_ical(attachment.get_content())
    [entry] = calendar.walk("VEVENT")
    assert entry.decoded("dtstart") == datetime.fromisoformat(event["starts_at"])
    assert entry.decoded("dtend") == datetime.fromisoformat(event["ends_at"])
    assert str(entry["uid"]) == f"{event['id']}@filiera"
    assert str(entry["summary"]) == "Corso di modellistica 3D / 3D pattern making course"


async def test_registrants_hear_of_their_place_on_the_waitlist_and_of_a_seat_offered(
    notifications: NotificationsApi,
) -> None:
    company_id = await notifications.company()
    person = await notifications.person(company_id)
    event = event_summary(str(uuid.uuid4()))
    waiting = registration_summary(event["id"], person, status="waitlisted")
    await notifications.publish(facts.registration_waitlisted(waiting, event, position=3))
    offer_until = datetime.fromisoformat(event["starts_at"]) - timedelta(days=2)
    offered = registration_summary(
        event["id"], person, status="offered", offer_expires_at=offer_until, registration_id=waiting["id"]
    )
    await notifications.publish(facts.registration_offered(offered, event))

    offer, waitlisted, _welcome = await notifications.until_in_inbox(person, 3)
    assert "posizione 3" in waitlisted["body"]
    assert offer["title"] == "Si è liberato un posto: Corso di modellistica 3D"
    local = offer_until.astimezone(ZoneInfo("Europe/Rome"))
    assert f"ore {local:%H:%M}" in offer["body"]


async def test_a_guest_registered_by_address_only_gets_email(notifications: NotificationsApi) -> None:
    event = event_summary(str(uuid.uuid4()), audience="public")
    await notifications.publish(facts.registration_confirmed(registration_summary(event["id"], None), event))
    [mail] = await notifications.mailbox.until_received(1, "ospite@example.org")
    assert "Ciao Ospite" in plain_text(mail)
    assert [message.channel for message in await notifications.messages(recipient="email:ospite@example.org")] == [
        "email"
    ]


async def test_changes_and_cancellation_reach_every_active_registrant_but_not_the_cancelled(
    notifications: NotificationsApi,
) -> None:
    company_id = await notifications.company()
    going, waiting, gone = [
        await notifications.person(company_id, given_name=name) for name in ("Anna", "Bruno", "Carla")
    ]
    event = event_summary(str(uuid.uuid4()))
    for person, status in ((going, "confirmed"), (waiting, "waitlisted"), (gone, "cancelled")):
        registration = registration_summary(event["id"], person, status=status)
        await notifications.publish(facts.registration_checked_in(registration, event))
    await registrations_known(notifications, event["id"], 3)  # they come on another topic than the changes
    moved = event_summary(event["id"], venue="Villa Reale di Marlia")
    await notifications.publish(facts.event_updated(moved, changed=["venue", "capacity"]))
    await notifications.publish(facts.event_updated(moved, changed=["capacity"]))
    await notifications.publish(facts.event_cancelled(event_summary(event["id"], status="cancelled")))

    # The cancellation is the last of the event's facts, on one partition: once the registrants have it, the
    # capacity change before it was handled too (and a message from it would be in their inboxes before it).
    for person in (going, waiting):
        cancelled, changed, _welcome = await notifications.until_in_inbox(person, 3)
        assert changed["title"] == "Evento modificato: Corso di modellistica 3D"
        assert "(luogo)" in changed["body"] and "Villa Reale di Marlia" in changed["body"]
        assert cancelled["title"] == "Evento annullato: Corso di modellistica 3D"
    assert (await notifications.inbox(gone))["total"] == 1, (
        "a capacity change alone, or a cancelled registration, brings nothing"
    )


async def test_attendees_of_a_training_course_are_asked_for_feedback(notifications: NotificationsApi) -> None:
    company_id = await notifications.company()
    came, stayed_home = [await notifications.person(company_id, given_name=name) for name in ("Dario", "Elena")]
    event = event_summary(str(uuid.uuid4()))
    starts_at = datetime.fromisoformat(event["starts_at"])
    for person, checked_in in ((came, True), (stayed_home, False)):
        registration = registration_summary(event["id"], person, checked_in_at=starts_at if checked_in else None)
        await notifications.publish(facts.registration_checked_in(registration, event))
    await registrations_known(notifications, event["id"], 2)
    await notifications.publish(facts.event_completed(event_summary(event["id"], status="completed")))

    feedback, _welcome = await notifications.until_in_inbox(came, 2)
    assert feedback["title"] == "Com'è andato il corso? Corso di modellistica 3D"
    assert feedback["link"] == f"https://filiera.test/events/{event['id']}", "the event's page, where the web asks"
    # Everyone's messages about a fact are written in one transaction: with Dario's there, Elena's would be too.
    assert (await notifications.inbox(stayed_home))["total"] == 1, "only those checked in at the door"


async def test_overdue_fees_go_to_the_company_admins(notifications: NotificationsApi) -> None:
    company_id = await notifications.company(legal_name="Pelletteria Segromigno S.r.l.")
    admin = await notifications.person(company_id, role=Role.COMPANY_ADMIN)
    member = await notifications.person(company_id, given_name="Piero")
    await notifications.publish(facts.fee_overdue(company_id, 2026, 60_000, 10_000, date(2026, 3, 31)))

    overdue, _welcome = await notifications.until_in_inbox(admin, 2)
    assert overdue["title"] == "Quota associativa 2026 scaduta"
    assert "Restano da versare € 500,00 su € 600,00" in overdue["body"]
    # Everyone's messages about a fact are written in one transaction: with the admin's there, Piero's would be too.
    assert (await notifications.inbox(member))["total"] == 1


async def test_saved_searches_and_closing_deadlines_reach_the_right_people(notifications: NotificationsApi) -> None:
    company_id = await notifications.company(legal_name="Calzaturificio Pieve S.p.A.")
    other_company = await notifications.company()
    searcher = await notifications.person(company_id)
    outsider = await notifications.person(other_company, given_name="Ugo")
    call = call_summary(title_it="Bando Toscana Innovazione 2027", source="incentivi_gov_it")
    await notifications.publish(facts.search_matched("Innovazione Toscana", searcher.id, call))
    await notifications.publish(facts.call_closing_soon(call, days_before=3, company_ids=[company_id]))

    # Two topics, two consumers: the two may arrive in either order. Each fact's messages to everyone are written
    # in one transaction: with both in the searcher's inbox, any to the outsider would be in theirs.
    by_title = {item["title"]: item for item in await notifications.until_in_inbox(searcher, 3)}
    assert "Nuovo bando per la ricerca «Innovazione Toscana»: Bando Toscana Innovazione 2027" in by_title
    closing = by_title["Scade tra 3 giorni: Bando Toscana Innovazione 2027"]
    assert "Calzaturificio Pieve S.p.A." in closing["body"]
    assert (await notifications.inbox(outsider))["total"] == 1


async def test_erasure_deletes_the_person_messages_and_choices(notifications: NotificationsApi) -> None:
    company_id = await notifications.company()
    person = await notifications.person(company_id)
    await notifications.until_in_inbox(person, 1)
    chosen = await notifications.client.put(
        "/preferences/me/events/email", headers=person.headers, json={"enabled": False}
    )
    assert chosen.status_code == 200
    await notifications.publish(facts.person_erased(person.id, company_id))

    async def forgotten(session: Any) -> bool:
        left = [
            *await session.exec(select(Message).where(Message.person_id == person.id)),
            *await session.exec(select(Preference).where(Preference.person_id == person.id)),
        ]
        return not left and await session.get(ContactPerson, person.id) is None

    await notifications.until(forgotten)


async def test_staff_see_every_message_and_what_became_of_it(notifications: NotificationsApi) -> None:
    company_id = await notifications.company()
    person = await notifications.person(company_id)
    await notifications.mailbox.until_received(1, person.email)

    async def recorded_as_sent(session: Any) -> bool:
        return all(
            message.status == MessageStatus.SENT
            for message in await session.exec(select(Message).where(Message.person_id == person.id))
        )

    await notifications.until(recorded_as_sent)
    log = await notifications.client.get("/deliveries", headers=STAFF, params={"channel": "email"})
    assert log.status_code == 200
    [entry] = [item for item in log.json()["items"] if item["person_id"] == person.id]
    assert entry["status"] == MessageStatus.SENT and entry["attempts"] == 1 and entry["kind"] == "welcome"
    assert (await notifications.client.get("/deliveries", headers=person.headers)).status_code == 403
