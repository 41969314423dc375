"""Queries of the notifications service: whom to write to, the inbox, preferences, what is due to be sent, the
delivery logs, webhook endpoints and the moments of recent inquiries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.notifications.domain import CONFIRMED_REGISTRATION, Category, Channel, Choice, Frequency, default_choice
from services.notifications.models import (
    ContactCompany,
    ContactPerson,
    DeliveryStatus,
    Inquiry,
    KnownRegistration,
    Message,
    MessageStatus,
    Preference,
    PreferencePublic,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from shared.membership import MembershipStatus, Role


async def active_company_ids(session: AsyncSession) -> list[str]:
    return list(await session.exec(select(ContactCompany.id).where(ContactCompany.status == MembershipStatus.ACTIVE)))


async def people_of_company(session: AsyncSession, company_id: str, roles: Sequence[Role] = ()) -> list[ContactPerson]:
    query = select(ContactPerson).where(ContactPerson.company_id == company_id)
    if roles:
        query = query.where(col(ContactPerson.role).in_(roles))
    return list(await session.exec(query.order_by(col(ContactPerson.id))))


async def people_of_companies(session: AsyncSession, company_ids: Iterable[str]) -> list[ContactPerson]:
    query = select(ContactPerson).where(col(ContactPerson.company_id).in_(list(company_ids)))
    return list(await session.exec(query.order_by(col(ContactPerson.id))))


async def company_names(session: AsyncSession, company_ids: Iterable[str]) -> dict[str, str]:
    found = await session.exec(
        select(ContactCompany.id, ContactCompany.legal_name).where(col(ContactCompany.id).in_(list(company_ids)))
    )
    return dict(found.all())


async def people_with_role(session: AsyncSession, role: Role) -> list[ContactPerson]:
    return list(await session.exec(select(ContactPerson).where(ContactPerson.role == role)))


async def registrations_of(session: AsyncSession, event_id: str, statuses: Sequence[str]) -> list[KnownRegistration]:
    query = select(KnownRegistration).where(
        KnownRegistration.event_id == event_id, col(KnownRegistration.status).in_(statuses)
    )
    return list(await session.exec(query))


async def attendees_of(session: AsyncSession, event_id: str) -> list[KnownRegistration]:
    """Who took part: those checked in, or every confirmed registrant when the door did not check people in."""
    confirmed = await registrations_of(session, event_id, [CONFIRMED_REGISTRATION])
    return [registration for registration in confirmed if registration.checked_in] or confirmed


async def choices_of(session: AsyncSession, person_ids: Sequence[str]) -> dict[tuple[str, Category, Channel], Choice]:
    """The choices people made, in one query however many people a batch of facts concerns."""
    found = await session.exec(select(Preference).where(col(Preference.person_id).in_(person_ids)))
    return {(row.person_id, row.category, row.channel): Choice(row.enabled, row.frequency) for row in found}


async def preferences_of(session: AsyncSession, person_id: str) -> list[PreferencePublic]:
    """What a person gets, per category and channel: their choices, and the defaults where they made none."""
    found = await session.exec(select(Preference).where(Preference.person_id == person_id))
    chosen = {(row.category, row.channel): Choice(row.enabled, row.frequency) for row in found}
    answer = []
    for category in Category:
        for channel in Channel:
            choice = chosen.get((category, channel)) or default_choice(category, channel)
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


def _inbox_of(person_id: str) -> list[ColumnElement[bool]]:
    return [
        col(Message.person_id) == person_id,
        col(Message.channel) == Channel.IN_APP,
        col(Message.status) == MessageStatus.SENT,
    ]


async def inbox(
    session: AsyncSession, person_id: str, page: int, page_size: int, unread_only: bool
) -> tuple[list[Message], int]:
    conditions = _inbox_of(person_id)
    if unread_only:
        conditions.append(col(Message.read_at).is_(None))
    total = (await session.exec(select(func.count()).select_from(Message).where(*conditions))).one()
    found = await session.exec(
        select(Message)
        .where(*conditions)
        .order_by(col(Message.created_at).desc(), col(Message.id).desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return list(found), total


async def unread_count(session: AsyncSession, person_id: str) -> int:
    query = select(func.count()).select_from(Message).where(*_inbox_of(person_id), col(Message.read_at).is_(None))
    return (await session.exec(query)).one()


async def inbox_since(session: AsyncSession, person_id: str, since: datetime) -> list[Message]:
    query = (
        select(Message)
        .where(*_inbox_of(person_id), col(Message.created_at) >= since)
        .order_by(col(Message.created_at), col(Message.id))
    )
    return list(await session.exec(query))


async def mark_all_read(session: AsyncSession, person_id: str, now: datetime) -> int:
    result = await session.exec(
        update(Message).where(*_inbox_of(person_id), col(Message.read_at).is_(None)).values(read_at=now)
    )
    return int(result.rowcount)


async def due_emails(session: AsyncSession, now: datetime, limit: int) -> list[Message]:
    query = (
        select(Message)
        .where(
            Message.status == MessageStatus.QUEUED,
            Message.channel == Channel.EMAIL,
            col(Message.next_attempt_at) <= now,
        )
        .order_by(col(Message.next_attempt_at), col(Message.id))
        .limit(limit)
    )
    return list(await session.exec(query))


async def messages_by_id(session: AsyncSession, ids: Sequence[str]) -> dict[str, Message]:
    return {message.id: message for message in await session.exec(select(Message).where(col(Message.id).in_(ids)))}


async def held_messages(session: AsyncSession, frequency: Frequency, cutoff: datetime) -> list[Message]:
    query = (
        select(Message)
        .where(Message.status == MessageStatus.HELD, Message.held_for == frequency, col(Message.created_at) < cutoff)
        .order_by(col(Message.recipient), col(Message.channel), col(Message.created_at))
    )
    return list(await session.exec(query))


async def digests_already_sent(session: AsyncSession, source_event_id: str) -> set[tuple[str, Channel]]:
    found = await session.exec(
        select(Message.recipient, Message.channel).where(Message.source_event_id == source_event_id)
    )
    return {(recipient, Channel(channel)) for recipient, channel in found}


async def message_log(
    session: AsyncSession, channel: Channel | None, status: MessageStatus | None, page: int, page_size: int
) -> tuple[list[Message], int]:
    conditions = [Message.channel == channel] if channel else []
    if status:
        conditions.append(Message.status == status)
    total = (await session.exec(select(func.count()).select_from(Message).where(*conditions))).one()
    found = await session.exec(
        select(Message)
        .where(*conditions)
        .order_by(col(Message.created_at).desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return list(found), total


async def endpoints_wanting(session: AsyncSession, event_type: str) -> list[WebhookEndpoint]:
    # Few endpoints, read on each public fact: filtering the JSON list here reads the same on both databases.
    enabled = await session.exec(select(WebhookEndpoint).where(WebhookEndpoint.enabled == True))  # noqa: E712
    return [endpoint for endpoint in enabled if event_type in endpoint.event_types]


async def endpoints_of(session: AsyncSession, owner_id: str | None) -> list[WebhookEndpoint]:
    query = select(WebhookEndpoint).order_by(col(WebhookEndpoint.created_at))
    if owner_id is not None:
        query = query.where(WebhookEndpoint.owner_id == owner_id)
    return list(await session.exec(query))


async def due_deliveries(session: AsyncSession, now: datetime, limit: int) -> list[WebhookDelivery]:
    query = (
        select(WebhookDelivery)
        .join(WebhookEndpoint)
        .where(
            WebhookDelivery.status == DeliveryStatus.PENDING,
            col(WebhookDelivery.next_attempt_at) <= now,
            WebhookEndpoint.enabled,
        )
        .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.created_at))
        .limit(limit)
    )
    return list(await session.exec(query))


async def deliveries_of(
    session: AsyncSession, endpoint_id: str, status: DeliveryStatus | None, page: int, page_size: int
) -> tuple[list[WebhookDelivery], int]:
    conditions = [WebhookDelivery.endpoint_id == endpoint_id]
    if status:
        conditions.append(WebhookDelivery.status == status)
    total = (await session.exec(select(func.count()).select_from(WebhookDelivery).where(*conditions))).one()
    found = await session.exec(
        select(WebhookDelivery)
        .where(*conditions)
        .order_by(col(WebhookDelivery.created_at).desc(), col(WebhookDelivery.id))
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return list(found), total


async def attempts_of(session: AsyncSession, delivery_id: str) -> list[WebhookAttempt]:
    query = (
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id == delivery_id)
        .order_by(col(WebhookAttempt.attempted_at))
    )
    return list(await session.exec(query))


async def pending_deliveries_of(session: AsyncSession, endpoint_id: str) -> list[WebhookDelivery]:
    query = select(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == DeliveryStatus.PENDING
    )
    return list(await session.exec(query))


async def inquiries_from(session: AsyncSession, client: str, since: datetime) -> list[datetime]:
    query = select(Inquiry.created_at).where(Inquiry.client == client, col(Inquiry.created_at) > since)
    return list(await session.exec(query))


async def inquiries_to(session: AsyncSession, company_id: str, since: datetime) -> list[datetime]:
    query = select(Inquiry.created_at).where(Inquiry.company_id == company_id, col(Inquiry.created_at) > since)
    return list(await session.exec(query))


async def forget_inquiries_before(session: AsyncSession, moment: datetime) -> None:
    await session.exec(delete(Inquiry).where(col(Inquiry.created_at) <= moment))
