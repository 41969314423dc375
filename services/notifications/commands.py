"""Use cases of the notifications service: keeping its copy of people, companies, events and registrations;
turning facts into messages for the right people on the channels they chose; the inbox; preferences; digests.

Commands called by Kafka handlers do not commit: the idempotent consumer commits their work together with the
fact's id in its inbox. Commands called by the API and the scheduler commit themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import jwt
from sqlalchemy import delete, insert
from sqlmodel import col, select

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
    digest_period,
    ensure_choice_allowed,
)
from services.notifications.events import MessageSent
from services.notifications.models import (
    ContactCompany,
    ContactPerson,
    KnownEvent,
    KnownRegistration,
    Message,
    MessageStatus,
    Preference,
    PreferencePublic,
    Unsubscribed,
)
from services.notifications.rendering import Rendered, Writer, language_of
from shared.clock import utc_now
from shared.errors import DomainError, NotFound
from shared.ids import new_id
from shared.unit_of_work import UnitOfWork

Clock = Callable[[], datetime]


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
    def address_only(cls, address: str, name: str) -> Recipient:
        return cls(f"email:{address.lower()}", None, address, "it", name)


Context = Callable[[str], dict[str, Any]]  # language -> template variables


@dataclass(frozen=True)
class Notice:
    """What one fact gives people to read: the same for all of them but for their name and language."""

    source_event_id: str
    kind: Kind
    context: Context
    link: str | None = None
    calendar: str | None = None  # an .ics for the email


@dataclass(frozen=True)
class Postman:
    """Writes notices to recipients, as each of them chose to be written to."""

    writer: Writer
    clock: Clock
    unsubscribe_secret: str
    public_url: str  # this service, for unsubscribe links
    web_url: str  # the web client, for links to what a message is about

    async def deliver(self, uow: UnitOfWork, notice: Notice, recipients: Iterable[Recipient]) -> int:
        """Store one message per recipient and channel (in-app at once, email queued for the sender, or held for
        a digest), and announce the in-app ones. Returns how many messages were written."""
        recipients = list(recipients)
        mailbag = await self.mailbag(uow, recipients)
        mailbag.add(notice, recipients)
        return await mailbag.post()

    async def mailbag(self, uow: UnitOfWork, recipients: Iterable[Recipient]) -> Mailbag:
        """A mailbag for notices to `recipients` (or some of them), their choices read in one query."""
        person_ids = sorted({recipient.person_id for recipient in recipients if recipient.person_id})
        choices = await store.choices_of(uow.session, person_ids) if person_ids else {}
        return Mailbag(self, uow, choices)

    # ---- one-click unsubscribe (RFC 8058) ----------------------------------------------------------------------

    def unsubscribe_url(self, message: Message) -> str | None:
        if not message.unsubscribe or not message.person_id:
            return None
        token = jwt.encode(
            {"sub": message.person_id, "categories": message.unsubscribe, "purpose": "unsubscribe"},
            self.unsubscribe_secret,
            algorithm="HS256",
        )
        return f"{self.public_url}/unsubscribe?token={token}"

    def unsubscription(self, token: str) -> tuple[str, list[Category]]:
        try:
            claims = jwt.decode(token, self.unsubscribe_secret, algorithms=["HS256"])
            if claims.get("purpose") != "unsubscribe":
                raise jwt.InvalidTokenError("not an unsubscribe token")
            return str(claims["sub"]), [Category(value) for value in claims["categories"]]
        except (jwt.InvalidTokenError, KeyError, ValueError, TypeError) as error:
            raise DomainError(
                "this unsubscribe link is not valid (it may have been cut by the mail program)"
            ) from error


@dataclass
class Mailbag:
    """Messages for many notices, written in one INSERT when posted: a batch of facts (a funding call matched to a
    hundred companies) costs one query for choices and one INSERT, not a hundred of each."""

    postman: Postman
    uow: UnitOfWork
    choices: dict[tuple[str, Category, Channel], Choice]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, notice: Notice, recipients: Iterable[Recipient]) -> None:
        """One message per recipient and channel they chose for the notice's category; the in-app ones are
        announced at once, with the correlation id of the fact at hand."""
        category = CATEGORY_OF[notice.kind]
        now = self.postman.clock()  # each notice its own moment: the inbox shows a batch's facts in their order
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
            rendered = self.postman.writer.write(
                notice.kind,
                recipient.language,
                {**contexts[recipient.language], "recipient_name": recipient.name},
                notice.link,
            )
            unsubscribe = _unsubscribe_from(notice, recipient, category)
            rows += [
                _message_row(notice, recipient, channel, category, plan, rendered, now, unsubscribe)
                for channel, plan in plans.items()
            ]
        self.uow.publish(*(sent(row) for row in rows if row["status"] == MessageStatus.SENT))
        self.rows += rows

    def _choice(self, recipient: Recipient, category: Category, channel: Channel) -> Choice:
        return self.choices.get((recipient.person_id or "", category, channel), default_choice(category, channel))

    async def post(self) -> int:
        """Write what was added; returns how many messages."""
        rows, self.rows = self.rows, []
        if rows:
            await self.uow.session.exec(insert(Message), params=rows)  # type: ignore[call-overload]
        return len(rows)


def _channels_of(recipient: Recipient) -> Sequence[Channel]:
    # Someone known only by address (a guest at an event) has no inbox.
    return (Channel.EMAIL, Channel.IN_APP) if recipient.person_id else (Channel.EMAIL,)


def _unsubscribe_from(notice: Notice, recipient: Recipient, category: Category) -> list[str]:
    """The categories an email's one-click unsubscribe turns off: none for transactional mail or a guest."""
    return [] if notice.kind in TRANSACTIONAL_KINDS or not recipient.person_id else [category.value]


