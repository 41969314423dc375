"""HTTP pieces every service mounts: health, readiness, metrics, contracts (AsyncAPI and event schemas),
and the middleware that carries the correlation id."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping

from fastapi import APIRouter, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.envelope import IntegrationEvent
from shared.logs import correlation_id
from shared.metrics import HTTP_REQUESTS

log = logging.getLogger("filiera.http")

REQUEST_ID_HEADER = "X-Request-ID"
# Probed every few seconds by orchestrators and Prometheus: logging them would bury the requests people make.
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})

ReadinessCheck = Callable[[], Awaitable[str | None]]  # returns what is missing, or None when fine
# What /readyz reports without it making the service unready (e.g. an outside feed that is down).
ReadinessDetail = Callable[[], Awaitable[object]]


class CorrelationMiddleware:
    """Takes the gateway's X-Request-ID (or makes one), puts it in logs, outbox headers and the response,
    and times the request. Plain ASGI: Starlette's BaseHTTPMiddleware costs a task and a stream per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = Headers(scope=scope).get(REQUEST_ID_HEADER) or str(uuid.uuid4())
        token = correlation_id.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            elapsed = time.perf_counter() - started
            HTTP_REQUESTS.labels(scope["method"], route, str(status)).observe(elapsed)
            if route not in QUIET_ROUTES:
                log.info("%s %s %d in %.1f ms", scope["method"], route, status, elapsed * 1000)
            correlation_id.reset(token)


def operations_router(
    checks: Mapping[str, ReadinessCheck],
    asyncapi: Callable[[], str],
    details: Mapping[str, ReadinessDetail] | None = None,
) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @router.get("/readyz", summary="Database and Kafka are reachable", responses={503: {"description": "Not ready"}})
    async def readyz() -> JSONResponse:
        missing = {name: problem for name, check in checks.items() if (problem := await check())}
        body: dict[str, object] = {"status": "not ready" if missing else "ready", "missing": missing}
        if details:
            body["details"] = {name: await detail() for name, detail in details.items()}
        return JSONResponse(body, status_code=503 if missing else 200)

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @router.get("/asyncapi.json", summary="AsyncAPI 3.0 document of the topics this service publishes and reads")
    async def asyncapi_document() -> Response:
        return Response(asyncapi(), media_type="application/json")

    return router


def event_schemas_router(events: Iterable[type[IntegrationEvent]]) -> APIRouter:
    """One JSON Schema per event type (the CloudEvent's `data`), for partners to validate against."""
    by_type = {event.event_type: event for event in events}
    router = APIRouter(prefix="/events/schemas", tags=["contracts"])

    @router.get("", summary="Event types this service publishes, with their topics")
    async def list_event_types() -> list[dict[str, str]]:
        return [
            {"type": t, "topic": e.topic, "schema": f"/events/schemas/{t}.json"} for t, e in sorted(by_type.items())
        ]

    @router.get(
        "/{event_type}.json",
        summary="JSON Schema of one event type's data",
        responses={404: {"description": "Unknown event type"}},
    )
    async def event_schema(event_type: str) -> dict[str, object]:
        if event_type not in by_type:
            raise HTTPException(404, detail=f"unknown event type {event_type!r}")
        schema = by_type[event_type].model_json_schema()
        schema["$id"] = f"/events/schemas/{event_type}.json"
        schema["title"] = event_type
        return schema

    return router


async def method_not_allowed(request: Request, _error: Exception) -> JSONResponse:
    """Starlette's 405 names only the first route that matched the path; HTTP wants every allowed method."""
    allowed = sorted(
        {
            method
            for route in request.app.router.routes
            if route.matches(request.scope)[0] != Match.NONE
            for method in getattr(route, "methods", ())
        }
    )
    return JSONResponse(
        {"detail": f"{request.method} is not allowed here; use {', '.join(allowed)}"},
        status_code=405,
        headers={"Allow": ", ".join(allowed)},
    )


def install_common(app: FastAPI) -> None:
    app.add_middleware(CorrelationMiddleware)
    app.add_exception_handler(405, method_not_allowed)
