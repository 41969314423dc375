"""Browser tests: Debian's Chromium driven by Playwright for Python, against the real platform (Kafka, PostgreSQL,
the four services, the web client and the gateway, started by tests/support/platform.py), with a small district
seeded through the APIs. Every page a test opens is checked as a person would meet it: no console error, no
request to a host other than the gateway's, no serious or critical axe-core violation (WCAG 2.1 AA), no sideways
scrolling at 375 px; and a screenshot of it is saved under web/tests/screenshots/ (ignored by git) to look at."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, Request, sync_playwright

from services.events.tests.conftest import event_body
from services.funding.tests.conftest import FakeSources
from services.members.tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, application
from tests.support.emails import emails_to
from tests.support.platform import Platform, running_platform

CHROMIUM = "/usr/bin/chromium"  # Debian's package (./filiera test installs it): Playwright downloads no browser
SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
SOLE_MAKER_EMAIL = "titolare@suolificio-lammari.example"
SHOE_FACTORY_EMAIL = "titolare@calzaturificio-pianacce.example"


@dataclass
class District:
    """What the seed made, for the tests to find."""

    sole_maker: dict[str, Any]
    shoe_factory: dict[str, Any]
    public_event: dict[str, Any]
    staff: dict[str, str]


@pytest.fixture(scope="package")
def platform(postgres: Any, kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """For the browser tests alone, stopped after the last of them: its services share their consumer groups'
    names with every other platform on the test run's broker, and two running at once would split the partitions
    between them (tests/test_platform_journey.py's would miss facts)."""
    with running_platform(postgres, kafka_bootstrap, tmp_path_factory.mktemp("web-platform"), FakeSources()) as up:
        yield up


@pytest.fixture(scope="package")
def district(platform: Platform) -> District:
    """Two member companies in the directory (a sole maker exporting to Germany, a shoe factory), known to
    notifications (their approval emails have gone out), and a public event open for registration."""
    with httpx.Client(base_url=f"{platform.gateway.url}/api", timeout=30) as api:
        staff = token_headers(api, ADMIN_EMAIL, ADMIN_PASSWORD)
        sole_maker = approved_company(
            api,
            staff,
            application(
                "01234560462",
                SOLE_MAKER_EMAIL,
                legal_name="Suolificio Lammari S.r.l.",
                frazione="Lammari",
                capabilities=["soles"],
                export_markets=["DE", "AT", "FR"],
                languages=["it", "en", "de"],
                certifications=["ISO 9001", "ISO 14001"],
                description_it="Suole in gomma e cuoio per calzature da uomo e da donna.",
                description_en="Rubber and leather soles for men's and women's shoes.",
            ),
        )
        shoe_factory = approved_company(api, staff, application("02345670463", SHOE_FACTORY_EMAIL))
        public_event = published_event(api, staff)
    for address, company in ((SOLE_MAKER_EMAIL, sole_maker), (SHOE_FACTORY_EMAIL, shoe_factory)):
        until(lambda a=address, c=company: any(c["legal_name"] in str(m) for m in emails_to(platform.mail, a)))
    return District(sole_maker, shoe_factory, public_event, staff)


def token_headers(api: httpx.Client, email: str, password: str) -> dict[str, str]:
    answer = api.post("/members/auth/token", data={"grant_type": "password", "username": email, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def approved_company(api: httpx.Client, staff: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    applied = api.post("/members/companies/applications", json=body)
    assert applied.status_code == 201, applied.text
    approved = api.post(f"/members/companies/{applied.json()['id']}/approve", headers=staff)
    assert approved.status_code == 200, approved.text
    company: dict[str, Any] = approved.json()
    return company


def published_event(api: httpx.Client, staff: dict[str, str]) -> dict[str, Any]:
    starts = (datetime.now(UTC) + timedelta(days=12)).replace(hour=16, minute=30, second=0, microsecond=0)
    body = event_body(
        title_it="Serata B2B con i buyer esteri",
        title_en="B2B evening with foreign buyers",
        description_it="Incontri di mezz'ora tra le imprese del distretto e i buyer.",
        description_en="Half-hour meetings between the district's companies and buyers.",
        event_type="b2b_meeting",
        audience="public",
        starts_at=starts.isoformat(),
        ends_at=(starts + timedelta(hours=3)).isoformat(),
    )
    created = api.post("/events/events", headers=staff, json=body)
    assert created.status_code == 201, created.text
    published = api.post(f"/events/events/{created.json()['id']}/publish", headers=staff)
    assert published.status_code == 200, published.text
    event: dict[str, Any] = published.json()
    return event


def until(condition: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the platform did not get there in time"
        time.sleep(0.3)


@pytest.fixture(scope="module")
def playwright(platform: Platform) -> Iterator[Playwright]:
    """Per module, and once the platform runs: Playwright's sync API marks this thread as running an event loop
    while it is started, which the platform's start (asyncio.run) and the async tests after these must not meet."""
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
    yield launched
    launched.close()


@dataclass
class Visit:
    """A browser tab at one size, and what it saw that a person should never meet."""

    page: Page
    gateway: str
    name: str
    problems: list[str] = field(default_factory=list)
    # Pages answered with an error status on purpose (404, 410): the browser logs that as a console error.
    error_pages: set[str] = field(default_factory=set)

    def open(self, path: str, status: int = 200) -> Page:
        url = f"{self.gateway}{path}"
        if status >= 400:
            self.error_pages.add(url)
        answer = self.page.goto(url)
        assert answer is not None and answer.status == status, f"{path} answered {answer and answer.status}"
        return self.page

    def check(self, shot: str, *, scrolls_sideways: bool = False) -> None:
        """The page as it is now: axe-core, width, screenshot; and everything seen since the last check."""
        self.page.wait_for_load_state("networkidle")
        SCREENSHOTS.mkdir(exist_ok=True)
        self.page.screenshot(path=SCREENSHOTS / f"{shot}.png", full_page=True)
        results = Axe().run(self.page, options=WCAG_21_AA)
        for violation in results.response["violations"]:
            if violation["impact"] in ("serious", "critical"):
                targets = [", ".join(node["target"]) for node in violation["nodes"]]
                self.problems.append(f"axe {violation['id']} ({violation['impact']}) on {shot}: {targets}")
        width = self.page.evaluate("document.documentElement.scrollWidth")
        viewport = self.page.viewport_size
        if viewport and width > viewport["width"] and not scrolls_sideways:
            self.problems.append(f"{shot} is {width} px wide in a {viewport['width']} px window")
        assert not self.problems, "\n".join(self.problems)


# Each test is a person at a machine of their own. Here every browser shares the web client's address, from which
# the gateway believes X-Forwarded-For: so each context says its own, and the gateway's limits per client (five
# logins a minute) count each test's person, as they count each person in front of the site.
PEOPLES_ADDRESSES = (f"198.51.100.{n % 254 + 1}" for n in itertools.count())  # documentation addresses


@pytest.fixture(params=[PHONE, DESKTOP], ids=["375px", "1280px"])
def visit(browser: Browser, platform: Platform, request: pytest.FixtureRequest) -> Iterator[Visit]:
    context = browser.new_context(
        viewport=request.param, locale="it-IT", extra_http_headers={"X-Forwarded-For": next(PEOPLES_ADDRESSES)}
    )
    page = context.new_page()
    seen = Visit(page, platform.gateway.url, request.node.name)
    gateway_host = urlsplit(platform.gateway.url).netloc

    def on_console(message: ConsoleMessage) -> None:
        the_pages_own_status = message.location.get("url") in seen.error_pages and "status of" in message.text
        if message.type == "error" and not the_pages_own_status:
            seen.problems.append(f"console error on {page.url}: {message.text}")

    def on_request(sent: Request) -> None:
        if urlsplit(sent.url).scheme in ("http", "https", "ws", "wss") and urlsplit(sent.url).netloc != gateway_host:
            seen.problems.append(f"a request to another host: {sent.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.problems.append(f"script error on {page.url}: {error}"))
    page.on("request", on_request)
    yield seen
    context.close()
