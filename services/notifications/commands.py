"""Use cases of the notifications service: keeping its copy of people, companies, events and registrations; the
inbox; preferences; digests; buyers' inquiries; partners' webhook endpoints (registration, changes, secret
rotation, replay).

Commands called by Kafka handlers do not commit: the idempotent consumer commits their work together with the
fact's id in its inbox. Commands called by the API and the scheduler commit themselves. Who may call them is
decided before (api.py's dependencies): a command is given the person, or the webhook manager, it acts for.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import delete, insert
from sqlmodel import col

from services.notifications import store
from services.notifications.domain import (
    LONGEST_WINDOW,
    Category,
    Channel,
    Choice,
    Frequency,
    Kind,
    WebhookManager,
    caught_by_honeypot,
    client_key,
    digest_period,
    ensure_choice_allowed,
    ensure_within_limits,
    may_be_written_to,
    new_webhook_secret,
)
from services.notifications.messages import DeliveryContext, Notice, Recipient, message_row, people, sent
from services.notifications.models import (
    CompanyProfile,
    ContactCompany,
    ContactPerson,
    DeliveryStatus,
    EndpointCreate,
    EndpointCreated,
    EndpointPublic,
    EndpointUpdate,
    EventSummary,
    Inquiry,
    InquiryCreate,
    KnownEvent,
    KnownRegistration,
    Message,
    MessageStatus,
    PersonProfile,
    Preference,
    RegistrationSummary,
    SecretRotated,
    Unsubscribed,
    WebhookDelivery,
    WebhookEndpoint,
)
from services.notifications.rendering import language_of
from services.notifications.webhook_delivery import UrlPolicy
from shared.errors import DomainError, NotFound
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

CopiedTable = TypeVar("CopiedTable", ContactCompany, ContactPerson, KnownEvent, KnownRegistration)


async def _upsert_copy(uow: UnitOfWork, table: type[CopiedTable], key: str, fields: dict[str, Any]) -> CopiedTable:
    """Our copy of another service's entity, as its latest fact tells it: created or overwritten."""
    known = await uow.session.get(table, key)
    if known is None:
        known = table(id=key, **fields)
    else:
        for name, value in fields.items():
            setattr(known, name, value)
    uow.session.add(known)
    return known


async def remember_company(uow: UnitOfWork, company: CompanyProfile) -> ContactCompany:
    fields = {"legal_name": company.legal_name, "status": company.status, "public_listing": company.public_listing}
    return await _upsert_copy(uow, ContactCompany, company.id, fields)


async def remember_person(uow: UnitOfWork, person: PersonProfile) -> ContactPerson:
    fields = {
        "company_id": person.company_id,
        "given_name": person.given_name,
        "family_name": person.family_name,
        "email": person.email,
        "language": language_of(person.language),
        "role": person.role,
    }
    return await _upsert_copy(uow, ContactPerson, person.id, fields)


async def forget_person(uow: UnitOfWork, person_id: str) -> None:
    """GDPR erasure: their messages, choices, contact details and registrations' names go."""
    session = uow.session
    await session.exec(delete(Message).where(col(Message.person_id) == person_id))
    await session.exec(delete(Preference).where(col(Preference.person_id) == person_id))
    await session.exec(delete(KnownRegistration).where(col(KnownRegistration.person_id) == person_id))
    person = await session.get(ContactPerson, person_id)
    if person is not None:
        await session.exec(delete(Message).where(col(Message.recipient) == f"email:{person.email.lower()}"))
        await session.delete(person)


async def remember_event(uow: UnitOfWork, event: EventSummary) -> KnownEvent:
    fields = {
        **event.model_dump(
            include={
                "title_it",
                "event_type",
                "status",
                "time_zone",
                "venue",
                "online_url",
                "calendar_uid",
                "calendar_sequence",
            }
        ),
        "title_en": event.title_en or "",
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "updated_at": uow.now(),
    }
    return await _upsert_copy(uow, KnownEvent, event.id, fields)


async def remember_registration(uow: UnitOfWork, registration: RegistrationSummary) -> KnownRegistration:
    fields = {
        "event_id": registration.event_id,
        "person_id": registration.person_id,
        "name": registration.name,
        "email": registration.email,
        "status": registration.status,
        "checked_in": registration.checked_in_at is not None,
        "language": registration.language,
    }
    return await _upsert_copy(uow, KnownRegistration, registration.id, fields)


async def mark_read(uow: UnitOfWork, person_id: str, message_id: str) -> Message:
    message = await uow.session.get(Message, message_id)
    if message is None or message.person_id != person_id or message.channel != Channel.IN_APP:
        raise NotFound("no such message in your inbox")
    if message.read_at is None:
        message.read_at = uow.now()
        uow.session.add(message)
        await uow.commit()
    return message


