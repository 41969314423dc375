"""Alembic, run per service at start-up. Each service's `migrations/env.py` calls `run_alembic_env(metadata)`."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any, Literal

from alembic import command, context
from alembic.config import Config
from sqlalchemy import JSON, Connection, MetaData, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.types import TypeDecorator

from shared.db import is_sqlite

# Replicas starting together must not migrate at once; the lock is released when the migration connection closes.
_MIGRATION_LOCK_KEY = 7_246_110_001


def upgrade_to_head(migrations_dir: Path, database_url: str) -> None:
    """Apply the service's migrations; safe to call from inside a running event loop."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    errors: list[BaseException] = []

    def run() -> None:
        try:
            command.upgrade(config, "head")
        except BaseException as error:  # re-raised in the caller's thread
            errors.append(error)

    # Alembic's env drives its own event loop, so it gets a thread of its own.
    thread = threading.Thread(target=run, name="alembic")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def run_alembic_env(metadata: MetaData) -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None
    if context.is_offline_mode():
        context.configure(
            url=url,
            target_metadata=metadata,
            literal_binds=True,
            render_as_batch=is_sqlite(url),
            render_item=_render_item,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_online(url, metadata))


async def _run_online(url: str, metadata: MetaData) -> None:
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        if not is_sqlite(url):
            await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
        await connection.run_sync(_migrate, metadata, is_sqlite(url))
        await connection.commit()
    await engine.dispose()


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Enum lists are plain JSON in the database; their enum only matters when Python reads them back."""
    if type_ == "type" and isinstance(obj, TypeDecorator) and obj.impl_instance.__class__ is JSON:
        return "sa.JSON()"
    return False


def _migrate(connection: Connection, metadata: MetaData, sqlite: bool) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=sqlite, render_item=_render_item)
    with context.begin_transaction():
        context.run_migrations()
