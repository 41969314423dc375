"""How a notice becomes messages: one row per recipient and channel they chose for its category (in-app at once,
email queued for the email sender, or held for a digest), rendered in each recipient's language; and the signed
one-click unsubscribe links the emails carry."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import jwt
from sqlalchemy import insert

from services.notifications import store
from services.notifications.domain import (
    CATEGORY_OF,
    TRANSACTIONAL_KINDS,
    Category,
    Channel,
    Choice,
    Frequency,
    Kind,
    default_choice,
    delivery_plan,
)
from services.notifications.events import MessageSent
from services.notifications.models import ContactPerson, Message, MessageStatus
from services.notifications.rendering import Rendered, Templates, language_of
from shared.errors import DomainError
from shared.ids import new_id
from shared.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Recipient:
    key: str  # the person's id, or "email:<address>" for someone known only by address
    person_id: str | None
    address: str | None
    language: str
    name: str

    @classmethod
    def person(cls, person: ContactPerson) -> Recipient:
        return cls(person.id, person.id, person.email, language_of(person.language), person.given_name)

    @classmethod
    def address_only(cls, address: str, name: str, language: str | None = None) -> Recipient:
        """Someone the platform knows only by address: a guest, a colleague invited, a buyer, an applicant."""
        return cls(f"email:{address.lower()}", None, address, language_of(language), name)


def people(found: Iterable[ContactPerson]) -> list[Recipient]:
    return [Recipient.person(person) for person in found]


Context = Callable[[str], dict[str, Any]]  # language -> template variables


@dataclass(frozen=True)
class Notice:
    """What one fact gives people to read: the same for all of them but for their name and language."""

    source_event_id: str
    kind: Kind
    context: Context
    link: str | None = None
    calendar: str | None = None  # an .ics for the email
    ticket_code: str | None = None  # the email shows it as a QR code (the template's `ticket` block says so)
    reply_to: str | None = None  # whom a reply to the email reaches (a buyer, for the company's people)

    def render(self, templates: Templates, recipient: Recipient, variables: dict[str, Any]) -> Rendered:
        """The notice in the recipient's words; `variables` are the context in their language."""
        return templates.render(
            self.kind,
            recipient.language,
            {**variables, "recipient_name": recipient.name},
            self.link,
            ticket=self.ticket_code is not None,
        )


Unsubscription = tuple[str, list[Category]]  # the person, and the categories whose email a link turns off


@dataclass(frozen=True)
class UnsubscribeLinks:
    """One-click unsubscribe (RFC 8058): a link signed with the service's secret, naming the person and the
    categories the click turns off."""

    secret: str
    public_url: str  # this service, which the link points at

    def url_for(self, message: Message) -> str | None:
        if not message.unsubscribe or not message.person_id:
            return None
        token = jwt.encode(
            {"sub": message.person_id, "categories": message.unsubscribe, "purpose": "unsubscribe"},
            self.secret,
            algorithm="HS256",
        )
        return f"{self.public_url}/unsubscribe?token={token}"

    def read(self, token: str) -> Unsubscription:
        """The person and the categories a link's token names; DomainError when it is not one of ours."""
        try:
            claims = jwt.decode(token, self.secret, algorithms=["HS256"])
            if claims.get("purpose") != "unsubscribe":
                raise jwt.InvalidTokenError("not an unsubscribe token")
            return str(claims["sub"]), [Category(value) for value in claims["categories"]]
        except (jwt.InvalidTokenError, KeyError, ValueError, TypeError) as error:
            raise DomainError(
                "this unsubscribe link is not valid (it may have been cut by the mail program)"
            ) from error


@dataclass(frozen=True)
class DeliveryContext:
    """What writing messages needs besides the unit of work: the templates, the web client's address (for links
    to what a message is about) and the unsubscribe links."""

    templates: Templates
    web_url: str
    unsubscribe_links: UnsubscribeLinks

    async def deliver(self, uow: UnitOfWork, notice: Notice, recipients: Iterable[Recipient]) -> int:
        """Store one message per recipient and channel, and announce the in-app ones. Returns how many messages
        were written."""
        recipients = list(recipients)
        batch = await self.batch(uow, recipients)
        batch.add(notice, recipients)
        return await batch.insert()

    async def batch(self, uow: UnitOfWork, recipients: Iterable[Recipient]) -> MessageBatch:
        """A batch for notices to `recipients` (or some of them), their choices read in one query."""
        person_ids = sorted({recipient.person_id for recipient in recipients if recipient.person_id})
        choices = await store.choices_of(uow.session, person_ids) if person_ids else {}
        return MessageBatch(self.templates, uow, choices)