def _message_row(
    notice: Notice,
    recipient: Recipient,
    channel: Channel,
    category: Category | None,
    plan: Frequency,
    rendered: Rendered,
    now: datetime,
    unsubscribe: list[str],
) -> dict[str, Any]:
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
    fields = message if isinstance(message, dict) else message.model_dump()
    return MessageSent(
        message_id=fields["id"],
        source_event_id=fields["source_event_id"],
        kind=fields["kind"],
        channel=fields["channel"],
        person_id=fields["person_id"],
        attempts=fields["attempts"],
    )


# ---- the service's copy of other services' facts -----------------------------------------------------------------


Copy = TypeVar("Copy", ContactCompany, ContactPerson, KnownEvent, KnownRegistration)


async def _keep(uow: UnitOfWork, table: type[Copy], key: str, fields: dict[str, Any]) -> Copy:
    """Our copy of another service's entity, as its latest fact tells it: created or overwritten."""
    known = await uow.session.get(table, key)
    if known is None:
        known = table(id=key, **fields)
    else:
        for name, value in fields.items():
            setattr(known, name, value)
    uow.session.add(known)
    return known


async def remember_company(uow: UnitOfWork, company: dict[str, Any]) -> ContactCompany:
    return await _keep(
        uow,
        ContactCompany,
        company["id"],
        {
            "legal_name": company["legal_name"],
            "status": company["status"],
            "public_listing": bool(company.get("public_listing", False)),
        },
    )


async def remember_person(uow: UnitOfWork, person: dict[str, Any]) -> ContactPerson:
    return await _keep(
        uow,
        ContactPerson,
        person["id"],
        {
            "company_id": person.get("company_id"),
            "given_name": person["given_name"],
            "family_name": person["family_name"],
            "email": person["email"],
            "language": language_of(person.get("language")),
            "role": person.get("role", "company_member"),
        },
    )


