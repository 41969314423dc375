"""The email as it goes on the wire: what a mail program shows must be exactly what was written, whatever the
language, and the bytes must keep to the limits mail servers enforce."""

from __future__ import annotations

import email
import email.message
import email.policy
import re
from datetime import UTC, datetime
from typing import Any

import segno
from icalendar import Calendar

from services.notifications.calendars import cancellation_calendar, event_calendar
from services.notifications.domain import Category, Channel, Kind
from services.notifications.email_delivery import WIRE_POLICY, email_of
from services.notifications.models import KnownEvent, Message, MessageStatus
from services.notifications.rendering import Templates
from services.notifications.tests.qr_pictures import modules_of
from services.notifications.tests.test_domain import SAMPLES

CHECK_IN_CODE = "a3f09c27e1b44d6f9f0c5b2a8e7d1c33"
TITLE = "Un bando per il Calzaturificio Lucchese: credito d'imposta per ricerca, sviluppo e innovazione — scade presto"


def queued(**changes: Any) -> Message:
    fields: dict[str, Any] = dict(
        id="0192f0c2-1c1e-7d3a-9b1f-2f6d0a6c1e55",
        source_event_id="fact-1",
        kind=Kind.FUNDING_MATCH,
        channel=Channel.EMAIL,
        category=Category.FUNDING_ALERTS,
        person_id="person-1",
        address="giulia.bianchi@calzaturificio.example",
        language="it",
        title=TITLE,
        body="Ciao Giulia,\n\nc'è un bando che fa per voi. Perché? Più ricerca, più qualità.\n",
        html="<p>Ciao Giulia,</p><p>c'è un bando che fa per voi.</p>",
        created_at=datetime(2026, 11, 25, 9, 30, tzinfo=UTC),
        status=MessageStatus.QUEUED,
    )
    return Message(**{**fields, **changes})


def on_the_wire(message: Message, unsubscribe_url: str | None = None) -> bytes:
    return email_of(message, "Rete Filiera – Capannori <noreply@filiera.example>", unsubscribe_url).as_bytes(
        policy=WIRE_POLICY
    )


def text_of(read: email.message.EmailMessage, subtype: str) -> str:
    """A text part as a mail program shows it (lines travel as CRLF, MIME's canonical form)."""
    part = read.get_body((subtype,))
    assert part is not None, f"no {subtype} part"
    content: str = part.get_content()
    return content.replace("\r\n", "\n")


def test_what_the_reader_sees_is_what_was_written_in_any_language() -> None:
    read = email.message_from_bytes(on_the_wire(queued()), policy=email.policy.default)
    assert read["Subject"] == TITLE
    assert read["From"].addresses[0].display_name == "Rete Filiera – Capannori"
    assert read["To"] == "giulia.bianchi@calzaturificio.example"
    assert read["Content-Language"] == "it"
    assert read.get_content_type() == "multipart/alternative"
    assert text_of(read, "plain") == queued().body
    assert text_of(read, "html") == queued().html


def test_lines_keep_to_the_mail_limits() -> None:
    wire = on_the_wire(queued(), "https://filiera.example/unsubscribe?token=" + "x" * 400)
    lines = wire.split(b"\r\n")
    assert b"\n" not in b"".join(lines), "every line ends with CRLF"
    assert max(len(line) for line in lines) <= 998  # RFC 5322
    words = re.findall(rb"=\?utf-8\?b\?[^?]*\?=", wire)
    assert words and max(len(word) for word in words) <= 75  # RFC 2047: a long subject is several words


def test_the_calendar_travels_as_an_attachment_beside_the_text() -> None:
    ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:PUBLISH\r\nEND:VCALENDAR\r\n"
    read = email.message_from_bytes(on_the_wire(queued(calendar=ics, language="en")), policy=email.policy.default)
    assert read.get_content_type() == "multipart/mixed"
    [attachment] = read.iter_attachments()
    assert (attachment.get_content_type(), attachment.get_filename()) == ("text/calendar", "event.ics")
    assert attachment.get_param("method") == "PUBLISH"
    assert attachment.get_content().replace("\r\n", "\n") == ics.replace("\r\n", "\n")
    assert text_of(read, "plain") == queued().body


