"""Wiring of the notifications service: `uvicorn --factory services.notifications.app:create_app`, or
`create_app(settings)`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.notifications import commands, handlers
from services.notifications.api import ROUTERS
from services.notifications.commands import Clock, Postman
from services.notifications.events import PUBLISHED_EVENTS
from services.notifications.mail import EmailSender
from services.notifications.rendering import Writer
from services.notifications.settings import NotificationsSettings
from services.notifications.webhooks import Resolver, UrlPolicy, WebhookSender, resolve
from shared.auth import KeySource
from shared.clock import utc_now
from shared.runtime import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(
    settings: NotificationsSettings | None = None,
    key_source: KeySource | None = None,
    clock: Clock = utc_now,
    resolver: Resolver = resolve,
) -> FastAPI:
    """`key_source` replaces the members service's JWKS, `clock` the time that decides retries and digests, and
    `resolver` the DNS (tests)."""
    settings = settings or NotificationsSettings()
    runtime = ServiceRuntime("notifications", settings, MIGRATIONS, PUBLISHED_EVENTS, key_source=key_source)
    postman = Postman(Writer(), clock, settings.unsubscribe_secret, settings.public_url, settings.web_url)
    policy = UrlPolicy(frozenset(settings.webhook_allowed_hosts), resolver)
    handlers.subscribe(runtime, postman)

    email_sender = EmailSender(runtime.unit_of_work, postman, settings, clock)
    webhook_sender = WebhookSender(
        runtime.unit_of_work, postman, policy, clock, settings.webhook_concurrency, settings.webhook_timeout_seconds
    )

    async def send_emails() -> None:
        await email_sender.send_due()

    async def send_webhooks() -> None:
        await webhook_sender.send_due()

    async def send_digests() -> None:
        async with runtime.unit_of_work() as uow:
            await commands.send_due_digests(uow, postman, clock(), settings.digest_hour, settings.digest_weekday)

    runtime.every(settings.dispatch_interval_seconds, "email", send_emails)
    runtime.every(settings.dispatch_interval_seconds, "webhooks", send_webhooks)
    runtime.every(settings.digest_check_interval_seconds, "digests", send_digests)
    app = runtime.create_app(
        "Filiera — notifications",
        "Email, in-app inbox and signed webhooks (Standard Webhooks) for the Capannori footwear district network: "
        "what the other services' facts mean to people and partner systems, as each chose to hear it.",
        ROUTERS,
    )
    app.state.postman = postman
    app.state.url_policy = policy
    return app