async def forget_person(uow: UnitOfWork, person_id: str) -> None:
    """GDPR erasure: their messages, choices, contact details and registrations' names go."""
    session = uow.session
    await session.exec(delete(Message).where(col(Message.person_id) == person_id))  # type: ignore[call-overload]
    await session.exec(delete(Preference).where(col(Preference.person_id) == person_id))  # type: ignore[call-overload]
    await session.exec(delete(KnownRegistration).where(col(KnownRegistration.person_id) == person_id))  # type: ignore[call-overload]
    person = await session.get(ContactPerson, person_id)
    if person is not None:
        await session.exec(delete(Message).where(col(Message.recipient) == f"email:{person.email.lower()}"))  # type: ignore[call-overload]
        await session.delete(person)


async def remember_event(uow: UnitOfWork, event: dict[str, Any]) -> KnownEvent:
    fields = {
        name: event.get(name) for name in ("title_it", "event_type", "status", "time_zone", "venue", "online_url")
    }
    return await _keep(
        uow,
        KnownEvent,
        event["id"],
        {
            **fields,
            "title_en": event.get("title_en") or "",
            "starts_at": datetime.fromisoformat(event["starts_at"]),
            "ends_at": datetime.fromisoformat(event["ends_at"]),
            "updated_at": utc_now(),
        },
    )


async def remember_registration(uow: UnitOfWork, registration: dict[str, Any]) -> KnownRegistration:
    return await _keep(
        uow,
        KnownRegistration,
        registration["id"],
        {
            "event_id": registration["event_id"],
            "person_id": registration.get("person_id"),
            "name": registration["name"],
            "email": registration.get("email"),
            "status": registration["status"],
            "checked_in": registration.get("checked_in_at") is not None,
        },
    )


async def registrants(uow: UnitOfWork, event_id: str, statuses: Sequence[str]) -> list[Recipient]:
    found = await uow.session.exec(
        select(KnownRegistration).where(
            KnownRegistration.event_id == event_id, col(KnownRegistration.status).in_(statuses)
        )
    )
    return [recipient for registration in found if (recipient := await recipient_of(uow, registration))]


async def attendees(uow: UnitOfWork, event_id: str) -> list[Recipient]:
    """Who took part: those checked in, or every confirmed registrant when the door did not check people in."""
    found = list(
        await uow.session.exec(
            select(KnownRegistration).where(
                KnownRegistration.event_id == event_id, KnownRegistration.status == "confirmed"
            )
        )
    )
    checked_in = [registration for registration in found if registration.checked_in]
    return [recipient for registration in (checked_in or found) if (recipient := await recipient_of(uow, registration))]


async def recipient_of(uow: UnitOfWork, registration: KnownRegistration) -> Recipient | None:
    if registration.person_id and (person := await uow.session.get(ContactPerson, registration.person_id)):
        return Recipient.person(person)
    if registration.email:
        return Recipient.address_only(registration.email, registration.name.split(" ")[0])
    return None


def people(found: Iterable[ContactPerson]) -> list[Recipient]:
    return [Recipient.person(person) for person in found]


# ---- inbox ------------------------------------------------------------------------------------------------------


async def mark_read(uow: UnitOfWork, person_id: str, message_id: str, now: datetime) -> Message:
    message = await uow.session.get(Message, message_id)
    if message is None or message.person_id != person_id or message.channel != Channel.IN_APP:
        raise NotFound("no such message in your inbox")
    if message.read_at is None:
        message.read_at = now
        uow.session.add(message)
        await uow.commit()
    return message


async def mark_all_read(uow: UnitOfWork, person_id: str, now: datetime) -> int:
    marked = await store.mark_all_read(uow.session, person_id, now)
    await uow.commit()
    return marked


# ---- preferences ------------------------------------------------------------------------------------------------


