"""The shared consumer's promises, against the real broker and a real database:
a redelivered event has one effect; a poison message goes to `<topic>.dlq` with its reason and the partition
moves on; offsets are committed once the effect is durable."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import ClassVar

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import TopicPartition
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import SQLModel, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.consumer import Fact, IdempotentConsumer, ProcessedEvent, one_at_a_time, subscribe
from shared.db import create_engine, session_factory
from shared.envelope import CORRELATION_HEADER, CloudEvent, IntegrationEvent
from shared.kafka import BrokerConnection, create_broker
from shared.leader import LeaderLock
from shared.logs import correlated
from shared.outbox import OutboxMessage, OutboxRelay
from shared.unit_of_work import UnitOfWork
from tests.support.infrastructure import KafkaReader

Sessions = async_sessionmaker[AsyncSession]


class Acknowledged(IntegrationEvent):
    """The handler's effect: one outbox row per handled event, so effects can be counted."""

    event_type: ClassVar[str] = "test.order.acknowledged"
    topic: ClassVar[str] = "test.acknowledgements.v1"
    key_field: ClassVar[str] = "order_id"
    order_id: str


class Harness:
    def __init__(self, topic: str, group: str, sessions: Sessions, unit_of_work: Callable[[], UnitOfWork]) -> None:
        self.topic = topic
        self.group = group
        self.sessions = sessions
        self.unit_of_work = unit_of_work

    async def effects(self) -> int:
        async with self.sessions() as session:
            return await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0

    async def handled(self) -> int:
        async with self.sessions() as session:
            return await session.scalar(select(func.count()).select_from(ProcessedEvent)) or 0


async def handle_order(uow: UnitOfWork, event: CloudEvent) -> None:
    if event.data.get("explode"):
        raise ValueError(f"order {event.subject} cannot be acknowledged")
    uow.publish(Acknowledged(order_id=event.subject or ""))


@pytest.fixture
async def orders_database(database_url: str) -> AsyncIterator[tuple[AsyncEngine, Sessions]]:
    """A database with the outbox, where the handler's effects are counted, and the consumer's inbox."""
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        tables = [SQLModel.metadata.tables[model.__tablename__] for model in (OutboxMessage, ProcessedEvent)]
        await connection.run_sync(SQLModel.metadata.create_all, tables=tables)
    yield engine, session_factory(engine)
    await engine.dispose()


def new_topic_and_group() -> tuple[str, str]:
    return f"test.orders.{uuid.uuid4().hex[:8]}", f"orders-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def harness(orders_database: tuple[AsyncEngine, Sessions], kafka_bootstrap: str) -> AsyncIterator[Harness]:
    engine, sessions = orders_database
    broker = create_broker(kafka_bootstrap, client_id="consumer-test")
    connection = BrokerConnection(broker, kafka_bootstrap, "consumer-test")
    # The relay is never run: the effect rows stay in the outbox, where the test counts them.
    relay = OutboxRelay(sessions, connection.send, LeaderLock(engine, "test"))
    topic, group = new_topic_and_group()

    def unit_of_work() -> UnitOfWork:
        return UnitOfWork(sessions, "/test", relay.wake)

    consumer = IdempotentConsumer(
        group, one_at_a_time(handle_order), unit_of_work, broker, max_attempts=3, retry_delay=0.01
    )
    subscribe(broker, topic, consumer)
    await connection.connect_forever()
    yield Harness(topic, group, sessions, unit_of_work)
    await connection.close()


def order_event(order_id: str, **data: object) -> CloudEvent:
    return CloudEvent(
        id=str(uuid.uuid4()),
        source="/test",
        type="test.order.placed",
        subject=order_id,
        time=datetime.now(UTC),
        data={"order_id": order_id, **data},
    )


