"""A registrant's seat as their mail program shows it: the confirmation carries the ticket's QR code, which the
door scans, and the event for the calendar; a cancelled registration takes the event out of that calendar again."""

from __future__ import annotations

import uuid
from email.message import EmailMessage

from icalendar import Calendar, Event

from services.notifications.tests.conftest import NotificationsApi, Person, plain_text
from services.notifications.tests.qr_pictures import modules_of
from services.notifications.tests.test_mail import qr_modules
from tests.support import partner_facts as facts
from tests.support.partner_facts import event_summary, registration_summary


async def confirmation_of(notifications: NotificationsApi, address: str, subject: str) -> EmailMessage:
    found = [mail for mail in notifications.mailbox.to(address) if mail["Subject"].startswith(subject)]
    while not found:
        await notifications.mailbox.until_received(len(notifications.mailbox.to(address)) + 1, address)
        found = [mail for mail in notifications.mailbox.to(address) if mail["Subject"].startswith(subject)]
    return found[0]


def parts(mail: EmailMessage, content_type: str) -> list[EmailMessage]:
    """The email's parts of a type, wherever they are nested (a QR code beside the HTML, an .ics beside both)."""
    return [part for part in mail.walk() if isinstance(part, EmailMessage) and part.get_content_type() == content_type]


def calendar_entry(mail: EmailMessage) -> tuple[Calendar, Event]:
    [part] = parts(mail, "text/calendar")
    calendar = Calendar.from_ical(part.get_content())
    [entry] = calendar.walk("VEVENT")
    assert isinstance(entry, Event)
    return calendar, entry


async def member(notifications: NotificationsApi) -> Person:
    person = await notifications.person(await notifications.company(), given_name="Sara")
    await notifications.mailbox.until_received(1, person.email)  # the welcome
    return person


async def test_the_confirmation_carries_the_ticket_the_door_scans(notifications: NotificationsApi) -> None:
    person = await member(notifications)
    event = event_summary(str(uuid.uuid4()))
    code = uuid.uuid4().hex
    registration = registration_summary(event["id"], person, check_in_code=code)
    await notifications.publish(facts.registration_confirmed(registration, event))

    mail = await confirmation_of(notifications, person.email, "Iscrizione confermata")
    [picture] = parts(mail, "image/png")
    assert picture.get_filename() == "biglietto.png"
    assert modules_of(picture.get_content()) == qr_modules(code), "the picture is the QR code of the check-in code"
    html = mail.get_body(("html",))
    assert html is not None
    assert f'src="cid:{picture["Content-ID"].strip("<>")}"' in html.get_content()
    assert f'alt="Codice QR del biglietto per «Corso di modellistica 3D», codice di ingresso {code}"' in (
        html.get_content()
    )
    text = plain_text(mail)
    assert f"Il tuo codice di ingresso: {code}" in text
    assert f"Vedi l'iscrizione: https://filiera.test/registrations/{registration['id']}" in text
    _calendar, entry = calendar_entry(mail)
    assert str(entry["UID"]) == event["calendar_uid"]


async def test_a_guest_is_confirmed_in_the_language_they_chose(notifications: NotificationsApi) -> None:
    event = event_summary(str(uuid.uuid4()), audience="public")
    guest = registration_summary(event["id"], None, guest_language="en") | {"email": f"{uuid.uuid4().hex}@example.org"}
    await notifications.publish(facts.registration_confirmed(guest, event))

    [mail] = await notifications.mailbox.until_received(1, guest["email"])
    assert mail["Subject"] == "Registration confirmed: 3D pattern making course"
    text = plain_text(mail)
    assert text.startswith("Hello Ospite,")
    assert f"Your check-in code: {guest['check_in_code']}" in text
    assert f"See the event: https://filiera.test/events/{event['id']}" in text, "a guest has no login"
    assert [part.get_filename() for part in [*parts(mail, "image/png"), *parts(mail, "text/calendar")]] == [
        "ticket.png",
        "event.ics",
    ]


async def test_a_confirmation_from_before_check_in_codes_has_no_picture(notifications: NotificationsApi) -> None:
    person = await member(notifications)
    event = event_summary(str(uuid.uuid4()))
    older = {key: value for key, value in registration_summary(event["id"], person).items() if key != "check_in_code"}
    await notifications.publish(facts.registration_confirmed(older, event))

    mail = await confirmation_of(notifications, person.email, "Iscrizione confermata")
    assert not parts(mail, "image/png") and len(parts(mail, "text/calendar")) == 1
    assert "codice di ingresso" not in plain_text(mail)


async def test_a_cancelled_registration_takes_the_event_out_of_the_calendar(notifications: NotificationsApi) -> None:
    person = await member(notifications)
    event = event_summary(str(uuid.uuid4()), calendar_sequence=1)  # moved once since it was announced
    registration = registration_summary(event["id"], person)
    await notifications.publish(facts.registration_confirmed(registration, event))
    cancelled = registration_summary(event["id"], person, "cancelled", registration_id=registration["id"])
    await notifications.publish(facts.registration_cancelled(cancelled, event))

    confirmation = await confirmation_of(notifications, person.email, "Iscrizione confermata")
    cancellation = await confirmation_of(notifications, person.email, "Iscrizione annullata")
    assert cancellation["Subject"] == "Iscrizione annullata: Corso di modellistica 3D"
    text = plain_text(cancellation)
    assert "è annullata" in text and "toglie l'evento dal tuo calendario" in text
    assert f"Vedi l'evento: https://filiera.test/events/{event['id']}" in text
    sent, added = calendar_entry(confirmation)
    cancel, removed = calendar_entry(cancellation)
    assert (str(sent["METHOD"]), str(cancel["METHOD"])) == ("PUBLISH", "CANCEL")
    [part] = parts(cancellation, "text/calendar")
    assert part.get_param("method") == "CANCEL"
    assert str(removed["UID"]) == str(added["UID"]) == event["calendar_uid"]
    assert (added["SEQUENCE"], removed["SEQUENCE"]) == (1, 2)
    assert str(removed["STATUS"]) == "CANCELLED"
    assert not parts(cancellation, "image/png"), "no ticket any more"
