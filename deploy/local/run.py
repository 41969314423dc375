"""`./filiera run`: Kafka, every service and the web client on this machine, SQLite per service, until Ctrl-C.

Data lives in .filiera/ and survives restarts. Set KAFKA_BOOTSTRAP_SERVERS to use a broker you already run, or a
service's <PREFIX>DATABASE_URL (e.g. MEMBERS_DATABASE_URL=postgresql+asyncpg://...) to use PostgreSQL.
FILIERA_DATA_DIR moves the data elsewhere; FILIERA_PORT_BASE (8001) is the first service's port, the next
service takes the next port, and the web client the one after the last service's (FILIERA_WEB_PORT moves it); people
open it through the gateway. The first start seeds the demo district (deploy/local/demo.py); FILIERA_DEMO=0 starts
empty, with no funding feed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx

from deploy.local import demo
from deploy.local.district import FEEDS_DIR, load_district, recorded_feeds
from deploy.local.feeds import feed_environment, serving
from deploy.local.gateway import Gateway
from deploy.local.kafka import KafkaBroker
from deploy.local.mailcatcher import MailCatcher
from deploy.local.ports import port_is_free
from deploy.local.processes import ROOT, start_service, stop_all, wait_ready
from deploy.local.public_api import SeedError

DATA = Path(os.environ.get("FILIERA_DATA_DIR", ROOT / ".filiera"))
PORT_BASE = int(os.environ.get("FILIERA_PORT_BASE", "8001"))
DEMO_ADMIN_EMAIL = "admin@example.com"
DEMO_ADMIN_PASSWORD = "filiera-admin-2026"
MAIL_PORT = int(os.environ.get("FILIERA_MAIL_PORT", "1025"))
GATEWAY_PORT = int(os.environ.get("FILIERA_GATEWAY_PORT", "8080"))
WEB_ORIGIN = os.environ.get("FILIERA_WEB_ORIGIN", "http://localhost:3000")
DEMO = os.environ.get("FILIERA_DEMO", "1") != "0"


@dataclass(frozen=True)
class Service:
    name: str
    app_factory: str
    port: int
    env_prefix: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


SERVICES = [
    Service("members", "services.members.app:create_app", PORT_BASE, "MEMBERS_"),
    Service("events", "services.events.app:create_app", PORT_BASE + 1, "EVENTS_"),
    Service("funding", "services.funding.app:create_app", PORT_BASE + 2, "FUNDING_"),
    Service("notifications", "services.notifications.app:create_app", PORT_BASE + 3, "NOTIFICATIONS_"),
]
MEMBERS = SERVICES[0]
# The web client: a client of the gateway, with no database or Kafka of its own; the gateway serves it at /.
WEB_APP = "web.app:create_app"
WEB_PORT = int(os.environ.get("FILIERA_WEB_PORT", str(PORT_BASE + len(SERVICES))))


def say(message: str) -> None:
    print(f"\033[1;34m==> {message}\033[0m", flush=True)


def start_kafka() -> tuple[str, KafkaBroker | None]:
    if servers := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        say(f"using the Kafka broker at {servers}")
        return servers, None
    broker = KafkaBroker(DATA / "kafka", port=9092 if port_is_free(9092) and port_is_free(9093) else None)
    say(f"starting Apache Kafka (KRaft, single node) on {broker.bootstrap_servers}; log in {DATA / 'kafka'}")
    broker.start()
    return broker.bootstrap_servers, broker


def service_environment(
    service: Service,
    *,
    database_url: str,
    kafka: str,
    members_url: str,
    smtp_port: int,
    web_url: str,
    first_admin: tuple[str, str],
) -> dict[str, str]:
    """What every way of running the whole platform on one machine (this runner, the system benchmark) sets for
    `service`: its database and Kafka, where members publishes its keys, its own address and the web client's for
    links, the mail server, and the first staff account."""
    prefix = service.env_prefix
    env = {
        f"{prefix}DATABASE_URL": database_url,
        f"{prefix}KAFKA_BOOTSTRAP_SERVERS": kafka,
        f"{prefix}JWKS_URL": f"{members_url}/.well-known/jwks.json",
    }
    if service.name == "members":
        env |= {"MEMBERS_FIRST_ADMIN_EMAIL": first_admin[0], "MEMBERS_FIRST_ADMIN_PASSWORD": first_admin[1]}
    if service.name == "events":
        env["EVENTS_PUBLIC_URL"] = service.url  # links in calendar entries
    if service.name == "notifications":
        env |= {
            "NOTIFICATIONS_PUBLIC_URL": service.url,  # unsubscribe links
            "NOTIFICATIONS_WEB_URL": web_url,  # links to what a message is about
            "NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
            "NOTIFICATIONS_SMTP_PORT": str(smtp_port),
        }
    return env


def local_environment(service: Service, kafka: str, feeds_url: str | None) -> dict[str, str]:
    env = service_environment(
        service,
        database_url=f"sqlite+aiosqlite:///{DATA / (service.name + '.db')}",
        kafka=kafka,
        members_url=MEMBERS.url,
        smtp_port=MAIL_PORT,
        web_url=f"http://127.0.0.1:{GATEWAY_PORT}",
        first_admin=(DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD),
    )
    if service.name == "notifications":
        env["NOTIFICATIONS_WEBHOOK_ALLOWED_HOSTS"] = '["127.0.0.1"]'  # a partner's receiver on this machine
    if service.name == "funding" and feeds_url:
        env.update(feed_environment(feeds_url))  # the real connectors, reading recorded responses
    return {**env, **os.environ}  # what the user set wins


def check_ports_are_free() -> None:
    """Before starting anything: a port another program holds would otherwise show as a service that died."""
    wanted = {
        f"{service.name} (FILIERA_PORT_BASE={PORT_BASE} + {index})": service.port
        for index, service in enumerate(SERVICES)
    }
    wanted.update(
        {
            "the gateway (FILIERA_GATEWAY_PORT)": GATEWAY_PORT,
            "the mail catcher (FILIERA_MAIL_PORT)": MAIL_PORT,
            "the web client (FILIERA_WEB_PORT)": WEB_PORT,
        }
    )
    if taken := [f"{port} for {name}" for name, port in wanted.items() if not port_is_free(port)]:
        raise SystemExit(f"ports taken by another program: {', '.join(taken)}. Stop it, or choose other ports.")


def start(service: Service, kafka: str, feeds_url: str | None) -> subprocess.Popen[bytes]:
    say(f"starting {service.name} on {service.url} (log in {DATA / (service.name + '.log')})")
    log = open(DATA / f"{service.name}.log", "ab")  # noqa: SIM115 - lives as long as the process
    return start_service(service.app_factory, service.port, local_environment(service, kafka, feeds_url), log)


def web_environment(gateway_url: str) -> dict[str, str]:
    """The web client calls the gateway, and is seen at the gateway's address."""
    return {"WEB_GATEWAY_URL": gateway_url, "WEB_PUBLIC_URL": gateway_url, **os.environ}


