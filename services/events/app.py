"""Wiring of the events service: `uvicorn --factory services.events.app:create_app`, or `create_app(settings)`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.events import commands, handlers, store
from services.events.api import ROUTERS
from services.events.events import PUBLISHED_EVENTS
from services.events.registration_queue import RegistrationQueue
from services.events.settings import EventsSettings
from shared.auth import KeySource
from shared.clock import Clock, utc_now
from shared.runtime import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(
    settings: EventsSettings | None = None, key_source: KeySource | None = None, clock: Clock = utc_now
) -> FastAPI:
    """`key_source` replaces the members service's JWKS (tests sign their own tokens); `clock` is where every
    command, route and scheduled job takes the time from (tests move it instead of waiting)."""
    settings = settings or EventsSettings()
    runtime = ServiceRuntime("events", settings, MIGRATIONS, PUBLISHED_EVENTS, key_source=key_source, clock=clock)
    handlers.subscribe(runtime)

    async def remind_events_starting_soon() -> None:
        async with runtime.unit_of_work() as uow:
            await commands.remind_events_starting_within(uow, settings.reminder_hours_before)

    async def pass_lapsed_offers_on() -> None:
        async with runtime.unit_of_work() as uow:
            event_ids = await store.events_with_lapsed_offers(uow.session, uow.now())
        for event_id in event_ids:
            async with runtime.unit_of_work() as uow:
                await commands.lapse_offers_of(uow, event_id, settings.offer_hours)

    runtime.every(settings.scheduler_interval_seconds, "reminders", remind_events_starting_soon)
    runtime.every(settings.scheduler_interval_seconds, "offer-lapses", pass_lapsed_offers_on)
    app = runtime.create_app(
        "Filiera — events",
        "Trade fairs, training and company events of the Capannori footwear district network: registrations "
        "that never overbook, waitlists with time-limited offers, QR check-in, iCalendar feeds, feedback.",
        ROUTERS,
    )
    app.state.registration_queue = RegistrationQueue(runtime.unit_of_work)
    return app
