"""Signing in and out, and a forgotten password, in the browser against the real members service."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from services.members.tests.conftest import APPLICANT_PASSWORD, application
from tests.support.emails import readable
from tests.support.platform import Platform
from web.tests.browser.conftest import District, Visit, approved_company, until

pytestmark = pytest.mark.integration
OWNER_EMAIL = "titolare@formificio-marlia.example"
NEW_PASSWORD = "forme-in-legno-di-faggio"


@pytest.mark.parametrize("visit", [{"width": 1280, "height": 900}], indirect=True, ids=["1280px"])
def test_a_forgotten_password_is_reset_through_the_emailed_link_and_the_old_one_stops_working(
    visit: Visit, district: District, platform: Platform
) -> None:
    with httpx.Client(base_url=f"{platform.gateway.url}/api", timeout=30) as api:
        approved_company(
            api, district.staff, application("07890120467", OWNER_EMAIL, legal_name="Formificio Marlia S.r.l.")
        )
    page = visit.open("/login?lang=en")
    page.get_by_role("link", name="Forgotten your password?").click()
    page.get_by_label("Email").fill(OWNER_EMAIL)
    page.get_by_role("button", name="Send me the link").click()
    expect(page.get_by_role("status")).to_contain_text(f"If {OWNER_EMAIL} belongs to an account")
    visit.check("account-reset-asked-en-1280")

    link = emailed_reset_link(platform, OWNER_EMAIL)
    assert link.startswith(f"{platform.gateway.url}/password-reset/"), "the email links to the site"
    page = visit.open(link.removeprefix(platform.gateway.url))
    expect(page.locator("h1")).to_have_text("Choose a new password")
    page.get_by_label("New password").fill("short")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.locator("#password-error")).to_have_text("At least 12 characters.")
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_role("status")).to_have_text("Your new password is set. Log in with it.")
    visit.check("account-reset-done-en-1280")

    log_in(page, OWNER_EMAIL, APPLICANT_PASSWORD)
    expect(page.get_by_role("alert")).to_have_text("The email or the password is not right.")
    log_in(page, OWNER_EMAIL, NEW_PASSWORD)
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_have_text("You are logged out.")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Log in")).to_be_visible()
    visit.check("account-logged-out-en-1280")

    page = visit.open(link.removeprefix(platform.gateway.url))
    page.get_by_label("New password").fill("a-third-password-here")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.locator("h1")).to_have_text("This link cannot be used")


def log_in(page: Page, email: str, password: str) -> None:
    page.goto(re.sub(r"^(https?://[^/]+).*$", r"\1/login", page.url))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def emailed_reset_link(platform: Platform, address: str) -> str:
    found: list[str] = []

    def arrived() -> bool:
        for eml in sorted(platform.mail.glob(f"*-{address}.eml")):
            found.extend(re.findall(r"https?://[^\s\"<>]+/password-reset/[A-Za-z0-9_\-]+", readable(eml)))
        return bool(found)

    until(arrived)
    return found[0]
