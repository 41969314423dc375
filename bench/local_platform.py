"""The whole platform on this machine, laid out as in production, for system benchmarks: Apache Kafka, PostgreSQL
with one database per service, the four services each in a uvicorn process of its own (default settings: INFO logs,
one worker), an SMTP server that counts what it is sent, and the nginx gateway in front — on free loopback ports,
in a temporary directory (its path is printed; the services' logs stay there). Everything started is stopped on
the way out, after an error too.

Asked for, the web client too (web/, its own uvicorn process, calling the gateway), which the gateway then serves
at /; without it pages there answer 502 and the APIs are unaffected. And, asked for, a static site in the
gateway's own nginx (bench/static_site.py): a baseline for what nginx alone serves.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from typing import IO

import asyncpg
import httpx
from aiokafka.admin import AIOKafkaAdminClient

from bench.common import CountingMailbox, Infrastructure, infrastructure
from bench.machine import Components, postmaster_pid
from bench.static_site import GatewayWithStaticSite, StaticSite
from deploy.local.gateway import Gateway
from deploy.local.mailcatcher import smtp_server
from deploy.local.ports import free_port
from deploy.local.processes import start_service, stop_all, wait_ready
from deploy.local.run import SERVICES, WEB_APP, Service, service_environment, web_environment
from shared.kafka import LagGauge

STAFF = ("bench-staff@example.com", "bench-staff-password-2026")
WEB_ORIGIN = "http://localhost:3000"


@dataclass
class RunningService:
    service: Service
    process: subprocess.Popen[bytes]
    database: str  # as asyncpg takes it

    @property
    def url(self) -> str:
        return self.service.url


@dataclass
class LocalPlatform:
    infra: Infrastructure
    services: dict[str, RunningService]
    gateway: Gateway
    mailbox: CountingMailbox
    web: subprocess.Popen[bytes] | None = None  # the web client, when asked for
    static_site: StaticSite | None = None  # served by the gateway's nginx, when asked for

    def upstreams(self) -> dict[str, str]:
        return {name: f"127.0.0.1:{running.service.port}" for name, running in self.services.items()}

    def components(self) -> Components:
        """Each service (and the web client), Kafka, and PostgreSQL and nginx with their children."""
        assert self.infra.kafka.process is not None
        nginx = int((self.gateway.data_dir / "nginx.pid").read_text())
        return Components(
            {
                **{name: running.process.pid for name, running in self.services.items()},
                **({"web": self.web.pid} if self.web is not None else {}),
                "kafka": self.infra.kafka.process.pid,
            },
            trees={"postgres": postmaster_pid(self.infra.postgres), "gateway": nginx},
        )

    async def settle(self, timeout: float = 600) -> float:
        """Waits until the platform has finished what earlier steps started — every outbox row published, every
        consumer group at the end of its topic, no email waiting to go out — twice in a row a second apart, so
        that a benchmark's figures are not someone else's backlog; returns the seconds it took."""
        started = time.perf_counter()
        databases = {name: await asyncpg.connect(running.database) for name, running in self.services.items()}
        try:
            quiet_in_a_row = 0
            while quiet_in_a_row < 2:
                if time.perf_counter() - started > timeout:
                    raise TimeoutError(f"the platform was still busy after {timeout}s; logs in {self.infra.work}")
                await asyncio.sleep(1)
                quiet_in_a_row = quiet_in_a_row + 1 if await self._quiet(databases) else 0
        finally:
            for connection in databases.values():
                await connection.close()
        return round(time.perf_counter() - started, 1)

    async def _quiet(self, databases: dict[str, asyncpg.Connection]) -> bool:
        for connection in databases.values():
            if await connection.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL"):
                return False
        if await databases["notifications"].fetchval("SELECT count(*) FROM message WHERE status = 'queued'"):
            return False
        return await consumer_lag(self.infra.kafka.bootstrap_servers) == 0


async def consumer_lag(bootstrap: str) -> int:
    """Records every consumer group on the broker has still to read. A group's topic is the one it commits
    offsets on (each of our groups reads one topic); a group that has committed nothing yet is not counted."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        groups = {}
        for group, *_ in await admin.list_consumer_groups():
            if committed := await admin.list_consumer_group_offsets(group):
                groups[group] = next(iter(committed)).topic
    finally:
        await admin.close()
    return sum((await LagGauge(bootstrap, "bench").measure(groups)).values())


