"""Wiring of the notifications service: `uvicorn --factory services.notifications.app:create_app`, or
`create_app(settings)`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.notifications import commands, handlers
from services.notifications.api import ROUTERS
from services.notifications.email_delivery import EmailSender
from services.notifications.events import PUBLISHED_EVENTS
from services.notifications.messages import DeliveryContext, UnsubscribeLinks
from services.notifications.rendering import Templates
from services.notifications.settings import NotificationsSettings
from services.notifications.webhook_delivery import Resolver, UrlPolicy, WebhookSender, resolve
from shared.auth import KeySource
from shared.clock import Clock, utc_now
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
    runtime = ServiceRuntime(
        "notifications", settings, MIGRATIONS, PUBLISHED_EVENTS, key_source=key_source, clock=clock
    )
    unsubscribe_links = UnsubscribeLinks(settings.unsubscribe_secret, settings.public_url)
    delivery_context = DeliveryContext(Templates(), settings.web_url, unsubscribe_links)
    policy = UrlPolicy(frozenset(settings.webhook_allowed_hosts), resolver)
    handlers.subscribe(runtime, delivery_context)

    email_sender = EmailSender(runtime.unit_of_work, unsubscribe_links, settings)
    webhook_sender = WebhookSender(
        runtime.unit_of_work,
        delivery_context,
        policy,
        runtime.clock,
        settings.webhook_concurrency,
        settings.webhook_timeout_seconds,
    )

    async def send_emails() -> None:
        await email_sender.send_due()

    async def send_webhooks() -> None:
        await webhook_sender.send_due()

    async def send_digests() -> None:
        async with runtime.unit_of_work() as uow:
            await commands.send_due_digests(uow, delivery_context, settings.digest_hour, settings.digest_weekday)

    runtime.every(settings.dispatch_interval_seconds, "email", send_emails)
    runtime.every(settings.dispatch_interval_seconds, "webhooks", send_webhooks)
    runtime.every(settings.digest_check_interval_seconds, "digests", send_digests)
    app = runtime.create_app(
        "Filiera — notifications",
        "Email, in-app inbox and signed webhooks (Standard Webhooks) for the Capannori footwear district network: "
        "what the other services' facts mean to people and partner systems, as each chose to hear it.",
        ROUTERS,
    )
    app.state.delivery_context = delivery_context
    app.state.unsubscribe_links = unsubscribe_links
    app.state.url_policy = policy
    return app
