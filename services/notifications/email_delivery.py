"""Email delivery over SMTP: queued messages are built as multipart (plain text + HTML, the ticket's QR code and the
event's .ics when there are), handed to the mail server over a few connections at once, and marked sent, retried
later, or given up with the reason, each outcome announced on notifications.deliveries.v1."""

from __future__ import annotations

import asyncio
import email.policy
import io
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from email import charset
from email.header import Header
from email.message import Message as MimeMessage
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, make_msgid, parseaddr

import aiosmtplib
import segno

from services.notifications import store
from services.notifications.domain import next_email_attempt
from services.notifications.events import MessageFailed
from services.notifications.messages import UnsubscribeLinks, sent
from services.notifications.models import Message, MessageStatus
from services.notifications.rendering import TICKET_CONTENT_ID, one_line
from services.notifications.settings import NotificationsSettings
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

# Built with the stdlib's compat32 MIME classes, not EmailMessage: EmailMessage parses every header it is given
# through the header registry, which made building an email 5 ms of CPU, most of the service's time in a
# fan-out of thousands; these and _HeadersAsBuilt take half a millisecond for the same parts, headers and
# encodings.
UTF8 = charset.Charset("utf-8")
UTF8.header_encoding = charset.BASE64  # RFC 2047 words for non-ASCII subjects and names
UTF8.body_encoding = charset.QP  # the source stays readable (the mail catcher's .eml files), and long lines fold


class _HeadersAsBuilt(email.policy.Compat32):
    """Writes ASCII headers as email_of built them: on one line, or already folded (an encoded subject, in words
    of at most 75 characters), each line within RFC 5322's limit of 998. The stdlib would re-fold every header
    through its Header class, which took most of the time of writing an email."""

    def fold_binary(self, name: str, value: str) -> bytes:
        if isinstance(value, str) and value.isascii():
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


WIRE_POLICY = _HeadersAsBuilt(max_line_length=None, linesep="\r\n")


def _text_part(text: str, subtype: str) -> MIMEText:
    # typeshed has MIMEText take a charset's name only; the stdlib takes a Charset too, which is how the part gets
    # our encodings (quoted-printable bodies) instead of utf-8's default, base64.
    return MIMEText(text, subtype, UTF8)  # type: ignore[arg-type]


def ticket_image(code: str) -> bytes:
    """The ticket's QR code as a PNG the door's scanner reads from a phone's screen: large modules, the standard
    quiet zone, medium error correction (a cracked screen still scans)."""
    image = io.BytesIO()
    segno.make_qr(code, error="m").save(image, kind="png", scale=8, border=4)
    return image.getvalue()


_CALENDAR_METHOD = re.compile(r"^METHOD:(\w+)\r?$", re.MULTILINE)


def calendar_method(ics: str) -> str:
    """The iTIP method an .ics states (RFC 5546), which its MIME part must repeat (RFC 6047); PUBLISH if none."""
    found = _CALENDAR_METHOD.search(ics)
    return found.group(1) if found else "PUBLISH"


