"""Wiring: `create_app(settings)`, started like the services with `uvicorn --factory web.app:create_app`.

Every module of web/routes/ that has a `router` is served, each behind the CSRF check; the session and the
language are read for every page before its route runs and written back after it."""

from __future__ import annotations

import importlib
import pkgutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.exceptions import HTTPException
from fastapi.responses import PlainTextResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

import web.routes
from web.dependencies import SignInRequired, csrf_protected
from web.gateway import Gateway
from web.i18n import LANGUAGE_COOKIE, LANGUAGES, choose_language, load_all_translations
from web.session import SESSION_COOKIE, SessionCookies
from web.settings import WebSettings
from web.static import STATIC_PREFIX, own_files, vendored_router
from web.templating import Pages

LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600
# Pages load only what Filiera serves: no CDN, no inline script or style (htmx's own indicator style is off).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)


def create_app(
    settings: WebSettings | None = None, gateway_transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """`gateway_transport` stands in for the network in the unit tests (httpx.MockTransport)."""
    config = settings or WebSettings()
    cookies = SessionCookies(config.cookie_key.get_secret_value(), config.session_hours * 3600)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.gateway = Gateway(config.gateway_url, config.gateway_timeout_seconds, gateway_transport)
        try:
            yield
        finally:
            await app.state.gateway.close()

    app = FastAPI(title="Filiera web", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = config
    app.state.pages = Pages(load_all_translations())
    app.include_router(vendored_router())
    app.mount("/static", own_files(), name="static")
    for router in area_routers():
        app.include_router(router, dependencies=[Depends(csrf_protected)])
    app.add_exception_handler(SignInRequired, send_to_login)  # type: ignore[arg-type]  # Starlette types handlers loosely
    app.add_exception_handler(StarletteHTTPException, error_page)  # type: ignore[arg-type]  # as above

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.middleware("http")
    async def session_and_language(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if request.url.path.startswith(STATIC_PREFIX) or request.url.path == "/healthz":
            return await call_next(request)
        asked = request.query_params.get("lang")
        remembered = request.cookies.get(LANGUAGE_COOKIE)
        request.state.language = choose_language(asked, remembered, request.headers.get("accept-language"))
        request.state.session = session = cookies.read(request.cookies.get(SESSION_COOKIE), time.time())
        response = await call_next(request)
        if session.changed:
            response.set_cookie(
                SESSION_COOKIE, cookies.write(session), path="/", secure=True, httponly=True, samesite="lax"
            )
        if asked in LANGUAGES and asked != remembered:
            response.set_cookie(
                LANGUAGE_COOKIE, asked, max_age=LANGUAGE_COOKIE_SECONDS, path="/", secure=True, samesite="lax"
            )
        protect(response, request.state.language)
        return response

    return app


def area_routers() -> list[APIRouter]:
    """The `router` of every module in web/routes/: an area adds its pages without touching this file."""
    found = []
    for module in sorted(pkgutil.iter_modules(web.routes.__path__), key=lambda module: module.name):
        router = getattr(importlib.import_module(f"web.routes.{module.name}"), "router", None)
        if isinstance(router, APIRouter):
            found.append(router)
    return found


def protect(response: Response, language: str) -> None:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers.setdefault("Content-Language", language)
    response.headers["Vary"] = "Accept-Language, Cookie"
    if response.headers.get("content-type", "").startswith("text/html"):
        response.headers.setdefault("Cache-Control", "no-store")  # pages carry the person's CSRF token


async def send_to_login(request: Request, problem: SignInRequired) -> RedirectResponse:
    return RedirectResponse(problem.login_url, status_code=303)


async def error_page(request: Request, problem: HTTPException) -> Response:
    pages: Pages = request.app.state.pages
    if not hasattr(request.state, "session"):  # static files: no page around them
        return PlainTextResponse(str(problem.detail), status_code=problem.status_code)
    return pages.render(request, "base/error.html.j2", status_code=problem.status_code, problem=problem)
