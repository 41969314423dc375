"""HTTP routes of the notifications service. Routes are thin: they check who is calling and call a command or a
query."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent

from services.notifications import commands, store, webhooks
from services.notifications.commands import Postman
from services.notifications.domain import PARTNER_EVENT_DESCRIPTIONS, Category, Channel, Choice
from services.notifications.models import (
    DeliveryDetail,
    DeliveryPublic,
    DeliveryStatus,
    EndpointCreate,
    EndpointCreated,
    EndpointPublic,
    EndpointUpdate,
    EventTypeDescription,
    InboxMessage,
    MarkedRead,
    Message,
    MessageLogEntry,
    MessageStatus,
    PreferencePublic,
    PreferenceUpdate,
    SecretRotated,
    UnreadCount,
    Unsubscribed,
    WebhookEndpoint,
)
from services.notifications.settings import NotificationsSettings
from services.notifications.webhooks import UrlPolicy
from shared.api import ERRORS, Page, PageNumber, PageSize, UnitOfWorkDep
from shared.auth import CurrentPrincipal, Principal, StaffPrincipal
from shared.ids import Id
from shared.runtime import ServiceRuntime
from shared.text import Line


async def postman(request: Request) -> Postman:
    return request.app.state.postman


async def url_policy(request: Request) -> UrlPolicy:
    return request.app.state.url_policy


async def settings(request: Request) -> NotificationsSettings:
    return request.app.state.runtime.settings


async def person(principal: CurrentPrincipal) -> Principal:
    if principal.kind != "person":
        raise HTTPException(403, detail="inboxes and preferences belong to people, not partner systems")
    return principal


PostmanDep = Annotated[Postman, Depends(postman)]
PolicyDep = Annotated[UrlPolicy, Depends(url_policy)]
SettingsDep = Annotated[NotificationsSettings, Depends(settings)]
PersonPrincipal = Annotated[Principal, Depends(person)]

# ---- inbox ------------------------------------------------------------------------------------------------------

inbox = APIRouter(prefix="/inbox", tags=["inbox"], responses=ERRORS)


@inbox.get("", response_model=Page[InboxMessage], summary="My in-app messages, newest first")
async def my_inbox(
    me: PersonPrincipal, uow: UnitOfWorkDep, page: PageNumber = 1, page_size: PageSize = 20, unread_only: bool = False
) -> Any:
    async with uow:
        items, total = await store.inbox(uow.session, me.subject, page, page_size, unread_only)
    return Page(
        items=[InboxMessage.model_validate(item, from_attributes=True) for item in items],
        total=total,
        page=page,
        page_size=page_size,
    )


@inbox.get("/unread-count", response_model=UnreadCount, summary="How many of my messages are unread")
async def my_unread_count(me: PersonPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return UnreadCount(unread=await store.unread_count(uow.session, me.subject))


@inbox.post("/{message_id:id}/read", response_model=InboxMessage, summary="Mark one message read")
async def mark_read(message_id: Id, me: PersonPrincipal, uow: UnitOfWorkDep, mail: PostmanDep) -> Any:
    async with uow:
        return await commands.mark_read(uow, me.subject, message_id, mail.clock())


@inbox.post("/read-all", response_model=MarkedRead, summary="Mark every message read")
async def mark_all_read(me: PersonPrincipal, uow: UnitOfWorkDep, mail: PostmanDep) -> Any:
    async with uow:
        return MarkedRead(marked=await commands.mark_all_read(uow, me.subject, mail.clock()))


@inbox.get(
    "/stream",
    response_class=EventSourceResponse,
    summary="My new messages as they arrive (server-sent events; `Last-Event-ID` resumes after a drop)",
)
async def stream(
    request: Request,
    me: PersonPrincipal,
    config: SettingsDep,
    mail: PostmanDep,
    last_event_id: Annotated[Line | None, Header(max_length=100)] = None,
) -> AsyncIterator[ServerSentEvent]:
    runtime = request.app.state.runtime
    seen: dict[str, datetime] = {}
    since = await _resume_point(runtime, me.subject, last_event_id, mail)
    first_pass = True
    while not await request.is_disconnected():
        async with runtime.sessions() as session:
            # A short look back: a message committed late can carry a creation time a little in the past.
            found = await store.inbox_since(session, me.subject, since - timedelta(seconds=10))
        for message in found:
            if message.id not in seen:
                seen[message.id] = message.created_at
                if first_pass and message.created_at < since:
                    continue  # older than the stream (or than Last-Event-ID): the client has it already
                yield ServerSentEvent(
                    event="message", id=message.id, data=InboxMessage.model_validate(message, from_attributes=True)
                )
        first_pass = False
        if found:
            since = max(since, found[-1].created_at)
            seen = {key: moment for key, moment in seen.items() if moment >= since - timedelta(seconds=10)}
        await asyncio.sleep(config.inbox_stream_poll_seconds)


async def _resume_point(runtime: ServiceRuntime, person_id: str, last_event_id: str | None, mail: Postman) -> datetime:
    """Messages after the one the client saw last, or from now on."""
    async with runtime.sessions() as session:
        last = await session.get(Message, last_event_id) if last_event_id else None
    if last is not None and last.person_id == person_id:
        return last.created_at + timedelta(microseconds=1)
    return mail.clock()


# ---- preferences ------------------------------------------------------------------------------------------------

preferences = APIRouter(prefix="/preferences", tags=["preferences"], responses=ERRORS)


@preferences.get(
    "/me", response_model=list[PreferencePublic], summary="What I get, per category and channel (defaults included)"
)
async def my_preferences(me: PersonPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.preferences_of(uow, me.subject)


@preferences.put(
    "/me/{category}/{channel}",
    response_model=list[PreferencePublic],
    summary="Choose on/off and frequency (instant, daily or weekly digest) for a category and channel",
)
async def choose(
    category: Category, channel: Channel, data: PreferenceUpdate, me: PersonPrincipal, uow: UnitOfWorkDep
) -> Any:
    async with uow:
        await commands.choose(uow, me.subject, category, channel, Choice(data.enabled, data.frequency))
        return await commands.preferences_of(uow, me.subject)


unsubscribe = APIRouter(prefix="/unsubscribe", tags=["preferences"], responses=ERRORS)
Token = Annotated[str, Query(min_length=10, max_length=2000, pattern=r"^[A-Za-z0-9_.-]+$")]


@unsubscribe.post(
    "",
    response_model=Unsubscribed,
    summary="One-click unsubscribe (RFC 8058), from the link in an email's List-Unsubscribe header",
)
async def unsubscribe_one_click(token: Token, uow: UnitOfWorkDep, mail: PostmanDep) -> Any:
    person_id, categories = mail.unsubscription(token)
    async with uow:
        return await commands.unsubscribe(uow, person_id, categories)


@unsubscribe.get("", response_class=HTMLResponse, summary="The page an unsubscribe link opens: one button")
async def unsubscribe_page(token: Token, mail: PostmanDep) -> str:
    mail.unsubscription(token)  # a broken link is told at once, not after the click
    return (
        "<!DOCTYPE html><html lang='it'><head><meta charset='utf-8'><title>Filiera</title></head><body>"
        "<form method='post'><p>Non ricevere più questi messaggi via email? / Stop these emails?</p>"
        "<button type='submit'>Conferma / Confirm</button></form></body></html>"
    )


# ---- the delivery log (staff) -----------------------------------------------------------------------------------

deliveries = APIRouter(prefix="/deliveries", tags=["delivery log"], responses=ERRORS)


@deliveries.get(
    "",
    response_model=Page[MessageLogEntry],
    summary="Messages and what became of them; failed ones keep their reason (staff)",
)
async def message_log(
    _staff: StaffPrincipal,
    uow: UnitOfWorkDep,
    channel: Channel | None = None,
    status: MessageStatus | None = None,
    page: PageNumber = 1,
    page_size: PageSize = 50,
) -> Any:
    async with uow:
        items, total = await store.message_log(uow.session, channel, status, page, page_size)
    return Page(
        items=[MessageLogEntry.model_validate(item, from_attributes=True) for item in items],
        total=total,
        page=page,
        page_size=page_size,
    )


# ---- webhooks ---------------------------------------------------------------------------------------------------

hooks = APIRouter(prefix="/webhooks", tags=["webhooks"], responses=ERRORS)
DeliveryId = Annotated[str, Path(pattern=r"^msg_[0-9a-f]{32}$", description="The webhook-id of a delivery")]


@hooks.get(
    "/event-types", response_model=list[EventTypeDescription], summary="The facts partner systems may receive (public)"
)
async def event_types() -> Any:
    return [EventTypeDescription(type=name, description=text) for name, text in PARTNER_EVENT_DESCRIPTIONS.items()]


@hooks.post(
    "/endpoints",
    status_code=201,
    response_model=EndpointCreated,
    summary="Register a receiver (partner systems with scope webhooks:manage, or staff); the secret is shown once",
)
async def register_endpoint(
    data: EndpointCreate, principal: CurrentPrincipal, uow: UnitOfWorkDep, policy: PolicyDep
) -> Any:
    async with uow:
        return await webhooks.register_endpoint(uow, data, principal, policy)


@hooks.get("/endpoints", response_model=list[EndpointPublic], summary="My endpoints (staff: all)")
async def list_endpoints(principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    webhooks.ensure_may_manage(principal)
    async with uow:
        return await store.endpoints_of(uow.session, None if principal.is_staff else principal.subject)


@hooks.get("/endpoints/{endpoint_id:id}", response_model=EndpointPublic, summary="One endpoint")
async def get_endpoint(endpoint_id: Id, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> WebhookEndpoint:
    async with uow:
        return await webhooks.endpoint_of(uow, endpoint_id, principal)


@hooks.patch(
    "/endpoints/{endpoint_id:id}",
    response_model=EndpointPublic,
    summary="Change an endpoint; enabled=true re-enables it and sends what waited",
)
async def update_endpoint(
    endpoint_id: Id,
    data: EndpointUpdate,
    principal: CurrentPrincipal,
    uow: UnitOfWorkDep,
    policy: PolicyDep,
    mail: PostmanDep,
) -> Any:
    async with uow:
        return await webhooks.update_endpoint(uow, endpoint_id, data, principal, policy, mail.clock())


@hooks.delete(
    "/endpoints/{endpoint_id:id}", status_code=204, summary="Stop deliveries to an endpoint (its log is kept)"
)
async def delete_endpoint(endpoint_id: Id, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> None:
    async with uow:
        await webhooks.delete_endpoint(uow, endpoint_id, principal)


@hooks.post(
    "/endpoints/{endpoint_id:id}/secret",
    response_model=SecretRotated,
    summary="Rotate the signing secret; the old one keeps signing too for a while",
)
async def rotate_secret(
    endpoint_id: Id, principal: CurrentPrincipal, uow: UnitOfWorkDep, config: SettingsDep, mail: PostmanDep
) -> Any:
    async with uow:
        return await webhooks.rotate_secret(
            uow, endpoint_id, principal, timedelta(hours=config.webhook_secret_overlap_hours), mail.clock()
        )


@hooks.get(
    "/endpoints/{endpoint_id:id}/deliveries",
    response_model=Page[DeliveryPublic],
    summary="The endpoint's delivery log, newest first",
)
async def delivery_log(
    endpoint_id: Id,
    principal: CurrentPrincipal,
    uow: UnitOfWorkDep,
    status: DeliveryStatus | None = None,
    page: PageNumber = 1,
    page_size: PageSize = 50,
) -> Any:
    async with uow:
        await webhooks.endpoint_of(uow, endpoint_id, principal)
        items, total = await store.deliveries_of(uow.session, endpoint_id, status, page, page_size)
    return Page(
        items=[DeliveryPublic.model_validate(item, from_attributes=True) for item in items],
        total=total,
        page=page,
        page_size=page_size,
    )


@hooks.get(
    "/deliveries/{delivery_id}", response_model=DeliveryDetail, summary="One delivery with its body and every attempt"
)
async def get_delivery(delivery_id: DeliveryId, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    async with uow:
        delivery = await webhooks.delivery_of(uow, delivery_id, principal)
        attempts = await store.attempts_of(uow.session, delivery.id)
    return DeliveryDetail(
        **DeliveryPublic.model_validate(delivery, from_attributes=True).model_dump(),
        body=delivery.body,
        attempt_log=[attempt.model_dump() for attempt in attempts],
    )


@hooks.post(
    "/deliveries/{delivery_id}/replay",
    response_model=DeliveryPublic,
    summary="Send a delivery again now (same webhook-id)",
)
async def replay(delivery_id: DeliveryId, principal: CurrentPrincipal, uow: UnitOfWorkDep, mail: PostmanDep) -> Any:
    async with uow:
        return await webhooks.replay(uow, delivery_id, principal, mail.clock())


ROUTERS = [inbox, preferences, unsubscribe, deliveries, hooks]
