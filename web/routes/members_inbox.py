"""My inbox: my messages, newest first, the unread badge, marking read; and new messages appearing while the
page is open. The notifications service streams them (server-sent events) to whoever holds the person's token;
the web client holds it, so it opens that stream itself and passes each message on to the browser as a piece of
the page, rendered in the person's language."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from shared.ids import Id
from web.dependencies import PagesDep
from web.gateway import ApiError, headers_for
from web.routes.members_area import MemberApiDep, page_error
from web.settings import WebSettings

router = APIRouter()
MESSAGES_PER_PAGE = 20
# The gateway in front cuts a quiet answer after a minute: a comment this often keeps the stream open.
KEEP_ALIVE_SECONDS = 20.0
CONNECT_SECONDS = 10.0
# Sent after the upstream stream ends: the browser's EventSource waits this long, then connects again.
RETRY_MILLISECONDS = 3000


@router.get("/inbox", response_class=HTMLResponse)
async def inbox(
    request: Request,
    pages: PagesDep,
    api: MemberApiDep,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    unread: bool = False,
    done: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    params: dict[str, Any] = {"page": page, "page_size": MESSAGES_PER_PAGE}
    if unread:
        params["unread_only"] = "true"
    found = await api.section("/notifications/inbox", params)
    return pages.render(
        request,
        "members/inbox.html.j2",
        done=done,
        messages=found,
        unread_only=unread,
        page=page,
        pages_of_messages=-(-found["total"] // MESSAGES_PER_PAGE) if found else 0,
    )


@router.get("/inbox/unread-badge", response_class=HTMLResponse)
async def unread_badge(request: Request, pages: PagesDep, api: MemberApiDep) -> HTMLResponse:
    """The badge beside the inbox in the area's navigation (htmx asks for it after the page is shown)."""
    found = await api.section("/notifications/inbox/unread-count")
    return pages.render(request, "members/unread_badge.html.j2", unread=found["unread"] if found else None)


@router.post("/inbox/{message_id:id}/read", response_class=HTMLResponse)
async def mark_read(message_id: Id, request: Request, pages: PagesDep, api: MemberApiDep) -> Response:
    try:
        message = await api.post(f"/notifications/inbox/{message_id}/read")
    except ApiError as error:
        raise page_error(error) from error
    if request.headers.get("HX-Request"):
        shown = pages.render(request, "members/inbox_message.html.j2", message=message)
        shown.headers["HX-Trigger"] = "unread-changed"
        return shown
    return RedirectResponse(f"/inbox#message-{message_id}", status_code=303)


@router.post("/inbox/read-all")
async def mark_all_read(api: MemberApiDep) -> RedirectResponse:
    try:
        await api.post("/notifications/inbox/read-all")
    except ApiError as error:
        raise page_error(error) from error
    return RedirectResponse("/inbox?done=all_read", status_code=303)


@dataclass
class Frame:
    """One server-sent event (WHATWG HTML §9.2): its type, id and data."""

    event: str = "message"
    id: str | None = None
    data: list[str] = field(default_factory=list)


async def frames_of(lines: AsyncIterator[str]) -> AsyncIterator[Frame]:
    """The events of a text/event-stream, line by line; comments (keep-alives) are skipped."""
    frame = Frame()
    async for line in lines:
        if not line:
            if frame.data:
                yield frame
            frame = Frame()
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            frame.event = value
        elif name == "id":
            frame.id = value
        elif name == "data":
            frame.data.append(value)


def event_text(event: str, data: str, event_id: str | None = None) -> str:
    """One server-sent event as the browser reads it; every line of the data is a data field of its own."""
    lines = [f"event: {event}"] + ([f"id: {event_id}"] if event_id else [])
    lines += [f"data: {line}" for line in data.splitlines() or [""]]
    return "\n".join(lines) + "\n\n"


async def upstream_frames(url: str, headers: dict[str, str], found: asyncio.Queue[Frame | None]) -> None:
    """Reads the notifications stream into `found`; None once it ends (closed, refused, or unreachable)."""
    timeout = httpx.Timeout(CONNECT_SECONDS, read=None)
    try:
        async with httpx.AsyncClient(timeout=timeout) as client, client.stream("GET", url, headers=headers) as answer:
            if answer.status_code == httpx.codes.OK:
                async for frame in frames_of(answer.aiter_lines()):
                    await found.put(frame)
    except httpx.HTTPError:
        pass  # the browser connects again, after its retry delay
    finally:
        await found.put(None)


async def relayed(url: str, headers: dict[str, str], shown: Callable[[dict[str, Any]], str]) -> AsyncIterator[str]:
    """The browser's stream: each new message as a piece of the inbox page, a comment while nothing happens."""
    found: asyncio.Queue[Frame | None] = asyncio.Queue()
    reader = asyncio.create_task(upstream_frames(url, headers, found))
    try:
        yield f"retry: {RETRY_MILLISECONDS}\n\n"
        while True:
            try:
                frame = await asyncio.wait_for(found.get(), KEEP_ALIVE_SECONDS)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if frame is None:
                return
            if frame.event == "message":
                yield event_text("message", shown(json.loads("\n".join(frame.data))), frame.id)
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


@router.get("/inbox/stream")
async def stream(
    request: Request,
    pages: PagesDep,
    api: MemberApiDep,
    last_event_id: Annotated[str | None, Header(max_length=100)] = None,
) -> StreamingResponse:
    settings: WebSettings = request.app.state.settings
    headers = headers_for(api.member.caller) | {"Accept": "text/event-stream"}
    if last_event_id:
        headers["Last-Event-ID"] = last_event_id  # resumes after the last message the page has

    def shown(message: dict[str, Any]) -> str:
        return bytes(pages.render(request, "members/inbox_message.html.j2", message=message).body).decode()

    return StreamingResponse(
        relayed(f"{settings.gateway_url.rstrip('/')}/api/notifications/inbox/stream", headers, shown),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