def email_of(message: Message, sender: str, unsubscribe_url: str | None) -> MimeMessage:
    """multipart/alternative (plain text, HTML); inside multipart/related with the ticket's QR code the HTML shows,
    when there is one; inside multipart/mixed with the .ics, when there is one. The boundaries are the message id:
    unique per message, and no random boundary to draw."""
    english = message.language == "en"
    email: MimeMessage = _text_part(message.body, "plain")
    if message.html:
        email = MIMEMultipart(
            "alternative", boundary=f"alternative-{message.id}", _subparts=[email, _text_part(message.html, "html")]
        )
    if message.ticket_code:
        qr = MIMEImage(ticket_image(message.ticket_code), "png")
        qr.add_header("Content-ID", f"<{TICKET_CONTENT_ID}>")
        qr.add_header("Content-Disposition", "inline", filename="ticket.png" if english else "biglietto.png")
        related = MIMEMultipart("related", boundary=f"related-{message.id}", _subparts=[email, qr])
        related.set_param("type", email.get_content_type())  # RFC 2387: what the first part, the root, is
        email = related
    if message.calendar:
        ics = _text_part(message.calendar, "calendar")
        ics.set_param("method", calendar_method(message.calendar))
        ics.add_header("Content-Disposition", "attachment", filename="event.ics" if english else "evento.ics")
        email = MIMEMultipart("mixed", boundary=f"mixed-{message.id}", _subparts=[email, ics])
    subject = one_line(message.title)  # a line break in a header value would start a header of its own
    email["From"] = formataddr(parseaddr(sender), UTF8)
    email["To"] = one_line(message.address or "")
    if message.reply_to:
        email["Reply-To"] = one_line(message.reply_to)
    email["Subject"] = (
        subject
        if subject.isascii()
        else Header(subject, UTF8, header_name="Subject").encode(linesep="\r\n", maxlinelen=75)
    )
    email["Date"] = format_datetime(message.created_at)
    email["Message-ID"] = make_msgid(idstring=message.id.replace("-", ""), domain="filiera")
    if unsubscribe_url:
        # RFC 8058 one-click: mail programs POST "List-Unsubscribe=One-Click" to the URL.
        email["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email["Content-Language"] = message.language
    return email


@dataclass(frozen=True)
class SmtpOutcome:
    """What became of handing one message to the mail server."""

    message_id: str
    error: str | None  # None: the server accepted it
    permanent: bool = False  # the server refused the address or the message: trying again cannot help


class EmailSender:
    """Sends the queued emails that are due, over a few SMTP connections at once, and records each outcome."""

    def __init__(
        self,
        unit_of_work: Callable[[], UnitOfWork],
        unsubscribe_links: UnsubscribeLinks,
        settings: NotificationsSettings,
        batch: int = 400,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._unsubscribe_links = unsubscribe_links
        self._settings = settings
        self._batch = batch

    async def send_due(self) -> int:
        """One pass: every queued email that is due. Returns how many were handed to the server."""
        handed = 0
        while True:
            async with self._unit_of_work() as uow:
                due = await store.due_emails(uow.session, uow.now(), self._batch)
            if not due:
                return handed
            connections = max(1, min(self._settings.smtp_connections, len(due)))
            shares = [due[index::connections] for index in range(connections)]
            results = await asyncio.gather(*(self._send_over_one_connection(share) for share in shares))
            outcomes = [outcome for result in results for outcome in result]
            await self._record(outcomes)
            handed += sum(1 for outcome in outcomes if outcome.error is None)
            if any(outcome.error and not outcome.permanent for outcome in outcomes):
                return handed  # the server is struggling: the rest waits for the next pass

    async def _send_over_one_connection(self, messages: list[Message]) -> list[SmtpOutcome]:
        settings = self._settings
        # A fixed HELO name: left out, aiosmtplib asks the resolver for ours on every connection.
        client = aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            local_hostname="filiera",
            timeout=settings.smtp_timeout_seconds,
            start_tls=settings.smtp_starttls,
        )
        try:
            await client.connect()
            if settings.smtp_username and settings.smtp_password:
                await client.login(settings.smtp_username, settings.smtp_password)
        except (aiosmtplib.SMTPException, OSError) as error:
            return [SmtpOutcome(message.id, f"mail server unreachable: {error}") for message in messages]
        outcomes = []
        try:
            for message in messages:
                outcomes.append(await self._send_one(client, message))
        finally:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()
        return outcomes

    async def _send_one(self, client: aiosmtplib.SMTP, message: Message) -> SmtpOutcome:
        email = email_of(message, self._settings.mail_from, self._unsubscribe_links.url_for(message))
        try:
            await client.sendmail(
                parseaddr(self._settings.mail_from)[1], [message.address or ""], email.as_bytes(policy=WIRE_POLICY)
            )
        except aiosmtplib.SMTPRecipientsRefused as refused:
            return SmtpOutcome(message.id, f"address refused: {refused.recipients[0].message}", permanent=True)
        except aiosmtplib.SMTPResponseException as error:
            return SmtpOutcome(message.id, f"SMTP {error.code}: {error.message}", permanent=error.code >= 500)
        except (aiosmtplib.SMTPException, OSError) as error:
            return SmtpOutcome(message.id, f"{type(error).__name__}: {error}")
        return SmtpOutcome(message.id, None)

    async def _record(self, outcomes: list[SmtpOutcome]) -> None:
        async with self._unit_of_work() as uow:
            now = uow.now()
            messages = await store.messages_by_id(uow.session, [outcome.message_id for outcome in outcomes])
            for outcome in outcomes:
                message = messages.get(outcome.message_id)
                if message is None:
                    continue  # erased while it was being sent
                message.attempts += 1
                message.last_error = outcome.error
                retry_at = (
                    None if outcome.error is None or outcome.permanent else next_email_attempt(message.attempts, now)
                )
                if outcome.error is None:
                    message.status, message.sent_at, message.next_attempt_at = MessageStatus.SENT, now, None
                    uow.publish(sent(message))
                elif retry_at is None:
                    message.status, message.next_attempt_at = MessageStatus.FAILED, None
                    uow.publish(
                        MessageFailed(
                            message_id=message.id,
                            source_event_id=message.source_event_id,
                            kind=message.kind,
                            channel=message.channel,
                            person_id=message.person_id,
                            attempts=message.attempts,
                            reason=outcome.error or "",
                        )
                    )
                    log.warning("gave up email %s: %s", message.id, outcome.error)
                else:
                    message.next_attempt_at = retry_at
                uow.session.add(message)
            await uow.commit()
