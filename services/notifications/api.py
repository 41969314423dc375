"""HTTP routes of the notifications service. Routes are thin: they call a command or a query.

Who may call a route is decided here, in its dependencies, and only here: an inbox and preferences belong to a
person (`InboxOwner`), the delivery log to staff, webhook endpoints to a `WebhookManager` (staff, or a partner with
the scope, each seeing its own), inquiries to anyone (the directory is public); commands are given the person or
manager they act for.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent

from services.notifications import commands, store
from services.notifications.domain import (
    PARTNER_EVENT_DESCRIPTIONS,
    Category,
    Channel,
    Choice,
    TooManyInquiries,
    WebhookManager,
    webhook_manager,
)
from services.notifications.messages import DeliveryContext, UnsubscribeLinks, Unsubscription
from services.notifications.models import (
    AttemptPublic,
    DeliveryDetail,
    DeliveryPublic,
    DeliveryStatus,
    EndpointCreate,
    EndpointCreated,
    EndpointPublic,
    EndpointUpdate,
    EventTypeDescription,
    InboxMessage,
    InquiryAccepted,
    InquiryCreate,
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
from services.notifications.webhook_delivery import UrlPolicy
from shared.api import ERRORS, ClockDep, Page, PageNumber, PageSize, SettingsDep, UnitOfWorkDep
from shared.auth import CurrentPrincipal, StaffPrincipal
from shared.clock import Clock
from shared.ids import Id
from shared.runtime import ServiceRuntime
from shared.text import Line


async def unsubscribe_links(request: Request) -> UnsubscribeLinks:
    links: UnsubscribeLinks = request.app.state.unsubscribe_links
    return links


async def delivery_context(request: Request) -> DeliveryContext:
    context: DeliveryContext = request.app.state.delivery_context
    return context


async def url_policy(request: Request) -> UrlPolicy:
    policy: UrlPolicy = request.app.state.url_policy
    return policy


async def inbox_owner(principal: CurrentPrincipal) -> str:
    """The person whose inbox and preferences a request reads: the caller, who must be a person."""
    if principal.kind != "person":
        raise HTTPException(403, detail="inboxes and preferences belong to people, not partner systems")
    return principal.subject


async def manager_of_webhooks(principal: CurrentPrincipal) -> WebhookManager:
    return webhook_manager(principal)


Token = Annotated[str, Query(min_length=10, max_length=2000, pattern=r"^[A-Za-z0-9_.-]+$")]


async def unsubscription(
    token: Token, links: Annotated[UnsubscribeLinks, Depends(unsubscribe_links)]
) -> Unsubscription:
    """The person and the categories an unsubscribe link names: the signed link is its own authorisation (a
    broken one is refused at once, before the page's click)."""
    return links.read(token)


UnsubscribeFrom = Annotated[Unsubscription, Depends(unsubscription)]
PolicyDep = Annotated[UrlPolicy, Depends(url_policy)]
DeliveryContextDep = Annotated[DeliveryContext, Depends(delivery_context)]
InboxOwner = Annotated[str, Depends(inbox_owner)]
Manager = Annotated[WebhookManager, Depends(manager_of_webhooks)]


inbox = APIRouter(prefix="/inbox", tags=["inbox"], responses=ERRORS)


@inbox.get("", response_model=Page[InboxMessage], summary="My in-app messages, newest first")
async def my_inbox(
    me: InboxOwner, uow: UnitOfWorkDep, page: PageNumber = 1, page_size: PageSize = 20, unread_only: bool = False
) -> Any:
    async with uow:
        items, total = await store.inbox(uow.session, me, page, page_size, unread_only)
    return Page(
        items=[InboxMessage.model_validate(item, from_attributes=True) for item in items],
        total=total,
        page=page,
        page_size=page_size,
    )


@inbox.get("/unread-count", response_model=UnreadCount, summary="How many of my messages are unread")
async def my_unread_count(me: InboxOwner, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return UnreadCount(unread=await store.unread_count(uow.session, me))


@inbox.post("/{message_id:id}/read", response_model=InboxMessage, summary="Mark one message read")
async def mark_read(message_id: Id, me: InboxOwner, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.mark_read(uow, me, message_id)


@inbox.post("/read-all", response_model=MarkedRead, summary="Mark every message read")
async def mark_all_read(me: InboxOwner, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return MarkedRead(marked=await commands.mark_all_read(uow, me))


@inbox.get(
    "/stream",
    response_class=EventSourceResponse,
    summary="My new messages as they arrive (server-sent events; `Last-Event-ID` resumes after a drop)",
)
async def stream(
    request: Request,
    me: InboxOwner,
    config: SettingsDep[NotificationsSettings],
    clock: ClockDep,
    last_event_id: Annotated[Line | None, Header(max_length=100)] = None,
) -> AsyncIterator[ServerSentEvent]:
    runtime: ServiceRuntime = request.app.state.runtime
    seen: dict[str, datetime] = {}
    since = await _resume_point(runtime, me, last_event_id, clock)
    first_pass = True
    while not await request.is_disconnected():
        async with runtime.sessions() as session:
            # A short look back: a message committed late can carry a creation time a little in the past.
            found = await store.inbox_since(session, me, since - timedelta(seconds=10))
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


async def _resume_point(runtime: ServiceRuntime, person_id: str, last_event_id: str | None, clock: Clock) -> datetime:
    """Messages after the one the client saw last, or from now on."""
    async with runtime.sessions() as session:
        last = await session.get(Message, last_event_id) if last_event_id else None
    if last is not None and last.person_id == person_id:
        return last.created_at + timedelta(microseconds=1)
    return clock()


preferences = APIRouter(prefix="/preferences", tags=["preferences"], responses=ERRORS)


@preferences.get(
    "/me", response_model=list[PreferencePublic], summary="What I get, per category and channel (defaults included)"
)
async def my_preferences(me: InboxOwner, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await store.preferences_of(uow.session, me)


@preferences.put(
    "/me/{category}/{channel}",
    response_model=list[PreferencePublic],
    summary="Choose on/off and frequency (instant, daily or weekly digest) for a category and channel",
)
async def choose(
    category: Category, channel: Channel, data: PreferenceUpdate, me: InboxOwner, uow: UnitOfWorkDep
) -> Any:
    async with uow:
        await commands.choose(uow, me, category, channel, Choice(data.enabled, data.frequency))
        return await store.preferences_of(uow.session, me)


unsubscribe = APIRouter(prefix="/unsubscribe", tags=["preferences"], responses=ERRORS)


@unsubscribe.post(
    "",
    response_model=Unsubscribed,
    summary="One-click unsubscribe (RFC 8058), from the link in an email's List-Unsubscribe header",
)
async def unsubscribe_one_click(link: UnsubscribeFrom, uow: UnitOfWorkDep) -> Any:
    person_id, categories = link
    async with uow:
        return await commands.unsubscribe(uow, person_id, categories)


@unsubscribe.get("", response_class=HTMLResponse, summary="The page an unsubscribe link opens: one button")
async def unsubscribe_page(_link: UnsubscribeFrom) -> str:
    return (
        "<!DOCTYPE html><html lang='it'><head><meta charset='utf-8'><title>Filiera</title></head><body>"
        "<form method='post'><p>Non ricevere più questi messaggi via email? / Stop these emails?</p>"
        "<button type='submit'>Conferma / Confirm</button></form></body></html>"
    )


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
async def register_endpoint(data: EndpointCreate, manager: Manager, uow: UnitOfWorkDep, policy: PolicyDep) -> Any:
    async with uow:
        return await commands.register_webhook_endpoint(uow, data, manager, policy)


@hooks.get("/endpoints", response_model=list[EndpointPublic], summary="My endpoints (staff: all)")
async def list_endpoints(manager: Manager, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await store.endpoints_of(uow.session, None if manager.sees_every_endpoint else manager.subject)


@hooks.get("/endpoints/{endpoint_id:id}", response_model=EndpointPublic, summary="One endpoint")
async def get_endpoint(endpoint_id: Id, manager: Manager, uow: UnitOfWorkDep) -> WebhookEndpoint:
    async with uow:
        return await commands.webhook_endpoint(uow, endpoint_id, manager)


@hooks.patch(
    "/endpoints/{endpoint_id:id}",
    response_model=EndpointPublic,
    summary="Change an endpoint; enabled=true re-enables it and sends what waited",
)
async def update_endpoint(
    endpoint_id: Id, data: EndpointUpdate, manager: Manager, uow: UnitOfWorkDep, policy: PolicyDep
) -> Any:
    async with uow:
        return await commands.update_webhook_endpoint(uow, endpoint_id, data, manager, policy)


@hooks.delete(
    "/endpoints/{endpoint_id:id}", status_code=204, summary="Stop deliveries to an endpoint (its log is kept)"
)
async def delete_endpoint(endpoint_id: Id, manager: Manager, uow: UnitOfWorkDep) -> None:
    async with uow:
        await commands.delete_webhook_endpoint(uow, endpoint_id, manager)


@hooks.post(
    "/endpoints/{endpoint_id:id}/secret",
    response_model=SecretRotated,
    summary="Rotate the signing secret; the old one keeps signing too for a while",
)
async def rotate_secret(
    endpoint_id: Id, manager: Manager, uow: UnitOfWorkDep, config: SettingsDep[NotificationsSettings]
) -> Any:
    overlap = timedelta(hours=config.webhook_secret_overlap_hours)
    async with uow:
        return await commands.rotate_webhook_secret(uow, endpoint_id, manager, overlap)


@hooks.get(
    "/endpoints/{endpoint_id:id}/deliveries",
    response_model=Page[DeliveryPublic],
    summary="The endpoint's delivery log, newest first",
)
async def delivery_log(
    endpoint_id: Id,
    manager: Manager,
    uow: UnitOfWorkDep,
    status: DeliveryStatus | None = None,
    page: PageNumber = 1,
    page_size: PageSize = 50,
) -> Any:
    async with uow:
        await commands.webhook_endpoint(uow, endpoint_id, manager)
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
async def get_delivery(delivery_id: DeliveryId, manager: Manager, uow: UnitOfWorkDep) -> Any:
    async with uow:
        delivery = await commands.webhook_delivery(uow, delivery_id, manager)
        attempts = await store.attempts_of(uow.session, delivery.id)
    return DeliveryDetail(
        **DeliveryPublic.model_validate(delivery, from_attributes=True).model_dump(),
        body=delivery.body,
        attempt_log=[AttemptPublic.model_validate(attempt, from_attributes=True) for attempt in attempts],
    )


@hooks.post(
    "/deliveries/{delivery_id}/replay",
    response_model=DeliveryPublic,
    summary="Send a delivery again now (same webhook-id)",
)
async def replay(delivery_id: DeliveryId, manager: Manager, uow: UnitOfWorkDep) -> Any:
    async with uow:
        return await commands.replay_webhook_delivery(uow, delivery_id, manager)


inquiries = APIRouter(prefix="/inquiries", tags=["inquiries"], responses=ERRORS)


@inquiries.post(
    "",
    status_code=202,
    response_model=InquiryAccepted,
    summary="A buyer writes to a company of the directory (public): to its people, with a copy to the buyer",
    responses={429: {"description": "Too many inquiries from this client, or to this company, for now"}},
)
async def send_inquiry(
    data: InquiryCreate,
    request: Request,
    uow: UnitOfWorkDep,
    context: DeliveryContextDep,
    x_real_ip: Annotated[
        Line | None, Header(max_length=100, description="The sender's address (the gateway's)")
    ] = None,
) -> Any:
    client_address = x_real_ip or (request.client.host if request.client else "")
    try:
        async with uow:
            await commands.send_inquiry(uow, context, data, client_address)
    except TooManyInquiries as refused:
        retry_after = str(math.ceil(refused.retry_after.total_seconds()))
        raise HTTPException(429, detail=refused.message, headers={"Retry-After": retry_after}) from refused
    return InquiryAccepted()


ROUTERS = [inbox, preferences, unsubscribe, deliveries, hooks, inquiries]