def test_one_click_unsubscribe_headers_only_when_there_is_a_link() -> None:
    read = email.message_from_bytes(
        on_the_wire(queued(), "https://filiera.example/unsubscribe?token=t"), policy=email.policy.default
    )
    assert read["List-Unsubscribe"] == "<https://filiera.example/unsubscribe?token=t>"
    assert read["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    plain = email.message_from_bytes(on_the_wire(queued()), policy=email.policy.default)
    assert "List-Unsubscribe" not in plain


def test_a_line_break_in_a_title_cannot_add_a_header() -> None:
    read = email.message_from_bytes(
        on_the_wire(queued(title="Bando\r\nBcc: tutti@example.com")), policy=email.policy.default
    )
    assert "Bcc" not in read
    assert read["Subject"] == "Bando Bcc: tutti@example.com"


def test_a_ticket_travels_as_a_qr_code_the_html_shows_and_the_door_scans() -> None:
    rendered = Templates().render(
        Kind.REGISTRATION_CONFIRMED,
        "en",
        {**SAMPLES[Kind.REGISTRATION_CONFIRMED], "recipient_name": "John", "check_in_code": CHECK_IN_CODE},
        "https://filiera.test/registrations/r-1",
        ticket=True,
    )
    ticket = queued(language="en", html=rendered.html, body=rendered.text, ticket_code=CHECK_IN_CODE)
    read = email.message_from_bytes(on_the_wire(ticket), policy=email.policy.default)
    assert read.get_content_type() == "multipart/related"
    assert read.get_param("type") == "multipart/alternative"
    [picture] = read.iter_attachments()
    assert (picture.get_content_type(), picture.get_filename()) == ("image/png", "ticket.png")
    assert modules_of(picture.get_content()) == qr_modules(CHECK_IN_CODE)
    html = text_of(read, "html")
    content_id = picture["Content-ID"].strip("<>")
    assert f'src="cid:{content_id}"' in html
    assert f'alt="QR code of your ticket for &#34;Corso di modellistica 3D&#34;, check-in code {CHECK_IN_CODE}"' in html
    assert f"Your check-in code: {CHECK_IN_CODE}" in text_of(read, "plain")


def test_without_a_check_in_code_the_confirmation_has_no_picture() -> None:
    context = {**SAMPLES[Kind.REGISTRATION_CONFIRMED], "recipient_name": "Giulia", "check_in_code": None}
    rendered = Templates().render(Kind.REGISTRATION_CONFIRMED, "it", context, "https://filiera.test/events/e-1")
    assert "cid:" not in rendered.html and "codice di ingresso" not in rendered.text
    read = email.message_from_bytes(on_the_wire(queued(html=rendered.html)), policy=email.policy.default)
    assert read.get_content_type() == "multipart/alternative"


def test_a_reply_to_the_email_reaches_whom_it_names() -> None:
    read = email.message_from_bytes(
        on_the_wire(queued(reply_to="anna.schmidt@schuhhaus.example\r\nBcc: x@example.com")),
        policy=email.policy.default,
    )
    assert "Bcc" not in read
    assert read["Reply-To"].addresses[0].addr_spec == "anna.schmidt@schuhhaus.example"
    assert "Reply-To" not in email.message_from_bytes(on_the_wire(queued()), policy=email.policy.default)


def test_a_cancelled_registration_cancels_the_calendar_entry_it_was_sent() -> None:
    event = known_event(calendar_sequence=2)
    sent = Calendar.from_ical(event_calendar(event, "https://filiera.test/events/e-1"))
    cancel = Calendar.from_ical(cancellation_calendar(event, "https://filiera.test/events/e-1", None, None))
    [entry], [cancelled] = sent.walk("VEVENT"), cancel.walk("VEVENT")
    assert (str(sent["METHOD"]), str(cancel["METHOD"])) == ("PUBLISH", "CANCEL")
    assert str(cancelled["UID"]) == str(entry["UID"]) == "e-1@filiera"
    assert (entry["SEQUENCE"], cancelled["SEQUENCE"]) == (2, 3)
    assert str(cancelled["STATUS"]) == "CANCELLED"
    told = Calendar.from_ical(cancellation_calendar(event, "https://filiera.test/events/e-1", "e-1@events", 7))
    [as_told] = told.walk("VEVENT")
    assert (str(as_told["UID"]), as_told["SEQUENCE"]) == ("e-1@events", 7), "as the cancelled registration says"

    read = email.message_from_bytes(
        on_the_wire(queued(calendar=cancel.to_ical().decode())), policy=email.policy.default
    )
    [attachment] = read.iter_attachments()
    assert attachment.get_param("method") == "CANCEL", "the MIME part repeats the calendar's method (RFC 6047)"


def known_event(**changes: Any) -> KnownEvent:
    fields: dict[str, Any] = dict(
        id="e-1",
        title_it="Corso di modellistica 3D",
        title_en="3D pattern making course",
        event_type="training",
        status="published",
        starts_at=datetime(2026, 12, 14, 8, 30, tzinfo=UTC),
        ends_at=datetime(2026, 12, 14, 12, 30, tzinfo=UTC),
        venue="Polo Tecnologico di Capannori",
        updated_at=datetime(2026, 12, 4, 9, 0, tzinfo=UTC),
    )
    return KnownEvent(**{**fields, **changes})


def qr_modules(content: str) -> list[list[bool]]:
    """The modules of the QR code of `content`, made afresh."""
    return [[bool(module) for module in row] for row in segno.make_qr(content, error="m").matrix]