async def send(
    bootstrap: str,
    topic: str,
    *values: bytes,
    key: Callable[[int], bytes] = lambda _: b"one",
    headers: Callable[[int], list[tuple[str, bytes]]] = lambda _: [],
) -> None:
    """Send `values` in order; by default under one key, so they land in one partition."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for index, value in enumerate(values):
            await producer.send_and_wait(topic, value, key=key(index), headers=headers(index))
    finally:
        await producer.stop()


async def wait_for(condition: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


async def test_an_event_delivered_twice_has_one_effect(harness: Harness, kafka_bootstrap: str) -> None:
    event = order_event("order-1").model_dump_json().encode()
    closing = order_event("order-2").model_dump_json().encode()
    await send(kafka_bootstrap, harness.topic, event, event, closing)

    async def three_handled() -> bool:
        return await harness.handled() == 2 and await committed_offset(kafka_bootstrap, harness) == 3

    await wait_for(three_handled)
    assert await harness.effects() == 2


async def test_poison_messages_are_dead_lettered_with_a_reason_and_the_partition_moves_on(
    harness: Harness, kafka_bootstrap: str, kafka_reader: KafkaReader
) -> None:
    await send(
        kafka_bootstrap,
        harness.topic,
        b"this is not json",
        json.dumps({"id": "x", "type": "no.source"}).encode(),
        order_event("order-boom", explode=True).model_dump_json().encode(),
        order_event("order-fine").model_dump_json().encode(),
    )

    dead = await kafka_reader.read(f"{harness.topic}.dlq", lambda evs: len(evs) == 3)
    reasons = [d["_headers"]["dlq_reason"] for d in dead]
    assert reasons[0].startswith("not a CloudEvent")
    assert reasons[1].startswith("not a CloudEvent")
    assert reasons[2] == "ValueError: order order-boom cannot be acknowledged"
    assert dead[0]["_raw"] == b"this is not json"
    assert [d["_headers"]["dlq_original_offset"] for d in dead] == ["0", "1", "2"]
    assert all(d["_headers"]["dlq_consumer"] == harness.group for d in dead)

    async def all_four_committed() -> bool:
        return await committed_offset(kafka_bootstrap, harness) == 4

    await wait_for(all_four_committed)
    assert await harness.effects() == 1  # only order-fine; the failing handler's attempts left nothing behind


async def test_facts_waiting_together_are_handled_in_few_transactions_and_a_failing_one_only_fails_itself(
    orders_database: tuple[AsyncEngine, Sessions], kafka_bootstrap: str, kafka_reader: KafkaReader
) -> None:
    """Kafka hands over what is waiting as a batch: one transaction for all of it, unless one fact fails, and then
    each on its own, so the others are applied once and only the failing one is dead-lettered."""
    _engine, sessions = orders_database
    topic, group = new_topic_and_group()
    harness = Harness(topic, group, sessions, lambda: UnitOfWork(sessions, "/test", lambda: None))
    committed_in: dict[str, set[int]] = {}

    async def handle_and_note_the_transaction(uow: UnitOfWork, event: CloudEvent) -> None:
        await handle_order(uow, event)
        committed_in.setdefault(event.subject or "", set()).add(id(uow))

    calm = [order_event(f"calm-{index}").model_dump_json().encode() for index in range(50)]
    await send(kafka_bootstrap, topic, *calm)  # all waiting before the consumer starts
    broker = create_broker(kafka_bootstrap, client_id="batch-test")
    subscribe(
        broker,
        topic,
        IdempotentConsumer(
            group, one_at_a_time(handle_and_note_the_transaction), harness.unit_of_work, broker, retry_delay=0.01
        ),
    )
    connection = BrokerConnection(broker, kafka_bootstrap, "batch-test")
    await connection.connect_forever()
    try:
        await wait_for(lambda: _equals(harness.effects(), 50))
        transactions = {next(iter(ids)) for ids in committed_in.values()}
        assert len(transactions) < 50 / 5, f"50 facts in {len(transactions)} transactions"

        stormy = [order_event(f"storm-{index}", explode=index == 7).model_dump_json().encode() for index in range(20)]
        await send(kafka_bootstrap, topic, *stormy)
        [dead] = await kafka_reader.read(f"{topic}.dlq", lambda found: len(found) == 1)
        assert dead["_headers"]["dlq_reason"] == "ValueError: order storm-7 cannot be acknowledged"
        await wait_for(lambda: _equals(harness.effects(), 50 + 19))
        await wait_for(lambda: _equals(committed_offset(kafka_bootstrap, harness), 70))
        assert await harness.handled() == 69
    finally:
        await connection.close()


async def test_a_batch_handler_reads_the_new_facts_together_each_with_its_correlation_id(
    orders_database: tuple[AsyncEngine, Sessions], kafka_bootstrap: str
) -> None:
    """What a fan-out handler relies on: the batch's new facts in one call, in their order, a fact Kafka
    delivered twice given once, and what it publishes for a fact carrying that fact's correlation id."""
    _engine, sessions = orders_database
    topic, group = new_topic_and_group()
    harness = Harness(topic, group, sessions, lambda: UnitOfWork(sessions, "/test", lambda: None))
    batches: list[list[str]] = []

    async def acknowledge_together(uow: UnitOfWork, facts: Sequence[Fact]) -> None:
        batches.append([fact.event.subject or "" for fact in facts])
        for fact in facts:
            with correlated(fact.correlation_id):
                uow.publish(Acknowledged(order_id=fact.event.subject or ""))

    orders = [order_event(f"order-{index}") for index in range(30)]
    twice = [*orders, orders[4]]  # redelivered within the batch
    await send(
        kafka_bootstrap,
        topic,
        *(order.model_dump_json().encode() for order in twice),
        headers=lambda index: [(CORRELATION_HEADER, f"request-{index % 30}".encode())],
    )
    broker = create_broker(kafka_bootstrap, client_id="batch-handler-test")
    subscribe(broker, topic, IdempotentConsumer(group, acknowledge_together, harness.unit_of_work, broker))
    connection = BrokerConnection(broker, kafka_bootstrap, "batch-handler-test")
    await connection.connect_forever()
    try:
        await wait_for(lambda: _equals(committed_offset(kafka_bootstrap, harness), 31))
    finally:
        await connection.close()
    assert [order for batch in batches for order in batch] == [f"order-{index}" for index in range(30)]
    assert len(batches) < 30 / 5, f"30 facts in {len(batches)} calls"
    async with sessions() as session:
        rows = (await session.exec(select(OutboxMessage.key, OutboxMessage.headers))).all()
    assert {key: json.loads(headers)[CORRELATION_HEADER] for key, headers in rows} == {
        f"order-{index}": f"request-{index}" for index in range(30)
    }
    assert len(rows) == 30 and await harness.handled() == 30


