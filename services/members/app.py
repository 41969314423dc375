"""Wiring of the members service: `uvicorn --factory services.members.app:create_app`, or
`create_app(settings, clock=...)`."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI

from services.members import commands
from services.members.api import ROUTERS, token_refused
from services.members.domain import TokenRefused
from services.members.events import PUBLISHED_EVENTS
from services.members.identity import KeyRing
from services.members.settings import MembersSettings
from shared.clock import Clock, rome_date, utc_now
from shared.runtime import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger(__name__)


class _LazyKeyRing:
    """Lets the token verifier be built before the key ring, which needs the migrated database."""

    def __init__(self) -> None:
        self.ring: KeyRing | None = None

    async def public_key(self, kid: str) -> object:
        assert self.ring is not None
        return await self.ring.public_key(kid)


def create_app(settings: MembersSettings | None = None, clock: Clock = utc_now) -> FastAPI:
    settings = settings or MembersSettings()
    keys = _LazyKeyRing()
    # Members verifies its own tokens from its own key ring rather than over HTTP from itself.
    runtime = ServiceRuntime("members", settings, MIGRATIONS, PUBLISHED_EVENTS, key_source=keys, clock=clock)
    app = runtime.create_app(
        "Filiera — members",
        "Member companies of the Capannori footwear district network, their people, governance, fees, "
        "the public B2B directory, and identity (login, JWKS).",
        ROUTERS,
    )
    app.add_exception_handler(TokenRefused, token_refused)

    async def prepare_identity() -> None:
        keys.ring = KeyRing(runtime.sessions)
        await keys.ring.load()
        app.state.key_ring = keys.ring
        if settings.first_admin_email and settings.first_admin_password:
            async with runtime.unit_of_work() as uow:
                if await commands.create_first_admin(uow, settings.first_admin_email, settings.first_admin_password):
                    log.info("created the first network admin %s", settings.first_admin_email)

    async def announce_overdue_fees() -> None:
        async with runtime.unit_of_work() as uow:
            # A fee falls due on a day in Capannori: the day it is there now, by the service's clock.
            await commands.announce_overdue_fees(uow, rome_date(uow.now()))

    runtime.after_start(prepare_identity)
    runtime.every(settings.scheduler_interval_seconds, "overdue-fees", announce_overdue_fees)
    return app