async def mark_all_read(uow: UnitOfWork, person_id: str) -> int:
    marked = await store.mark_all_read(uow.session, person_id, uow.now())
    await uow.commit()
    return marked


async def choose(uow: UnitOfWork, person_id: str, category: Category, channel: Channel, choice: Choice) -> None:
    ensure_choice_allowed(category, choice)
    row = await uow.session.get(Preference, (person_id, category, channel))
    row = row or Preference(person_id=person_id, category=category, channel=channel)
    row.enabled, row.frequency = choice.enabled, choice.frequency
    uow.session.add(row)
    await uow.commit()


async def unsubscribe(uow: UnitOfWork, person_id: str, categories: list[Category]) -> Unsubscribed:
    """One click in an email turns off email for its categories (never for transactional ones)."""
    turned_off: list[Category] = [category for category in categories if category != Category.MEMBERSHIP]
    for category in turned_off:
        row = await uow.session.get(Preference, (person_id, category, Channel.EMAIL))
        row = row or Preference(person_id=person_id, category=category, channel=Channel.EMAIL)
        row.enabled = False
        uow.session.add(row)
    await uow.commit()
    return Unsubscribed(person_id=person_id, categories=turned_off)


async def send_due_digests(uow: UnitOfWork, delivery_context: DeliveryContext, hour: int, weekday: int) -> int:
    """Gather each person's held messages into one digest per channel and frequency. The digest's source id is
    its period, so a restart or a second replica finds it already written; what was held after a digest went out
    waits for the next one."""
    now = uow.now()
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
            await _digest_of(uow, delivery_context, held, frequency, source_event_id, key, now)
            for held in groups.values()
        ]
        if digests:
            await uow.session.exec(insert(Message), params=digests)
            uow.publish(*(sent(digest) for digest in digests if digest["status"] == MessageStatus.SENT))
        written += len(digests)
    await uow.commit()
    return written


async def _digest_of(
    uow: UnitOfWork,
    delivery_context: DeliveryContext,
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
        link=f"{delivery_context.web_url.rstrip('/')}/inbox",
    )  # each item's own link is in the list
    rendered = notice.render(delivery_context.templates, recipient, notice.context(recipient.language))
    for message in held:
        message.status = MessageStatus.DIGESTED
        message.digest_key = key
        uow.session.add(message)
    unsubscribe = sorted({message.category.value for message in held if message.category})
    return message_row(notice, recipient, first.channel, None, Frequency.INSTANT, rendered, now, unsubscribe)


async def send_inquiry(
    uow: UnitOfWork, delivery_context: DeliveryContext, inquiry: InquiryCreate, client_address: str
) -> None:
    """A buyer's message to a company of the directory: to its people by email (a reply reaches the buyer) and in
    their inbox, and a copy to the buyer; within the limits per client and per company. A robot caught by the
    spam trap is answered as everyone is, and nothing is sent."""
    if caught_by_honeypot(inquiry.website):
        log.info("an inquiry with the spam trap filled was dropped")
        return
    session = uow.session
    company = await session.get(ContactCompany, str(inquiry.company_id))
    if company is None or not may_be_written_to(company.status, company.public_listing):
        raise NotFound("there is no such company in the directory")
    now, client = uow.now(), client_key(client_address)
    since = now - LONGEST_WINDOW
    ensure_within_limits(
        await store.inquiries_from(session, client, since), await store.inquiries_to(session, company.id, since), now
    )
    await store.forget_inquiries_before(session, since)
    recorded = Inquiry(company_id=company.id, client=client, created_at=now)
    session.add(recorded)

    buyer = Recipient.address_only(str(inquiry.email), inquiry.name, inquiry.language)
    company_people = people(await store.people_of_company(session, company.id))
    context = {
        "company_name": company.legal_name,
        "buyer": inquiry.model_dump(include={"name", "email", "company", "country", "message"}),
    }
    source = f"inquiry:{recorded.id}"
    web_url = delivery_context.web_url
    batch = await delivery_context.batch(uow, [*company_people, buyer])
    batch.add(
        Notice(source, Kind.INQUIRY_RECEIVED, lambda _language: context, f"{web_url}/inbox", reply_to=buyer.address),
        company_people,
    )
    batch.add(
        Notice(source, Kind.INQUIRY_COPY, lambda _language: context, f"{web_url}/directory/{company.id}"), [buyer]
    )
    await batch.insert()
    await uow.commit()