async def committed_offset(bootstrap: str, harness: Harness) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(harness.group)
    finally:
        await admin.close()
    return sum(
        meta.offset for tp, meta in offsets.items() if isinstance(tp, TopicPartition) and tp.topic == harness.topic
    )


async def test_two_replicas_share_a_topics_partitions_and_each_event_has_one_effect(
    orders_database: tuple[AsyncEngine, Sessions], kafka_bootstrap: str
) -> None:
    """Two processes of one service (here two brokers over one database) in one consumer group."""
    _engine, sessions = orders_database
    topic, group = new_topic_and_group()
    await create_topic(kafka_bootstrap, topic, partitions=2)
    handled_by: dict[str, int] = {"a": 0, "b": 0}
    replicas = [await start_replica(name, kafka_bootstrap, topic, group, sessions, handled_by) for name in handled_by]
    try:
        await wait_for(lambda: group_members(kafka_bootstrap, group, expected=2))
        orders = [order_event(f"order-{index}").model_dump_json().encode() for index in range(40)]
        await send(kafka_bootstrap, topic, *orders, key=lambda index: f"order-{index}".encode())

        harness = Harness(topic, group, sessions, lambda: UnitOfWork(sessions, "/test", lambda: None))
        await wait_for(lambda: _equals(harness.effects(), 40))
        assert handled_by["a"] > 0 and handled_by["b"] > 0, handled_by
        assert handled_by["a"] + handled_by["b"] == 40
    finally:
        for replica in replicas:
            await replica.close()


async def _equals(count: Awaitable[int], expected: int) -> bool:
    return await count == expected


async def start_replica(
    name: str,
    bootstrap: str,
    topic: str,
    group: str,
    sessions: Sessions,
    handled_by: dict[str, int],
) -> BrokerConnection:
    async def handle_and_count(uow: UnitOfWork, event: CloudEvent) -> None:
        await handle_order(uow, event)
        handled_by[name] += 1

    broker = create_broker(bootstrap, client_id=f"replica-{name}")
    consumer = IdempotentConsumer(
        group,
        one_at_a_time(handle_and_count),
        lambda: UnitOfWork(sessions, "/test", lambda: None),
        broker,
        max_attempts=3,
    )
    subscribe(broker, topic, consumer)
    connection = BrokerConnection(broker, bootstrap, f"replica-{name}")
    await connection.connect_forever()
    return connection


async def create_topic(bootstrap: str, topic: str, partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
    finally:
        await admin.close()


async def group_members(bootstrap: str, group: str, expected: int) -> bool:
    """True once the group is stable with `expected` members, so that each holds a partition."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    _error, _group, state, _protocol_type, _protocol, members, *_ = response.groups[0]
    return state == "Stable" and len(members) == expected
