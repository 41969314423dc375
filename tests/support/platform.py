"""The whole platform for the tests that meet it as its clients do: the four services as their own processes on
their own PostgreSQL databases, the web client, the gateway (nginx) in front of them all, a mail catcher for their
email, a recorded EU Funding & Tenders feed and a partner's webhook receiver on this machine. Used by the journey
through the APIs (tests/test_platform_journey.py) and by the browser tests (web/tests/browser/)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from deploy.local.feeds import serving
from deploy.local.gateway import Gateway
from deploy.local.mailcatcher import MailCatcher
from deploy.local.ports import free_port
from deploy.local.processes import start_service, wait_ready
from services.funding.tests.conftest import FakeSources
from services.members.tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from services.notifications.tests.conftest import Receiver, webhook_receiver
from tests.support.infrastructure import service_process

WEB_ORIGIN = "https://app.filiera.example"
SERVICES = ("members", "events", "funding", "notifications")


@dataclass
class Platform:
    gateway: Gateway
    services: dict[str, str]  # inside the network: what Prometheus scrapes
    logs: dict[str, Path]
    mail: Path
    eu_feed: FakeSources
    partner_receiver: Receiver
    kafka_bootstrap: str

    def client(self, request_id: str | None = None) -> httpx.AsyncClient:
        headers = {"X-Request-ID": request_id} if request_id else {}
        return httpx.AsyncClient(base_url=f"{self.gateway.url}/api", timeout=15, headers=headers)


@contextmanager
def running_platform(postgres: Any, kafka_bootstrap: str, folder: Path, eu_feed: FakeSources) -> Iterator[Platform]:
    logs = {name: folder / f"{name}.log" for name in SERVICES}
    with ExitStack() as running:
        feeds = running.enter_context(serving(eu_feed.respond))
        receiver = running.enter_context(webhook_receiver())
        mail = MailCatcher(folder / "mail", free_port())
        mail.start()
        running.callback(mail.stop)
        gateway_port = free_port()
        gateway_url = f"http://127.0.0.1:{gateway_port}"

        def start(name: str, env: dict[str, str]) -> str:
            prefix = name.upper()
            common = {
                f"{prefix}_DATABASE_URL": postgres.new_database(),
                f"{prefix}_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
                f"{prefix}_OUTBOX_POLL_INTERVAL_SECONDS": "0.2",
                f"{prefix}_CONSUMER_LAG_INTERVAL_SECONDS": "1",
            }
            return running.enter_context(
                service_process(f"services.{name}.app:create_app", {**common, **env}, logs[name])
            )

        members = start(
            "members", {"MEMBERS_FIRST_ADMIN_EMAIL": ADMIN_EMAIL, "MEMBERS_FIRST_ADMIN_PASSWORD": ADMIN_PASSWORD}
        )
        jwks = f"{members}/.well-known/jwks.json"
        events = start("events", {"EVENTS_JWKS_URL": jwks})
        funding = start(
            "funding",
            {"FUNDING_JWKS_URL": jwks, "FUNDING_EU_SEARCH_URL": f"{feeds}/eu/search", "FUNDING_EU_POLL_MINUTES": "600"},
        )
        notifications = start(
            "notifications",
            {
                "NOTIFICATIONS_JWKS_URL": jwks,
                "NOTIFICATIONS_SMTP_PORT": str(mail.port),
                "NOTIFICATIONS_DISPATCH_INTERVAL_SECONDS": "0.2",
                "NOTIFICATIONS_INBOX_STREAM_POLL_SECONDS": "0.2",
                "NOTIFICATIONS_WEBHOOK_ALLOWED_HOSTS": '["127.0.0.1"]',
                "NOTIFICATIONS_WEB_URL": gateway_url,
            },
        )
        web = running.enter_context(web_client(gateway_url, folder / "web.log"))
        upstreams = {"members": members, "events": events, "funding": funding, "notifications": notifications}
        gateway = Gateway(
            folder / "gateway",
            gateway_port,
            {name: url.removeprefix("http://") for name, url in (upstreams | {"web": web}).items()},
            WEB_ORIGIN,
            web_client_address="127.0.0.1",
        )
        gateway.start()
        running.callback(gateway.stop)
        yield Platform(gateway, upstreams, logs, mail.folder, eu_feed, receiver, kafka_bootstrap)


@contextmanager
def web_client(gateway_url: str, log_path: Path) -> Iterator[str]:
    """The web client in its own uvicorn process, calling the gateway; yields its base URL."""
    port = free_port()
    env = {**os.environ, "WEB_GATEWAY_URL": gateway_url, "WEB_PUBLIC_URL": gateway_url}
    with open(log_path, "wb") as log:
        process = start_service("web.app:create_app", port, env, log)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url, process, timeout=60, path="/healthz")
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)