async def register_webhook_endpoint(
    uow: UnitOfWork, data: EndpointCreate, manager: WebhookManager, policy: UrlPolicy
) -> EndpointCreated:
    await policy.check(data.url)
    endpoint = WebhookEndpoint(
        owner_id=manager.subject,
        contact_email=str(data.contact_email),
        url=data.url,
        description=data.description,
        event_types=sorted(set(data.event_types)),
        secret=new_webhook_secret(),
        created_at=uow.now(),
    )
    uow.session.add(endpoint)
    await uow.commit()
    return EndpointCreated(**EndpointPublic.model_validate(endpoint).model_dump(), secret=endpoint.secret)


async def webhook_endpoint(uow: UnitOfWork, endpoint_id: str, manager: WebhookManager) -> WebhookEndpoint:
    """The endpoint, if `manager` may manage it: another partner's endpoint is as absent as an unknown one."""
    endpoint = await uow.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or not manager.may_manage(endpoint.owner_id):
        raise NotFound("no such webhook endpoint")
    return endpoint


async def update_webhook_endpoint(
    uow: UnitOfWork, endpoint_id: str, data: EndpointUpdate, manager: WebhookManager, policy: UrlPolicy
) -> WebhookEndpoint:
    endpoint = await webhook_endpoint(uow, endpoint_id, manager)
    changes = data.model_dump(exclude_unset=True)
    if "event_types" in changes:
        changes["event_types"] = sorted(set(changes["event_types"]))
    if "url" in changes:
        await policy.check(changes["url"])
    if "contact_email" in changes:
        changes["contact_email"] = str(changes["contact_email"])
    if changes.get("enabled") is True and not endpoint.enabled:
        endpoint.disabled_reason, endpoint.failing_since = None, None
        await _resume_pending(uow, endpoint, uow.now())
    if changes.get("enabled") is False and endpoint.enabled:
        endpoint.disabled_reason = "disabled by its owner"
    for name, value in changes.items():
        setattr(endpoint, name, value)
    uow.session.add(endpoint)
    await uow.commit()
    return endpoint


async def _resume_pending(uow: UnitOfWork, endpoint: WebhookEndpoint, now: datetime) -> None:
    """Deliveries that waited while the endpoint was disabled are due at once, with a fresh schedule."""
    for delivery in await store.pending_deliveries_of(uow.session, endpoint.id):
        delivery.next_attempt_at, delivery.first_attempt_at = now, None
        uow.session.add(delivery)


async def delete_webhook_endpoint(uow: UnitOfWork, endpoint_id: str, manager: WebhookManager) -> None:
    endpoint = await webhook_endpoint(uow, endpoint_id, manager)
    endpoint.enabled = False
    endpoint.disabled_reason = "deleted by its owner"
    # Kept disabled rather than removed: its delivery log stays for audit.
    endpoint.event_types = []
    uow.session.add(endpoint)
    await uow.commit()


async def rotate_webhook_secret(
    uow: UnitOfWork, endpoint_id: str, manager: WebhookManager, overlap: timedelta
) -> SecretRotated:
    """A new signing secret; the old one keeps signing too for `overlap`, so the receiver can switch over."""
    endpoint = await webhook_endpoint(uow, endpoint_id, manager)
    endpoint.previous_secret, endpoint.secret = endpoint.secret, new_webhook_secret()
    endpoint.previous_secret_expires_at = uow.now() + overlap
    uow.session.add(endpoint)
    await uow.commit()
    return SecretRotated(secret=endpoint.secret, previous_valid_until=endpoint.previous_secret_expires_at)


async def webhook_delivery(uow: UnitOfWork, delivery_id: str, manager: WebhookManager) -> WebhookDelivery:
    """The delivery, if `manager` may manage its endpoint."""
    delivery = await uow.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound("no such delivery")
    await webhook_endpoint(uow, delivery.endpoint_id, manager)
    return delivery


async def replay_webhook_delivery(uow: UnitOfWork, delivery_id: str, manager: WebhookManager) -> WebhookDelivery:
    """Send a delivery again (same webhook-id, so a receiver that got it already can tell), whatever its state."""
    delivery = await webhook_delivery(uow, delivery_id, manager)
    endpoint = await uow.session.get(WebhookEndpoint, delivery.endpoint_id)  # loaded (and allowed) just above
    if endpoint is None or not endpoint.enabled:
        raise DomainError("the endpoint is disabled: enable it first (PATCH enabled=true)")
    delivery.status, delivery.next_attempt_at, delivery.first_attempt_at = DeliveryStatus.PENDING, uow.now(), None
    delivery.finished_at = None
    uow.session.add(delivery)
    await uow.commit()
    return delivery
