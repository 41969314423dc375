"""The office decides membership applications in the browser, against the real platform: two companies apply through
the API, staff log in from the queue's address, find both in the queue, reject one with a reason (in Italian) and
approve the other (in English), each time back in the queue with a confirmation; the members API then gives each
its status. Every page passes the `visit` checks (no console error, no outside request, axe-core, 375 px)."""

from __future__ import annotations

import itertools

import httpx
import pytest
from playwright.sync_api import Page, expect
from stdnum import luhn

from services.members.tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, application
from shared.membership import MembershipStatus
from tests.support.platform import Platform
from web.tests.browser.conftest import District, Visit

pytestmark = pytest.mark.integration
SERIALS = itertools.count(4_567_001, 2)  # each run's companies have Partita IVAs of their own
LUCCA_OFFICE = "046"  # the tax office part of a Partita IVA, as the district's companies have it


def partita_iva(serial: int) -> str:
    """A real-looking Partita IVA: 7 digits of the company, 3 of the office, a Luhn check digit."""
    base = f"{serial:07d}{LUCCA_OFFICE}"
    return base + luhn.calc_check_digit(base)


def applied(platform: Platform, legal_name: str, email: str, serial: int) -> str:
    with httpx.Client(base_url=f"{platform.gateway.url}/api", timeout=30) as api:
        answer = api.post(
            "/members/companies/applications",
            json=application(partita_iva(serial), email, legal_name=legal_name),
        )
    assert answer.status_code == 201, answer.text
    company_id: str = answer.json()["id"]
    return company_id


def status_of(platform: Platform, staff: dict[str, str], company_id: str) -> str:
    with httpx.Client(base_url=f"{platform.gateway.url}/api", timeout=30) as api:
        answer = api.get(f"/members/companies/{company_id}", headers=staff)
    assert answer.status_code == 200, answer.text
    status: str = answer.json()["status"]
    return status


def log_in_as_the_office(page: Page) -> None:
    page.locator("input[name=email]").fill(ADMIN_EMAIL)
    page.locator("input[name=password]").fill(ADMIN_PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


def test_the_office_rejects_one_application_with_a_reason_and_approves_another(
    visit: Visit, district: District, platform: Platform
) -> None:
    serial = next(SERIALS)
    doubtful_name, sound_name = f"Pellami Fantasma {serial}", f"Tomaificio Lunata {serial}"
    doubtful = applied(platform, doubtful_name, f"fantasma-{serial}@pellami.example", serial)
    sound = applied(platform, sound_name, f"titolare-{serial}@tomaificio-lunata.example", serial + 1)

    page = visit.open("/staff/applications")  # signed out: the login page, then back to the queue
    expect(page).to_have_url(f"{visit.gateway}/login?next=/staff/applications")
    log_in_as_the_office(page)
    expect(page).to_have_url(f"{visit.gateway}/staff/applications")
    expect(page.get_by_role("heading", level=1)).to_have_text("Domande di adesione alla rete")
    queue = page.locator("ol.application-queue")
    expect(queue.get_by_role("link", name=doubtful_name)).to_be_visible()
    names = queue.get_by_role("link").all_inner_texts()
    assert names.index(doubtful_name) < names.index(sound_name), "the oldest application comes first"
    visit.check(f"staff-applications-{visit.name}")

    queue.get_by_role("link", name=doubtful_name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(doubtful_name)
    expect(page.get_by_text("La cifra di controllo è corretta.")).to_be_visible()
    expect(page.get_by_text("Giulia Bertolucci")).to_be_visible()
    visit.check(f"staff-application-{visit.name}")
    page.get_by_role("button", name="Rifiuta la domanda").click()  # no reason yet: said beside the field
    expect(page.locator("#reason-error")).to_have_text("Scrivi perché la domanda è rifiutata.")
    page.get_by_label("Motivo del rifiuto").fill("La sede legale non è nel distretto di Capannori.")
    page.get_by_role("button", name="Rifiuta la domanda").click()
    expect(page).to_have_url(f"{visit.gateway}/staff/applications")
    expect(page.get_by_role("status")).to_have_text("Domanda rifiutata: chi l'ha presentata riceve il motivo.")
    expect(page.locator("ol.application-queue").get_by_role("link", name=doubtful_name)).to_have_count(0)

    page.goto(f"{visit.gateway}/staff/applications/{sound}?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text(sound_name)
    page.get_by_role("button", name="Approve the application").click()
    expect(page).to_have_url(f"{visit.gateway}/staff/applications")
    expect(page.get_by_role("status")).to_have_text(
        "The application is approved: the company is now a member of the network."
    )
    visit.check(f"staff-applications-decided-{visit.name}")

    assert status_of(platform, district.staff, doubtful) == MembershipStatus.REJECTED
    assert status_of(platform, district.staff, sound) == MembershipStatus.ACTIVE
