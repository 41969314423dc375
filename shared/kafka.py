"""Kafka wiring: the FastStream broker, connected in the background so a service starts while Kafka is away."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import GroupCoordinatorNotAvailableError, KafkaError
from aiokafka.structs import RecordMetadata
from faststream.kafka import KafkaBroker

from shared.envelope import IntegrationEvent

log = logging.getLogger(__name__)


def create_broker(bootstrap_servers: str, client_id: str) -> KafkaBroker:
    return KafkaBroker(
        bootstrap_servers,
        client_id=client_id,
        # Every acknowledged event is on all in-sync replicas, and retries never duplicate or reorder it.
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=10_000,
        logger=logging.getLogger(f"{client_id}.kafka"),
    )


def document_publishers(broker: KafkaBroker, events: Iterable[type[IntegrationEvent]]) -> None:
    """Declare each public topic and its event types, so they appear in the service's AsyncAPI document.

    The outbox relay does the publishing; these publishers exist for the contract.
    """
    by_topic: dict[str, list[type[IntegrationEvent]]] = {}
    for event in events:
        by_topic.setdefault(event.topic, []).append(event)
    for topic, topic_events in by_topic.items():
        names = ", ".join(e.event_type for e in topic_events)
        payload = topic_events[0] if len(topic_events) == 1 else _union(topic_events)
        broker.publisher(topic, title=f"{topic}:publish", description=f"CloudEvents of type {names}", schema=payload)


def _union(events: list[type[IntegrationEvent]]) -> object:
    from typing import Union

    return Union[tuple(events)]  # noqa: UP007 - a runtime union of the topic's event models


class BrokerConnection:
    """Starts the broker (subscribers, dead letters) and the relay's producer, retrying until Kafka answers;
    `connected` tells the relay and /readyz.

    The relay sends raw records through a plain aiokafka producer: it needs no FastStream middleware per record,
    and that path is the outbox's latency.
    """

    def __init__(self, broker: KafkaBroker, bootstrap_servers: str, client_id: str) -> None:
        self.broker = broker
        self._bootstrap_servers = bootstrap_servers
        self._client_id = client_id
        self._producer: AIOKafkaProducer | None = None
        self.connected = False

    async def connect_forever(self, retry_every: float = 2.0) -> None:
        while not self.connected:
            try:
                await self.broker.start()
                self._producer = AIOKafkaProducer(
                    bootstrap_servers=self._bootstrap_servers,
                    client_id=f"{self._client_id}-outbox",
                    acks="all",
                    enable_idempotence=True,
                    request_timeout_ms=10_000,
                )
                await self._producer.start()
                self.connected = True
                log.info("connected to Kafka")
            except (KafkaError, OSError, TimeoutError) as error:
                log.warning("Kafka not reachable yet (%s); retrying in %.0fs", error, retry_every)
                await self._stop_quietly()
                await asyncio.sleep(retry_every)

    async def _stop_quietly(self) -> None:
        try:
            await self.close()
        except Exception:
            log.debug("stopping a half-started connection failed", exc_info=True)

    async def send(
        self, topic: str, key: bytes, value: bytes, headers: dict[str, str]
    ) -> asyncio.Future[RecordMetadata]:
        assert self._producer is not None, "send() before connect_forever()"
        # aiokafka is untyped: its send() answers the future of the record's acknowledgement.
        acknowledgement: asyncio.Future[RecordMetadata] = await self._producer.send(
            topic, value, key=key, headers=[(name, text.encode()) for name, text in headers.items()]
        )
        return acknowledgement

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
        await self.broker.stop()
        self.connected = False


class LagGauge:
    """Consumer lag — how many records each of the service's consumer groups has still to read — for /metrics.
    Read from Kafka (the groups' committed offsets against the partitions' ends), not from the consumers, so it
    tells the truth also about a consumer that is stuck."""

    def __init__(self, bootstrap_servers: str, client_id: str) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._client_id = f"{client_id}-lag"

    async def measure(self, groups: dict[str, str]) -> dict[tuple[str, str], int]:
        """`groups` maps consumer group to topic; returns the lag of each (group, topic) whose topic exists."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap_servers, client_id=self._client_id)
        ends = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap_servers, client_id=self._client_id, enable_auto_commit=False
        )
        await admin.start()
        await ends.start()
        try:
            lags = {}
            for group, topic in groups.items():
                partitions = await partitions_of(admin, topic)
                if not partitions:
                    continue
                try:
                    committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
                except GroupCoordinatorNotAvailableError:
                    continue  # a broker just started has no group coordinator yet: measured next time
                end_offsets = await ends.end_offsets(partitions)
                lags[(group, topic)] = sum(
                    end_offsets[partition] - _committed(committed, partition) for partition in partitions
                )
            return lags
        finally:
            await ends.stop()
            await admin.close()


def _committed(committed: dict[TopicPartition, Any], partition: TopicPartition) -> int:
    offset = committed[partition].offset if partition in committed else -1
    return max(offset, 0)  # -1: the group never committed there, and has everything still to read


async def partitions_of(admin: AIOKafkaAdminClient, topic: str) -> list[TopicPartition]:
    """The topic's partitions, or none if it does not exist (asked without creating it)."""
    if topic not in await admin.list_topics():
        return []
    [described] = await admin.describe_topics([topic])
    return [TopicPartition(topic, partition["partition"]) for partition in described["partitions"]]