async def preferences_of(uow: UnitOfWork, person_id: str) -> list[PreferencePublic]:
    chosen = {(row.category, row.channel): row for row in await store.preferences_of(uow.session, person_id)}
    answer = []
    for category in Category:
        for channel in Channel:
            row = chosen.get((category, channel))
            choice = Choice(row.enabled, row.frequency) if row else default_choice(category, channel)
            answer.append(
                PreferencePublic(
                    category=category,
                    channel=channel,
                    enabled=choice.enabled,
                    frequency=choice.frequency,
                    transactional=category == Category.MEMBERSHIP,
                )
            )
    return answer


async def choose(uow: UnitOfWork, person_id: str, category: Category, channel: Channel, choice: Choice) -> None:
    ensure_choice_allowed(category, choice)
    row = await uow.session.get(Preference, (person_id, category, channel))
    row = row or Preference(person_id=person_id, category=category, channel=channel)
    row.enabled, row.frequency = choice.enabled, choice.frequency
    uow.session.add(row)
    await uow.commit()


async def unsubscribe(uow: UnitOfWork, person_id: str, categories: list[Category]) -> Unsubscribed:
    """One click in an email turns off email for its categories (never for transactional ones)."""
    turned_off = [category for category in categories if category != Category.MEMBERSHIP]
    for category in turned_off:
        row = await uow.session.get(Preference, (person_id, category, Channel.EMAIL))
        row = row or Preference(person_id=person_id, category=category, channel=Channel.EMAIL)
        row.enabled = False
        uow.session.add(row)
    await uow.commit()
    return Unsubscribed(person_id=person_id, categories=turned_off)


# ---- digests ----------------------------------------------------------------------------------------------------


async def send_due_digests(uow: UnitOfWork, postman: Postman, now: datetime, hour: int, weekday: int) -> int:
    """Gather each person's held messages into one digest per channel and frequency. The digest's source id is
    its period, so a restart or a second replica finds it already written; what was held after a digest went out
    waits for the next one."""
    written = 0
    for frequency in (Frequency.DAILY, Frequency.WEEKLY):
        period = digest_period(frequency, now, hour, weekday)
        if period is None:
            continue
        key, cutoff = period
        source_event_id = f"digest:{key}"
        done = await store.digests_already_sent(uow.session, source_event_id)
        groups: dict[tuple[str, Channel], list[Message]] = {}
        for message in await store.held_messages(uow.session, frequency, cutoff):
            if (message.recipient, message.channel) not in done:
                groups.setdefault((message.recipient, message.channel), []).append(message)
        digests = [
            await _digest_of(uow, postman, held, frequency, source_event_id, key, now) for held in groups.values()
        ]
        if digests:
            await uow.session.exec(insert(Message), params=digests)  # type: ignore[call-overload]
            uow.publish(*(sent(digest) for digest in digests if digest["status"] == MessageStatus.SENT))
        written += len(digests)
    await uow.commit()
    return written


async def _digest_of(
    uow: UnitOfWork,
    postman: Postman,
    held: list[Message],
    frequency: Frequency,
    source_event_id: str,
    key: str,
    now: datetime,
) -> dict[str, Any]:
    first = held[0]
    person = await uow.session.get(ContactPerson, first.person_id) if first.person_id else None
    recipient = (
        Recipient.person(person)
        if person
        else Recipient(first.recipient, first.person_id, first.address, first.language, "")
    )
    items = [{"title": message.title, "link": message.link} for message in held]
    notice = Notice(
        source_event_id,
        Kind.DIGEST,
        lambda _language: {"items": items, "frequency": frequency.value},
        link=f"{postman.web_url.rstrip('/')}/inbox",
    )  # each item's own link is in the list
    rendered = postman.writer.write(
        Kind.DIGEST,
        recipient.language,
        {**notice.context(recipient.language), "recipient_name": recipient.name},
        notice.link,
    )
    for message in held:
        message.status = MessageStatus.DIGESTED
        message.digest_key = key
        uow.session.add(message)
    unsubscribe = sorted({message.category.value for message in held if message.category})
    return _message_row(notice, recipient, first.channel, None, Frequency.INSTANT, rendered, now, unsubscribe)
