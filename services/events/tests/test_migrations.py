"""Migration 0002 on a database that already holds events and registrations: every event's calendar entries stand
at their first revision, and the guests registered before languages were asked are written to in Italian."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import JSON, bindparam, text
from sqlalchemy.ext.asyncio import create_async_engine

from services.events.app import MIGRATIONS

STARTS = datetime(2027, 3, 10, 9, 30, tzinfo=UTC)
EVENT = {
    "id": "e-1",
    "title_it": "Corso di modellistica 3D",
    "title_en": "",
    "description_it": "",
    "description_en": "",
    "event_type": "training",
    "time_zone": "Europe/Rome",
    "starts_at": STARTS,
    "ends_at": STARTS + timedelta(hours=4),
    "venue": "Polo Tecnologico di Capannori",
    "audience": "public",
    "capacity": 20,
    "price_member_cents": 0,
    "price_other_cents": 0,
    "requires_approval": False,
    "tags": [],
    "status": "published",
    "created_by": "staff",
    "created_at": STARTS - timedelta(days=30),
    "updated_at": STARTS - timedelta(days=30),
    "registrations_received": 2,
    "seats_held": 2,
    "waiting": 0,
}


def _registration(registration_id: str, sequence: int, is_member: bool) -> dict[str, Any]:
    return {
        "id": registration_id,
        "event_id": "e-1",
        "sequence": sequence,
        "name": registration_id,
        "is_member": is_member,
        "status": "confirmed",
        "price_due_cents": 0,
        "checkin_token": f"code-of-{registration_id}",
        "created_at": STARTS - timedelta(days=20),
        "updated_at": STARTS - timedelta(days=20),
    }


def _insert(table: str, row: dict[str, Any]) -> Any:
    """`row` as the 0001 schema stores it; lists go into JSON columns."""
    statement = text(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join(f':{name}' for name in row)})")
    return statement.bindparams(
        *(
            bindparam(name, value, type_=JSON) if isinstance(value, list) else bindparam(name, value)
            for name, value in row.items()
        )
    )


async def _store_before_0002(database_url: str) -> None:
    engine = create_async_engine(database_url)
    async with engine.begin() as connection:
        await connection.execute(_insert("event", EVENT))
        await connection.execute(_insert("registration", _registration("guest", 1, is_member=False)))
        await connection.execute(_insert("registration", _registration("member", 2, is_member=True)))
    await engine.dispose()


async def _read_after_0002(database_url: str) -> tuple[int, dict[str, str | None]]:
    engine = create_async_engine(database_url)
    async with engine.connect() as connection:
        revision = (await connection.execute(text("SELECT revision FROM event"))).scalar_one()
        languages = (await connection.execute(text("SELECT id, language FROM registration"))).all()
    await engine.dispose()
    return revision, {registration_id: language for registration_id, language in languages}


def test_0002_starts_every_event_at_revision_0_and_earlier_guests_in_italian(database_url: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    command.upgrade(config, "0001")
    asyncio.run(_store_before_0002(database_url))

    command.upgrade(config, "head")

    assert asyncio.run(_read_after_0002(database_url)) == (0, {"guest": "it", "member": None})
    command.downgrade(config, "0001")  # and back, on both databases
