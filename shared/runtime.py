"""What every service is made of at run time, built in one place: the database, the Kafka broker, the outbox
relay, token verification, consumers, and the FastAPI app with its lifespan.

A service's `app.py` creates one `ServiceRuntime`, adds its routes and consumers, and calls `create_app`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from pathlib import Path

from fastapi import APIRouter, FastAPI
from faststream.specification import AsyncAPI
from sqlalchemy import text

from shared.auth import JwksKeySource, KeySource, TokenVerifier
from shared.clock import Clock, utc_now
from shared.consumer import BatchHandler, EventHandler, IdempotentConsumer, one_at_a_time, subscribe
from shared.db import create_engine, session_factory
from shared.envelope import IntegrationEvent
from shared.errors import DomainError, domain_error_handler
from shared.http import ReadinessDetail, event_schemas_router, install_common, operations_router
from shared.kafka import BrokerConnection, LagGauge, create_broker, document_publishers
from shared.leader import LeaderLock
from shared.logs import configure_logging
from shared.metrics import CONSUMER_LAG
from shared.migrations import upgrade_to_head
from shared.outbox import OutboxRelay
from shared.settings import ServiceSettings
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


class ServiceRuntime:
    def __init__(
        self,
        name: str,
        settings: ServiceSettings,
        migrations_dir: Path,
        events: Iterable[type[IntegrationEvent]],
        key_source: KeySource | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.name = name
        self.clock = clock
        self.settings = settings
        self.migrations_dir = migrations_dir
        self.events = list(events)
        self.engine = create_engine(settings.database_url, settings.database_pool_size, settings.database_max_overflow)
        self.sessions = session_factory(self.engine)
        self.broker = create_broker(settings.kafka_bootstrap_servers, client_id=name)
        self.kafka = BrokerConnection(self.broker, settings.kafka_bootstrap_servers, name)
        self.relay_leader = LeaderLock(self.engine, f"{name}.outbox-relay")
        self.relay = OutboxRelay(
            self.sessions, self.kafka.send, self.relay_leader, settings.outbox_poll_interval_seconds, clock=clock
        )
        self.token_verifier = TokenVerifier(
            key_source or JwksKeySource(settings.jwks_url), settings.jwt_issuer, settings.jwt_audience
        )
        document_publishers(self.broker, self.events)
        self._tasks: list[asyncio.Task[None]] = []
        self._after_start: list[Callable[[], Awaitable[None]]] = []
        self._jobs: list[tuple[float, LeaderLock, Callable[[], Awaitable[None]]]] = []
        self._stopping = asyncio.Event()
        self._readiness_details: dict[str, ReadinessDetail] = {}
        self._consumer_groups: dict[str, str] = {}  # consumer group -> topic
        self.lag = LagGauge(settings.kafka_bootstrap_servers, name)

    @property
    def source(self) -> str:
        return f"/filiera/{self.name}"

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.source, self.relay.wake, self.clock)

    def consume(self, topic: str, consumer_name: str, handler: EventHandler, description: str = "") -> None:
        self.consume_batches(topic, consumer_name, one_at_a_time(handler), description)

    def consume_batches(self, topic: str, consumer_name: str, handler: BatchHandler, description: str = "") -> None:
        """For a handler that reads a batch's facts together (what they need in one query each)."""
        self._consumer_groups[consumer_name] = topic
        consumer = IdempotentConsumer(
            consumer_name, handler, self.unit_of_work, self.broker, self.settings.consumer_max_attempts
        )
        subscribe(self.broker, topic, consumer, description, self.settings.consumer_batch_size)

    def report_in_readyz(self, name: str, detail: ReadinessDetail) -> None:
        """Add `detail()` to /readyz's answer, for operators, without making the service unready."""
        self._readiness_details[name] = detail

    def after_start(self, step: Callable[[], Awaitable[None]]) -> None:
        """Run `step` once the database is migrated (seeding, loading keys...)."""
        self._after_start.append(step)

    def every(self, seconds: float, job_name: str, job: Callable[[], Awaitable[None]]) -> None:
        """Run `job` every `seconds`, on one replica at a time. A job must still be safe to run twice (mark its
        work done in the transaction that does it): leadership can change hands between two runs."""
        self._jobs.append((seconds, LeaderLock(self.engine, f"{self.name}.{job_name}"), job))

    async def _run_periodically(self, seconds: float, leader: LeaderLock, job: Callable[[], Awaitable[None]]) -> None:
        while not self._stopping.is_set():
            try:
                if await leader.ensure():
                    await job()
            except Exception:
                log.exception("periodic job failed; it runs again in %s s", seconds)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def measure_consumer_lag(self) -> None:
        if self._consumer_groups and self.kafka.connected:
            for (group, topic), lag in (await self.lag.measure(self._consumer_groups)).items():
                CONSUMER_LAG.labels(group, topic).set(lag)

    async def start(self) -> None:
        if self._consumer_groups:
            self.every(self.settings.consumer_lag_interval_seconds, "consumer-lag", self.measure_consumer_lag)
        await asyncio.to_thread(upgrade_to_head, self.migrations_dir, self.settings.database_url)
        for step in self._after_start:
            await step()
        self._tasks = [
            asyncio.create_task(self.kafka.connect_forever(), name=f"{self.name}-kafka"),
            asyncio.create_task(self.relay.run(lambda: self.kafka.connected), name=f"{self.name}-relay"),
            *(asyncio.create_task(self._run_periodically(*job)) for job in self._jobs),
        ]

    async def stop(self) -> None:
        """Stop the relay between passes, wait for acknowledgements in flight, then close connections.

        Every wait is bounded: a service that cannot reach Kafka or its database must still stop. Rows whose
        acknowledgement does not come in time stay pending and go out after the restart.
        """
        kafka_task, *_ = self._tasks
        kafka_task.cancel()
        self.relay.stop()
        self._stopping.set()
        await self._bounded(
            "stopping the relay and periodic jobs", asyncio.gather(*self._tasks, return_exceptions=True)
        )
        if self.kafka.connected:
            await self._bounded("waiting for Kafka acknowledgements", self.relay.drain())
        await self._bounded("closing the Kafka connection", self.kafka.close())
        for leader in [self.relay_leader, *(leader for _, leader, _ in self._jobs)]:
            await self._bounded("releasing leadership", leader.release())
        await self.engine.dispose()

    @staticmethod
    async def _bounded(step: str, awaitable: Awaitable[object], seconds: float = 10.0) -> None:
        try:
            await asyncio.wait_for(awaitable, timeout=seconds)
        except TimeoutError:
            log.warning("gave up %s after %.0f s", step, seconds)

    async def database_problem(self) -> str | None:
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as error:
            return f"database unreachable: {type(error).__name__}"
        return None

    async def kafka_problem(self) -> str | None:
        if not self.kafka.connected:
            return "not connected to Kafka yet"
        if not await self.broker.ping(timeout=2.0):
            return "Kafka does not answer"
        return None

    def asyncapi_json(self) -> str:
        spec = AsyncAPI(self.broker, title=f"Filiera {self.name}", version="1.0.0", schema_version="3.0.0")
        return spec.to_specification().to_json()

    def create_app(self, title: str, description: str, routers: Iterable[APIRouter]) -> FastAPI:
        configure_logging(self.name, self.settings.log_level)

        @contextlib.asynccontextmanager
        async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
            await self.start()
            try:
                yield
            finally:
                await self.stop()

        app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan)
        app.state.runtime = self
        app.state.token_verifier = self.token_verifier
        install_common(app)
        app.add_exception_handler(DomainError, domain_error_handler)
        checks = {"database": self.database_problem, "kafka": self.kafka_problem}
        app.include_router(operations_router(checks, self.asyncapi_json, self._readiness_details))
        app.include_router(event_schemas_router(self.events))
        for router in routers:
            app.include_router(router)
        return app
