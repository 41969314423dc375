"""The members' area in the browser, as its people use it, against the real platform: an admin invites a colleague,
who sets a password from the email's link, registers for a course, sees the ticket and cancels; a funding alert
appears in an open inbox without a reload; and every page of the area, in Italian and in English, at 375 and 1280
px, with no console error, no outside request and no serious axe-core violation (the `visit` fixture's checks)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from services.events.tests.conftest import event_body
from services.funding.tests.conftest import call_body
from services.members.tests.conftest import APPLICANT_PASSWORD
from tests.support.emails import emails_to, readable
from tests.support.platform import Platform
from web.tests.browser.conftest import SHOE_FACTORY_EMAIL, SOLE_MAKER_EMAIL, District, Visit, token_headers, until

pytestmark = pytest.mark.integration
COLLEAGUE_EMAIL = "chiara.lencioni@suolificio-lammari.example"
COLLEAGUE_PASSWORD = "guardolo-e-tacco-2026"
INVITATION_LINK = re.compile(r"https?://[^/\s]+(/invitations/[A-Za-z0-9_-]+)")
LANGUAGES = ("it", "en")


@dataclass
class AreaSeed:
    """What the area's pages show for the shoe factory's admin: a registration, a fee, a matching call."""

    registration_id: str
    call_id: str


def api(platform: Platform) -> httpx.Client:
    return httpx.Client(base_url=f"{platform.gateway.url}/api", timeout=30)


def published_course(platform: Platform, staff: dict[str, str], title_it: str, title_en: str) -> dict[str, Any]:
    starts = (datetime.now(UTC) + timedelta(days=20)).replace(hour=8, minute=30, second=0, microsecond=0)
    body = event_body(
        title_it=title_it,
        title_en=title_en,
        starts_at=starts.isoformat(),
        ends_at=(starts + timedelta(hours=4)).isoformat(),
        cancellation_deadline=(starts - timedelta(days=2)).isoformat(),
    )
    with api(platform) as client:
        created = client.post("/events/events", headers=staff, json=body)
        assert created.status_code == 201, created.text
        published = client.post(f"/events/events/{created.json()['id']}/publish", headers=staff)
        assert published.status_code == 200, published.text
    course: dict[str, Any] = published.json()
    return course


def published_call(platform: Platform, staff: dict[str, str], title_it: str, title_en: str) -> dict[str, Any]:
    with api(platform) as client:
        created = client.post("/funding/calls", headers=staff, json=call_body(title_it=title_it, title_en=title_en))
    assert created.status_code == 201, created.text
    call: dict[str, Any] = created.json()
    return call


@pytest.fixture(scope="module")
def area_seed(platform: Platform, district: District) -> AreaSeed:
    course = published_course(platform, district.staff, "Corso di orlatura avanzata", "Advanced stitching course")
    call = published_call(platform, district.staff, "Bando per l'innovazione dei calzaturifici", "Innovation call")
    company_id = district.shoe_factory["id"]
    with api(platform) as client:
        fee = client.post(
            f"/members/companies/{company_id}/fees",
            headers=district.staff,
            json={"year": 2026, "amount_cents": 125_000, "due_date": "2026-03-31"},
        )
        assert fee.status_code == 201, fee.text
        admin = token_headers(client, SHOE_FACTORY_EMAIL, APPLICANT_PASSWORD)
        registered: dict[str, Any] = {}

        def registers() -> bool:  # the events service learns of the admin through Kafka
            answer = client.post(f"/events/events/{course['id']}/registrations", headers=admin, json={})
            registered.update(answer.json() if answer.status_code == 201 else {})
            return answer.status_code == 201

        until(registers)
        until(lambda: bool(client.get(f"/funding/companies/{company_id}/matches", headers=admin).json()))
    return AreaSeed(registered["id"], call["id"])


def log_in(page: Page, email: str, password: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)  # signed in: the login form sent them on


def log_out(page: Page) -> None:
    page.locator("form[action='/logout'] button").click()


def invitation_path(platform: Platform, address: str) -> str:
    links = [INVITATION_LINK.search(readable(eml)) for eml in sorted(platform.mail.glob(f"*-{address}.eml"))]
    found = [link.group(1) for link in links if link]
    assert found, f"no invitation link in the emails to {address}"
    return found[-1]


def cancellation_arrived(platform: Platform, address: str) -> bool:
    """An email to `address` carrying a calendar CANCEL (the entry to take out of the calendar)."""
    for message in emails_to(platform.mail, address):
        for part in message.walk():
            body = part.get_payload(decode=True) if not part.is_multipart() else None
            if isinstance(body, bytes) and b"METHOD:CANCEL" in body:
                return True
    return False


@pytest.mark.parametrize("visit", [{"width": 375, "height": 812}], indirect=True, ids=["375px"])
def test_an_admin_invites_a_colleague_who_registers_for_a_course_sees_the_ticket_and_cancels(
    visit: Visit, district: District, platform: Platform
) -> None:
    course = published_course(platform, district.staff, "Corso di modelleria 3D", "3D pattern making course")

    # The sole maker's admin, in Italian, invites a colleague to write to in English.
    page = visit.open("/login?next=/company/colleagues")
    log_in(page, SOLE_MAKER_EMAIL, APPLICANT_PASSWORD)
    expect(page.locator("h1")).to_have_text("Colleghi")
    page.get_by_label("La sua email").fill(COLLEAGUE_EMAIL)
    page.get_by_label("Lingua dell'invito").select_option("en")
    page.get_by_role("button", name="Invia l'invito").click()
    expect(page.get_by_role("status")).to_contain_text("L'invito è partito")
    visit.check("members-journey-invited-it-375")
    log_out(page)

    # The colleague opens the email's link and sets their own password, in English.
    until(lambda: bool(emails_to(platform.mail, COLLEAGUE_EMAIL)))
    page = visit.open(invitation_path(platform, COLLEAGUE_EMAIL) + "?lang=en")
    page.get_by_label("Given name").fill("Chiara")
    page.get_by_label("Family name").fill("Lencioni")
    page.get_by_label("Choose a password").fill(COLLEAGUE_PASSWORD)
    page.get_by_role("button", name="Set my password and join").click()
    expect(page.locator("h1")).to_have_text("Hello, Chiara Lencioni")
    visit.check("members-journey-joined-en-375")

    # They register for the course from its page, then find the ticket among their registrations.
    page = visit.open(f"/events/{course['id']}")
    page.get_by_role("button", name="Register as Chiara Lencioni").click()
    expect(page.get_by_role("status")).to_contain_text("You are registered")
    page = visit.open("/registrations")
    page.get_by_role("link", name="3D pattern making course").click()
    expect(page.get_by_role("heading", name="Your ticket")).to_be_visible()
    qr = page.get_by_role("img", name=re.compile("QR code of your ticket"))
    expect(qr).to_be_visible()
    page.wait_for_function(
        "() => { const qr = document.querySelector('img.qr'); return qr.complete && qr.naturalWidth > 0; }"
    )
    visit.check("members-journey-ticket-en-375")

    # They cancel; the cancellation email carries the calendar's CANCEL.
    page.get_by_role("button", name="Cancel my registration").click()
    expect(page.get_by_role("status")).to_contain_text("Your registration is cancelled.")
    expect(page.locator(".facts")).to_contain_text("Cancelled")
    visit.check("members-journey-cancelled-en-375")
    until(lambda: cancellation_arrived(platform, COLLEAGUE_EMAIL))

    # At last they ask for their data to be erased, say yes twice, and are logged out.
    page = visit.open("/my-data")
    page.get_by_label("I understand that my account and my data will be erased").check()
    page.get_by_role("button", name="Erase my data").click()
    expect(page.locator("h1")).to_have_text("One last check")
    visit.check("members-journey-erasure-en-375")
    page.get_by_label("Your email").fill(COLLEAGUE_EMAIL)
    page.get_by_role("button", name="Erase my account and my data").click()
    expect(page.locator("h1")).to_have_text("Your data is erased")
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    visit.check("members-journey-erased-en-375")
    page = visit.open("/dashboard")
    expect(page.locator("h1")).to_have_text("Log in")


@pytest.mark.parametrize("visit", [{"width": 1280, "height": 900}], indirect=True, ids=["1280px"])
def test_a_funding_alert_appears_in_an_open_inbox_without_a_reload(
    visit: Visit, district: District, platform: Platform
) -> None:
    page = visit.open("/login?next=/inbox")
    log_in(page, SHOE_FACTORY_EMAIL, APPLICANT_PASSWORD)
    expect(page.locator("h1")).to_have_text("Messaggi")
    page.wait_for_load_state("networkidle")
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)

    published_call(platform, district.staff, "Bando per le suole riciclate", "Recycled soles call")

    alert = page.locator("#inbox-messages > li").filter(has_text="Bando per le suole riciclate").first
    expect(alert).to_be_visible(timeout=60_000)
    assert not navigations, f"the page was not reloaded: {navigations}"
    expect(alert).to_have_class(re.compile("unread"))
    expect(page.locator("#unread-badge .badge")).to_be_visible()
    visit.check("members-inbox-live-it-1280")
    alert.get_by_role("button", name="Segna come letto").click()
    expect(page.locator("#inbox-messages > li").filter(has_text="Bando per le suole riciclate").first).to_have_class(
        re.compile(r"\bread\b")
    )


def area_pages(seed: AreaSeed) -> list[tuple[str, str]]:
    return [
        ("dashboard", "/dashboard"),
        ("company", "/company"),
        ("colleagues", "/company/colleagues"),
        ("fees", "/company/fees"),
        ("registrations", "/registrations"),
        ("registration", f"/registrations/{seed.registration_id}"),
        ("funding", "/funding"),
        ("funding-call", f"/funding/calls/{seed.call_id}"),
        ("inbox", "/inbox"),
        ("preferences", "/preferences"),
        ("my-data", "/my-data"),
    ]


def test_every_page_of_the_area_in_both_languages(visit: Visit, area_seed: AreaSeed) -> None:
    page = visit.open("/login")
    log_in(page, SHOE_FACTORY_EMAIL, APPLICANT_PASSWORD)
    width = page.viewport_size["width"] if page.viewport_size else 0
    for language in LANGUAGES:
        for name, path in area_pages(area_seed):
            page = visit.open(f"{path}?lang={language}")
            expect(page.locator("html")).to_have_attribute("lang", language)
            expect(page.locator("nav.area-nav")).to_be_visible()
            visit.check(f"members-{name}-{language}-{width}")
