"""The README's first command: `./filiera run` starts Kafka and the services on SQLite, a newcomer uses the
platform, Ctrl-C stops everything, and the data is still there on the next start."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from deploy.local.ports import free_port, free_ports
from deploy.local.processes import ROOT
from deploy.local.run import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, SERVICES
from services.members.tests.conftest import PARTITE_IVA, application
from tests.support.emails import readable
from tests.support.infrastructure import KafkaReader

# Each test starts `./filiera run` as its own process (Kafka, the services, nginx): the integration tier.
pytestmark = pytest.mark.integration


class LocalPlatform:
    def __init__(self, process: subprocess.Popen[str], members_url: str, gateway_url: str) -> None:
        self.process = process
        self.members_url = members_url
        self.gateway_url = gateway_url
        self.output: list[str] = []
        self.reader = threading.Thread(target=self._collect_output, daemon=True)
        self.reader.start()

    def _collect_output(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    def wait_until_running(self, timeout: float = 240) -> str:
        """The Kafka bootstrap address, once the runner says everything is up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "".join(self.output)
            if match := re.search(r"^  Kafka +(\S+)$", "".join(self.output), re.MULTILINE):
                return match.group(1)
            time.sleep(0.5)
        raise AssertionError(f"not running after {timeout}s:\n{''.join(self.output)}")

    def interrupt(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=120)  # services get 20 s together, then Kafka up to 30 s


@contextmanager
def local_platform(data_dir: Path, port_base: int, demo: bool = False) -> Iterator[LocalPlatform]:
    """`./filiera run`, empty unless `demo` (tests/test_demo_data.py starts it with the demo district)."""
    env = {key: value for key, value in os.environ.items() if key != "KAFKA_BOOTSTRAP_SERVERS"}
    env.update(
        FILIERA_DATA_DIR=str(data_dir),
        FILIERA_PORT_BASE=str(port_base),
        FILIERA_MAIL_PORT=str(free_port()),
        FILIERA_GATEWAY_PORT=str(free_port()),
        FILIERA_WEB_PORT=str(free_port()),
        FILIERA_DEMO="1" if demo else "0",
    )
    # A session of its own: if the test fails, the runner's children (Kafka, services, nginx) go with it instead
    # of living on and, reconnecting to a port a later broker reuses, joining that broker's consumer groups.
    process = subprocess.Popen(
        [sys.executable, "-m", "deploy.local.run"],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    gateway_url = f"http://127.0.0.1:{env['FILIERA_GATEWAY_PORT']}"
    platform = LocalPlatform(process, f"http://127.0.0.1:{port_base}", gateway_url)
    try:
        yield platform
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        platform.reader.join(timeout=10)  # all it printed is in `output`


async def test_the_local_platform_runs_on_sqlite_and_keeps_its_data_across_restarts(tmp_path: Path) -> None:
    port_base = free_ports(len(SERVICES))
    with local_platform(tmp_path, port_base) as platform:
        kafka = platform.wait_until_running()
        notifications_url = f"http://127.0.0.1:{port_base + 3}"
        # Staff exist before anyone applies: the notifications service has read of the demo admin (welcomed them).
        await staff_inbox_shows(
            platform.members_url, notifications_url, tmp_path, "Il tuo accesso a Filiera è pronto", "Il tuo accesso"
        )
        async with httpx.AsyncClient(base_url=platform.members_url) as members:
            applied = await members.post(
                "/companies/applications", json=application(PARTITE_IVA[0], "nuova@example.com")
            )
            assert applied.status_code == 201, applied.text
            company_id = applied.json()["id"]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port_base + 1}") as events_service:
            calendar = await events_service.get("/calendar.ics")
            assert calendar.status_code == 200 and calendar.text.startswith("BEGIN:VCALENDAR")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port_base + 2}") as funding_service:
            calls = await funding_service.get("/calls")
            assert calls.status_code == 200 and calls.json()["total"] == 0  # no feed is read unless configured
        events = await KafkaReader(kafka).read(
            "members.companies.v1", lambda evs: any(e.get("subject") == company_id for e in evs)
        )
        assert events[-1]["type"] == "members.company.applied"
        await staff_inbox_shows(
            platform.members_url,
            notifications_url,
            tmp_path,
            "Nuova domanda di adesione: Calzaturificio Le Pianacce S.r.l.",
            "Nuova domanda di adesione",
        )
        assert platform.interrupt() == 0
    assert (tmp_path / "members.db").exists()

    with local_platform(tmp_path, port_base) as platform:
        platform.wait_until_running()
        # The site's address is said first, and the gateway serves the site there, in Italian unless asked.
        running = "".join(platform.output).split("Filiera is running", 1)[1].splitlines()[1]
        assert running.split() == ["web", f"{platform.gateway_url}/", *running.split()[2:]]
        async with httpx.AsyncClient(base_url=platform.gateway_url) as browser:
            home = await browser.get("/", headers={"Accept-Language": "en-GB,en"})
            assert home.status_code == 200 and "The footwear network of Capannori" in home.text
            assert (await browser.get("/static/vendor/htmx.min.js")).status_code == 200
        async with httpx.AsyncClient(base_url=f"{platform.gateway_url}/api/members") as members:  # via the gateway
            login = await members.post(
                "/auth/token",
                data={"grant_type": "password", "username": DEMO_ADMIN_EMAIL, "password": DEMO_ADMIN_PASSWORD},
            )
            staff = {"Authorization": f"Bearer {login.json()['access_token']}"}
            company = await members.get(f"/companies/{company_id}", headers=staff)
            assert company.status_code == 200
            assert company.json()["status"] == "applied"
        assert platform.interrupt() == 0


async def staff_inbox_shows(
    members_url: str, notifications_url: str, data_dir: Path, title: str, email_text: str
) -> None:
    """The demo admin finds `title` in the in-app inbox, and an email with `email_text` in the mail catcher."""
    async with httpx.AsyncClient(base_url=members_url) as members:
        login = await members.post(
            "/auth/token",
            data={"grant_type": "password", "username": DEMO_ADMIN_EMAIL, "password": DEMO_ADMIN_PASSWORD},
        )
        staff = {"Authorization": f"Bearer {login.json()['access_token']}"}
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(base_url=notifications_url) as notifications:
        while True:
            answer = await notifications.get("/inbox", headers=staff)
            assert answer.status_code == 200, f"{answer.status_code} {answer.text}"
            titles = [item["title"] for item in answer.json()["items"]]
            emails = [readable(path) for path in (data_dir / "mail").glob("*.eml")]
            if title in titles and any(email_text in text for text in emails):
                return
            assert time.monotonic() < deadline, f"inbox: {titles}; emails: {len(emails)}\n{what_happened(data_dir)}"
            await asyncio.sleep(0.5)


def test_a_port_held_by_another_program_is_named_before_anything_starts(tmp_path: Path) -> None:
    port_base = free_ports(len(SERVICES))
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port_base + 2))
        squatter.listen()
        with local_platform(tmp_path, port_base) as platform:
            assert platform.process.wait(timeout=30) == 1
    output = "".join(platform.output)
    assert f"{port_base + 2} for funding (FILIERA_PORT_BASE={port_base} + 2)" in output
    assert "Kafka" not in output


def what_happened(data_dir: Path) -> str:
    """For a failure: every service's log but the request lines, the end of each."""
    logs = []
    for service in SERVICES:
        lines = (data_dir / f"{service.name}.log").read_text(errors="replace").splitlines()
        logs.append(
            f"--- {service.name}.log\n" + "\n".join([line for line in lines if '"filiera.http"' not in line][-40:])
        )
    return "\n".join(logs)