def platform_gateway(
    infra: Infrastructure, upstreams: dict[str, str], api_rate: str, api_burst: int, static_site: bool
) -> Gateway:
    """The gateway in front of `upstreams` (the web client, when among them, calls from 127.0.0.1, the address the
    gateway believes on whose behalf a call is made)."""
    data_dir, port = infra.work / "gateway", free_port()
    if static_site:
        site = StaticSite(infra.work / "static-site", free_port())
        return GatewayWithStaticSite(data_dir, port, upstreams, WEB_ORIGIN, site, api_rate, api_burst)
    return Gateway(data_dir, port, upstreams, WEB_ORIGIN, api_rate, api_burst)


def start_web_client(infra: Infrastructure, port: int, gateway_url: str, log: IO[bytes]) -> subprocess.Popen[bytes]:
    """The web client as `./filiera run` starts it: calling the gateway, seen at the gateway's address."""
    process = start_service(WEB_APP, port, web_environment(gateway_url), log)
    try:
        wait_ready(f"http://127.0.0.1:{port}", process, path="/healthz")
    except RuntimeError as error:
        process.terminate()
        raise RuntimeError(f"{error}; see {infra.work / 'web.log'}") from error
    return process


@contextmanager
def local_platform(
    api_rate: str, api_burst: int, web: bool = False, static_site: bool = False
) -> Iterator[LocalPlatform]:
    """The platform, ready, with the gateway limiting each client to `api_rate` (nginx's form, e.g. 50r/s); with
    `web`, the web client behind the gateway's /; with `static_site`, the gateway's nginx serving
    `platform.static_site.root` on a port of its own."""
    mailbox = CountingMailbox()
    with infrastructure() as infra, smtp_server(mailbox) as smtp_port, ExitStack() as running:
        print(f"==> starting the services and the gateway in {infra.work}", flush=True)
        services = [replace(service, port=free_port()) for service in SERVICES]
        web_port = free_port() if web else None
        upstreams = {service.name: f"127.0.0.1:{service.port}" for service in services}
        if web_port is not None:
            upstreams["web"] = f"127.0.0.1:{web_port}"
        gateway = platform_gateway(infra, upstreams, api_rate, api_burst, static_site)
        members_url = next(s.url for s in services if s.name == "members")
        started: dict[str, RunningService] = {}
        running.callback(lambda: stop_all([service.process for service in started.values()]))
        for service in services:
            database = infra.postgres.create_database(service.name)
            log = running.enter_context(open(infra.work / f"{service.name}.log", "wb"))
            env = {
                **os.environ,
                **service_environment(
                    service,
                    database_url=database,
                    kafka=infra.kafka.bootstrap_servers,
                    members_url=members_url,
                    smtp_port=smtp_port,
                    web_url=gateway.url,
                    first_admin=STAFF,
                ),
            }
            started[service.name] = RunningService(
                service,
                start_service(service.app_factory, service.port, env, log),
                database.replace("postgresql+asyncpg://", "postgresql://"),
            )
        for name, launched in started.items():  # they start together; their migrations overlap
            try:
                wait_ready(launched.url, launched.process)
            except RuntimeError as error:
                raise RuntimeError(f"{error}; see {infra.work / (name + '.log')}") from error
        web_client = None
        if web_port is not None:
            log = running.enter_context(open(infra.work / "web.log", "wb"))
            web_client = start_web_client(infra, web_port, gateway.url, log)
            running.callback(stop_all, [web_client])
        running.callback(gateway.stop)
        gateway.start()
        site = gateway.static_site if isinstance(gateway, GatewayWithStaticSite) else None
        platform = LocalPlatform(infra, started, gateway, mailbox, web_client, site)
        httpx.get(f"{gateway.url}/api/members/directory", timeout=10).raise_for_status()  # the gateway routes
        yield platform
