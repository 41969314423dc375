"""Consumer lag, as /metrics reports it: read from Kafka, so a stuck consumer shows as lagging."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from shared.kafka import LagGauge


async def test_lag_is_what_a_group_has_not_yet_committed(
    kafka_bootstrap: str, unique_topic: Callable[[str], str]
) -> None:
    topic, group = unique_topic("lag"), f"lagging-{uuid.uuid4().hex[:8]}"
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for number in range(5):
            await producer.send_and_wait(topic, f"record {number}".encode(), partition=0)
    finally:
        await producer.stop()
    gauge = LagGauge(kafka_bootstrap, "test")
    assert await measured(gauge, group, topic) == 5, "a group that never read lags by all it has to read"

    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, 0)])
        await consumer.commit({TopicPartition(topic, 0): OffsetAndMetadata(3, "")})
    finally:
        await consumer.stop()
    assert await measured(gauge, group, topic) == 2
    assert await gauge.measure({group: f"{topic}.missing"}) == {}, "a topic nobody created is not created"


async def measured(gauge: LagGauge, group: str, topic: str) -> int:
    """The lag, once the broker can tell it (a broker just started has no group coordinator for a moment)."""
    deadline = asyncio.get_running_loop().time() + 20
    while (lag := (await gauge.measure({group: topic})).get((group, topic))) is None:
        assert asyncio.get_running_loop().time() < deadline, "no lag measured"
        await asyncio.sleep(0.5)
    return lag
