"""Other services' facts published as they publish them, and a wait for a service's database to show what a
consumed fact did."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.envelope import CloudEvent


async def publish_fact(
    bootstrap: str,
    topic: str,
    event_type: str,
    subject: str,
    data: dict[str, Any],
    source: str = "/filiera/members",
    event_id: str | None = None,
) -> str:
    """Another service's fact, published as it publishes them (CloudEvent, key = the aggregate's id); the same
    `event_id` twice is Kafka delivering one fact twice. Returns the fact's id."""
    fact = CloudEvent(
        id=event_id or str(uuid.uuid4()),
        source=source,
        type=event_type,
        subject=subject,
        time=datetime.now(UTC),
        data=data,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, fact.model_dump_json().encode(), key=subject.encode())
    finally:
        await producer.stop()
    return fact.id


async def until_stored(
    sessions: async_sessionmaker[AsyncSession],
    condition: Callable[[AsyncSession], Awaitable[bool]],
    timeout: float = 30,
) -> None:
    """Wait until the service's own database shows what a consumed fact should have done."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with sessions() as session:
            if await condition(session):
                return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the service did not apply the fact in time")
        await asyncio.sleep(0.1)