def start_web_client(gateway_url: str) -> subprocess.Popen[bytes]:
    log_path = DATA / "web.log"
    say(f"starting the web client on 127.0.0.1:{WEB_PORT} (log in {log_path})")
    log = open(log_path, "ab")  # noqa: SIM115 - lives as long as the process
    process = start_service(WEB_APP, WEB_PORT, web_environment(gateway_url), log)
    wait_until_ready("web", f"http://127.0.0.1:{WEB_PORT}", process, path="/healthz")
    return process


def wait_until_ready(name: str, url: str, process: subprocess.Popen[bytes], path: str = "/readyz") -> None:
    try:
        wait_ready(url, process, path=path)
    except RuntimeError as error:
        log = DATA / f"{name}.log"
        raise SystemExit(f"{error}; the end of {log}:\n{log_tail(log)}") from error


def log_tail(log: Path, lines: int = 20) -> str:
    """The last lines of a service's log, so that a failed start says why where it is read (a terminal, CI)."""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else "(no log)"


def serve_demo_feeds(background: ExitStack) -> str:
    """The funding sources' recorded responses on loopback, for as long as the platform runs: the demo's calls
    come through the real connectors, and nothing is read from the internet unasked."""
    url = background.enter_context(serving(recorded_feeds().respond))
    say(f"serving the recorded funding feeds of {FEEDS_DIR} on {url}")
    return url