@dataclass
class MessageBatch:
    """Messages for many notices, written in one INSERT: a batch of facts (a funding call matched to a hundred
    companies) costs one query for choices and one INSERT, not a hundred of each."""

    templates: Templates
    uow: UnitOfWork
    choices: dict[tuple[str, Category, Channel], Choice]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, notice: Notice, recipients: Iterable[Recipient]) -> None:
        """One message per recipient and channel they chose for the notice's category; the in-app ones are
        announced at once, with the correlation id of the fact at hand."""
        category = CATEGORY_OF[notice.kind]
        now = self.uow.now()  # each notice its own moment: the inbox shows a batch's facts in their order
        contexts: dict[str, dict[str, Any]] = {}  # per language: the same for every recipient but their name
        rows: list[dict[str, Any]] = []
        for recipient in {recipient.key: recipient for recipient in recipients}.values():
            plans = {
                channel: plan
                for channel in _channels_of(recipient)
                if (plan := delivery_plan(notice.kind, self._choice(recipient, category, channel)))
            }
            if not plans:
                continue
            if recipient.language not in contexts:
                contexts[recipient.language] = notice.context(recipient.language)
            rendered = notice.render(self.templates, recipient, contexts[recipient.language])
            unsubscribe = _unsubscribe_from(notice, recipient, category)
            rows += [
                message_row(notice, recipient, channel, category, plan, rendered, now, unsubscribe)
                for channel, plan in plans.items()
            ]
        self.uow.publish(*(sent(row) for row in rows if row["status"] == MessageStatus.SENT))
        self.rows += rows

    def _choice(self, recipient: Recipient, category: Category, channel: Channel) -> Choice:
        return self.choices.get((recipient.person_id or "", category, channel), default_choice(category, channel))

    async def insert(self) -> int:
        """Write what was added; returns how many messages."""
        rows, self.rows = self.rows, []
        if rows:
            await self.uow.session.exec(insert(Message), params=rows)
        return len(rows)


def _channels_of(recipient: Recipient) -> Sequence[Channel]:
    # Someone known only by address (a guest at an event) has no inbox.
    return (Channel.EMAIL, Channel.IN_APP) if recipient.person_id else (Channel.EMAIL,)


def _unsubscribe_from(notice: Notice, recipient: Recipient, category: Category) -> list[str]:
    """The categories an email's one-click unsubscribe turns off: none for transactional mail or a guest."""
    return [] if notice.kind in TRANSACTIONAL_KINDS or not recipient.person_id else [category.value]


def message_row(
    notice: Notice,
    recipient: Recipient,
    channel: Channel,
    category: Category | None,
    plan: Frequency,
    rendered: Rendered,
    now: datetime,
    unsubscribe: list[str],
) -> dict[str, Any]:
    """A row of the message table, as written in one INSERT with many others."""
    email = channel == Channel.EMAIL
    status = MessageStatus.HELD if plan != Frequency.INSTANT else MessageStatus.QUEUED if email else MessageStatus.SENT
    return {
        "id": new_id(),
        "source_event_id": notice.source_event_id,
        "recipient": recipient.key,
        "person_id": recipient.person_id,
        "address": recipient.address if email else None,
        "language": recipient.language,
        "channel": channel,
        "kind": notice.kind,
        "category": category,
        "title": rendered.title,
        "body": rendered.text if email else rendered.body,
        "html": rendered.html if email else None,
        "link": notice.link,
        "calendar": notice.calendar if email else None,
        "ticket_code": notice.ticket_code if email else None,
        "reply_to": notice.reply_to if email else None,
        "unsubscribe": unsubscribe,
        "status": status,
        "held_for": plan if status == MessageStatus.HELD else None,
        "digest_key": None,
        "attempts": 0,
        "next_attempt_at": now if status == MessageStatus.QUEUED else None,
        "last_error": None,
        "read_at": None,
        "created_at": now,
        "sent_at": now if status == MessageStatus.SENT else None,
    }


def sent(message: Message | dict[str, Any]) -> MessageSent:
    """The delivery outcome announcing a message stored in the inbox or accepted by the mail server."""
    fields = message if isinstance(message, dict) else message.model_dump()
    return MessageSent(
        message_id=fields["id"],
        source_event_id=fields["source_event_id"],
        kind=fields["kind"],
        channel=fields["channel"],
        person_id=fields["person_id"],
        attempts=fields["attempts"],
    )
