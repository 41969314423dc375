"""Facts of the other services become messages: in the in-app inbox and by email, in the person's language,
once per fact, recipient and channel however often Kafka delivers the fact."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from icalendar import Calendar
from sqlmodel import select

from services.events.events import (
    EventCancelled,
    EventCompleted,
    EventUpdated,
    RegistrationCheckedIn,
    RegistrationConfirmed,
    RegistrationOffered,
    RegistrationWaitlisted,
)
from services.funding.events import CallClosingSoon, CallSummary, MatchFound, SearchMatched
from services.members.events import CompanyApplied, CompanyUpdated, FeeOverdue, PersonErased
from services.notifications.models import (
    ContactCompany,
    ContactPerson,
    KnownRegistration,
    Message,
    MessageStatus,
    Preference,
)
from services.notifications.tests.conftest import (
    STAFF,
    NotificationsApi,
    company_profile,
    event_summary,
    over_http,
    registration_summary,
)

EVENTS = "/filiera/events"
FUNDING = "/filiera/funding"


def call_summary(**overrides: Any) -> CallSummary:
    fields: dict[str, Any] = dict(
        id=str(uuid.uuid4()),
        source="eu_funding_tenders",
        external_id="SMP-COSME-2026-CLUSTER-01",
        title_it=None,
        title_en="Euroclusters for Europe's recovery",
        programme="Single Market Programme",
        status="open",
        opens_at=None,
        deadlines=[datetime.now(UTC) + timedelta(days=40)],
        budget_eur=2_000_000,
        url="https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/topic-details/x",
    )
    fields.update(overrides)
    return CallSummary(**fields)


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
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "Ciao Giulia" in text and "https://filiera.test/login" in text
    assert "Ciao Giulia" in html and 'href="https://filiera.test/login"' in html
    assert mail["List-Unsubscribe"] is None, "a welcome is transactional: no unsubscribe link"


async def test_a_fact_delivered_twice_writes_one_message_per_channel(notifications: NotificationsApi) -> None:
    company_id = await notifications.company()
    person = await notifications.person(company_id)
    staff = await notifications.person(None, role="network_admin", given_name="Sara")
    applied = CompanyApplied(company_id=company_id, company=company_profile(company_id, status="applied"))
    fact_id = str(uuid.uuid4())
    await notifications.tell(applied, event_id=fact_id)
    await notifications.tell(applied, event_id=fact_id)
    # A later fact about the same company, on the same partition: once it is applied, both copies were read.
    await notifications.tell(
        CompanyUpdated(
            company_id=company_id,
            changed=["legal_name"],
            company=company_profile(company_id, status="applied", legal_name="Marker S.r.l."),
        )
    )

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
    admin = await notifications.person(company_id, role="company_admin")
    await notifications.mailbox.until_received(1, admin.email)  # the welcome
    call = call_summary()
    await notifications.tell(
        MatchFound(
            call_id=call.id, company_id=company_id, score=80, call=call, reasons=["settore 15.20 (calzature)", "PMI"]
        ),
        source=FUNDING,
    )

    [*_, alert] = await notifications.mailbox.until_received(2, admin.email)
    assert alert["Subject"].strip() == "Un bando per Tomaificio Marlia S.n.c.: Euroclusters for Europe's recovery"
    assert "settore 15.20 (calzature); PMI" in alert.get_body(("plain",)).get_content()
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
    await notifications.tell(
        MatchFound(call_id=second.id, company_id=company_id, score=60, call=second, reasons=["PMI"]), source=FUNDING
    )
    inbox = await notifications.until_in_inbox(admin, 3)
    assert inbox[0]["title"].endswith("Digital Europe: SMEs going digital"), "still in the inbox"
    await asyncio.sleep(1.0)
    assert len(notifications.mailbox.to(admin.email)) == 2, "but no longer by email"


async def test_a_broken_unsubscribe_link_is_refused_with_a_reason(notifications: NotificationsApi) -> None:
    answer = await notifications.client.post("/unsubscribe", params={"token": "eyJhbGciOiJIUzI1NiJ9.e30.forged"})
    assert answer.status_code == 422
    assert "not valid" in answer.json()["detail"]


async def test_the_inbox_is_newest_first_paginated_with_an_unread_count(notifications: NotificationsApi) -> None:
    company_id = await notifications.company()
    person = await notifications.person(company_id)
    for number in range(3):
        call = call_summary(title_en=f"Call number {number}")
        await notifications.tell(
            MatchFound(call_id=call.id, company_id=company_id, score=50, call=call, reasons=["PMI"]), source=FUNDING
        )
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

    async def first_streamed_message() -> dict[str, Any]:
        async with (
            over_http(notifications.app) as url,
            httpx.AsyncClient(base_url=url) as client,
            client.stream("GET", "/inbox/stream", headers=person.headers) as stream,
        ):
            assert stream.headers["content-type"].startswith("text/event-stream")
            event = None
            async for line in stream.aiter_lines():
                if line.startswith("event: "):
                    event = line.removeprefix("event: ")
                if line.startswith("data: ") and event == "message":
                    return json.loads(line.removeprefix("data: "))
        raise AssertionError("the stream ended")

    listening = asyncio.create_task(first_streamed_message())
    await asyncio.sleep(0.5)  # the welcome, older than the stream, is not pushed again
    await notifications.tell(
        MatchFound(call_id=call.id, company_id=company_id, score=50, call=call, reasons=["PMI"]), source=FUNDING
    )
    pushed = await asyncio.wait_for(listening, timeout=20)
    assert pushed["title"].endswith("Horizon Europe: circular leather")
    assert pushed["link"] == f"https://filiera.test/funding/calls/{call.id}"


async def test_a_confirmed_registration_brings_an_email_with_a_valid_ics(notifications: NotificationsApi) -> None:
    company_id = await notifications.company()
    person = await notifications.person(company_id)
    event = event_summary(str(uuid.uuid4()))
    registration = registration_summary(event.id, person)
    await notifications.tell(
        RegistrationConfirmed(
            event_id=event.id, registration_id=registration.id, registration=registration, event=event
        ),
        source=EVENTS,
    )

    received = await notifications.mailbox.until_received(2, person.email)  # with the welcome, in either order
    [confirmation] = [mail for mail in received if mail["Subject"].startswith("Iscrizione")]
    assert confirmation["Subject"] == "Iscrizione confermata: Corso di modellistica 3D"
    [attachment] = list(confirmation.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    calendar = Calendar.from_ical(attachment.get_content())
    [entry] = calendar.walk("VEVENT")
    assert entry.decoded("dtstart") == event.starts_at
    assert entry.decoded("dtend") == event.ends_at
    assert str(entry["uid"]) == f"{event.id}@filiera"
    assert str(entry["summary"]) == "Corso di modellistica 3D / 3D pattern making course"


async def test_registrants_hear_of_their_place_on_the_waitlist_and_of_a_seat_offered(
    notifications: NotificationsApi,
) -> None:
    company_id = await notifications.company()
    person = await notifications.person(company_id)
    event = event_summary(str(uuid.uuid4()))
    waiting = registration_summary(event.id, person, status="waitlisted")
    await notifications.tell(
        RegistrationWaitlisted(
            event_id=event.id, registration_id=waiting.id, registration=waiting, event=event, position=3
        ),
        source=EVENTS,
    )
    offer_until = event.starts_at - timedelta(days=2)
    offered = registration_summary(event.id, person, id=waiting.id, status="offered", offer_expires_at=offer_until)
    await notifications.tell(
        RegistrationOffered(event_id=event.id, registration_id=waiting.id, registration=offered, event=event),
        source=EVENTS,
    )

    offer, waitlisted, _welcome = await notifications.until_in_inbox(person, 3)
    assert "posizione 3" in waitlisted["body"]
    assert offer["title"] == "Si è liberato un posto: Corso di modellistica 3D"
    local = offer_until.astimezone(ZoneInfo("Europe/Rome"))
    assert f"ore {local:%H:%M}" in offer["body"]


async def test_a_guest_registered_by_address_only_gets_email(notifications: NotificationsApi) -> None:
    event = event_summary(str(uuid.uuid4()), audience="public")
    guest = registration_summary(event.id, None)
    await notifications.tell(
        RegistrationConfirmed(event_id=event.id, registration_id=guest.id, registration=guest, event=event),
        source=EVENTS,
    )
    [mail] = await notifications.mailbox.until_received(1, "ospite@example.org")
    assert "Ciao Ospite" in mail.get_body(("plain",)).get_content()
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
        registration = registration_summary(event.id, person, status=status)
        await notifications.tell(
            RegistrationCheckedIn(
                event_id=event.id, registration_id=registration.id, registration=registration, event=event
            ),
            source=EVENTS,
        )
    await registrations_known(notifications, event.id, 3)  # they come on another topic than the changes
    moved = event_summary(event.id, venue="Villa Reale di Marlia")
    await notifications.tell(EventUpdated(event_id=event.id, event=moved, changed=["venue", "capacity"]), source=EVENTS)
    await notifications.tell(EventUpdated(event_id=event.id, event=moved, changed=["capacity"]), source=EVENTS)
    await notifications.tell(
        EventCancelled(event_id=event.id, event=event_summary(event.id, status="cancelled")), source=EVENTS
    )

    for person in (going, waiting):
        cancelled, changed, _welcome = await notifications.until_in_inbox(person, 3)
        assert changed["title"] == "Evento modificato: Corso di modellistica 3D"
        assert "(luogo)" in changed["body"] and "Villa Reale di Marlia" in changed["body"]
        assert cancelled["title"] == "Evento annullato: Corso di modellistica 3D"
    await asyncio.sleep(1.0)
    assert (await notifications.inbox(gone))["total"] == 1, (
        "a capacity change alone, or a cancelled registration, brings nothing"
    )


async def test_attendees_of_a_training_course_are_asked_for_feedback(notifications: NotificationsApi) -> None:
    company_id = await notifications.company()
    came, stayed_home = [await notifications.person(company_id, given_name=name) for name in ("Dario", "Elena")]
    event = event_summary(str(uuid.uuid4()))
    for person, checked_in in ((came, True), (stayed_home, False)):
        registration = registration_summary(event.id, person, checked_in_at=event.starts_at if checked_in else None)
        await notifications.tell(
            RegistrationCheckedIn(
                event_id=event.id, registration_id=registration.id, registration=registration, event=event
            ),
            source=EVENTS,
        )
    await registrations_known(notifications, event.id, 2)
    await notifications.tell(
        EventCompleted(event_id=event.id, event=event_summary(event.id, status="completed")), source=EVENTS
    )

    feedback, _welcome = await notifications.until_in_inbox(came, 2)
    assert feedback["title"] == "Com'è andato il corso? Corso di modellistica 3D"
    assert feedback["link"] == f"https://filiera.test/events/{event.id}/feedback"
    await asyncio.sleep(1.0)
    assert (await notifications.inbox(stayed_home))["total"] == 1, "only those checked in at the door"


async def test_overdue_fees_go_to_the_company_admins(notifications: NotificationsApi) -> None:
    company_id = await notifications.company(legal_name="Pelletteria Segromigno S.r.l.")
    admin = await notifications.person(company_id, role="company_admin")
    member = await notifications.person(company_id, given_name="Piero")
    await notifications.tell(
        FeeOverdue(
            fee_id=str(uuid.uuid4()),
            company_id=company_id,
            year=2026,
            amount_cents=60_000,
            paid_cents=10_000,
            due_date=date(2026, 3, 31),
        )
    )

    overdue, _welcome = await notifications.until_in_inbox(admin, 2)
    assert overdue["title"] == "Quota associativa 2026 scaduta"
    assert "Restano da versare € 500,00 su € 600,00" in overdue["body"]
    await asyncio.sleep(1.0)
    assert (await notifications.inbox(member))["total"] == 1


async def test_saved_searches_and_closing_deadlines_reach_the_right_people(notifications: NotificationsApi) -> None:
    company_id = await notifications.company(legal_name="Calzaturificio Pieve S.p.A.")
    other_company = await notifications.company()
    searcher = await notifications.person(company_id)
    outsider = await notifications.person(other_company, given_name="Ugo")
    call = call_summary(title_it="Bando Toscana Innovazione 2027", source="incentivi_gov_it")
    await notifications.tell(
        SearchMatched(search_id=str(uuid.uuid4()), search_name="Innovazione Toscana", person_id=searcher.id, call=call),
        source=FUNDING,
    )
    deadline = call.deadlines[0]
    await notifications.tell(
        CallClosingSoon(call_id=call.id, call=call, deadline=deadline, days_before=3, company_ids=[company_id]),
        source=FUNDING,
    )

    # Two topics, two consumers: the two may arrive in either order.
    by_title = {item["title"]: item for item in await notifications.until_in_inbox(searcher, 3)}
    assert "Nuovo bando per la ricerca «Innovazione Toscana»: Bando Toscana Innovazione 2027" in by_title
    closing = by_title["Scade tra 3 giorni: Bando Toscana Innovazione 2027"]
    assert "Calzaturificio Pieve S.p.A." in closing["body"]
    await asyncio.sleep(1.0)
    assert (await notifications.inbox(outsider))["total"] == 1


async def test_erasure_deletes_the_person_messages_and_choices(notifications: NotificationsApi) -> None:
    company_id = await notifications.company()
    person = await notifications.person(company_id)
    await notifications.until_in_inbox(person, 1)
    chosen = await notifications.client.put(
        "/preferences/me/events/email", headers=person.headers, json={"enabled": False}
    )
    assert chosen.status_code == 200
    await notifications.tell(PersonErased(person_id=person.id, company_id=company_id))

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