def seed_demo_data_once(gateway_url: str) -> demo.Marker | None:
    """The demo district on the first start; later starts find the marker and leave the data alone. A seed that
    fails leaves the platform running, and the next start tries again."""
    if marker := demo.load_marker(DATA):
        return marker
    say("seeding the demo district through the gateway (first start only, about a minute)")
    try:
        report = demo.seed(gateway_url, DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, load_district())
    except (SeedError, httpx.HTTPError) as error:
        say(f"the demo data could not be seeded; the next start tries again. {error}")
        return None
    say(report.summary())
    return demo.write_marker(DATA, report.partner_client)


def print_demo_logins(marker: demo.Marker) -> None:
    district = load_district()
    company = district.company_of(district.logins["company_admin"])
    print(
        f"  company admin  {district.logins['company_admin']} / {district.password}  "
        f"({company.application['legal_name']})"
    )
    print(f"  company member {district.logins['company_member']} / {district.password}")
    print(f"  partner client {marker.partner_client_id} / {marker.partner_client_secret}  (client_credentials)")


def main() -> None:
    check_ports_are_free()
    DATA.mkdir(exist_ok=True)
    background = ExitStack()
    feeds_url = serve_demo_feeds(background) if DEMO else None
    kafka, broker = start_kafka()
    mail = MailCatcher(DATA / "mail", MAIL_PORT)
    say(f"catching outgoing email on 127.0.0.1:{MAIL_PORT}: every message lands in {mail.folder} as .eml")
    mail.start()
    processes: list[subprocess.Popen[bytes]] = []
    upstreams = {service.name: f"127.0.0.1:{service.port}" for service in SERVICES} | {"web": f"127.0.0.1:{WEB_PORT}"}
    gateway = Gateway(DATA / "gateway", GATEWAY_PORT, upstreams, WEB_ORIGIN, web_client_address="127.0.0.1")
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        say("stopping")
        gateway.stop()
        stop_all(processes)
        mail.stop()
        background.close()
        if broker is not None:
            broker.stop()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # Ctrl-C stops everything even when started from a background job, whose shell makes it ignore SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        for service in SERVICES:
            processes.append(start(service, kafka, feeds_url))
            wait_until_ready(service.name, service.url, processes[-1])
        processes.append(start_web_client(f"http://127.0.0.1:{GATEWAY_PORT}"))
        say(f"starting the API gateway (nginx) on {gateway.url} (JSON access log in {gateway.access_log})")
        gateway.start()
        marker = seed_demo_data_once(gateway.url) if DEMO else None
        say("Filiera is running. Ctrl-C stops everything.")
        print(f"  web            {gateway.url}/   (the site: directory, events, members' area)")
        print(f"  gateway        {gateway.url}/api/<members|events|funding|notifications>/   docs: {gateway.url}/docs")
        for service in SERVICES:
            print(f"  {service.name:<14} {service.url}/docs   (AsyncAPI: {service.url}/asyncapi.json)")
        print(f"  Kafka          {kafka}")
        print(f"  email          {mail.folder}/*.eml")
        print(f"  staff login    {DEMO_ADMIN_EMAIL} / {DEMO_ADMIN_PASSWORD}  (POST /api/members/auth/token)")
        if marker:
            print_demo_logins(marker)
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        raise SystemExit("a service exited; see its log in .filiera/")
    except KeyboardInterrupt:
        pass
    finally:
        stop()


if __name__ == "__main__":
    main()
