"""Every public page, in Italian and in English, on a phone and on a desktop: it shows what it is for, and passes
the checks every page must (web/tests/browser/conftest.py: no console error, nothing from another host, no serious
axe-core violation, no sideways scrolling), with a screenshot saved to look at."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from web.tests.browser.conftest import District, Visit

pytestmark = pytest.mark.integration

PAGES: dict[str, Callable[[District], str]] = {
    "home": lambda _: "/",
    "directory": lambda _: "/directory",
    "directory-search": lambda _: "/directory?q=suole&market=DE",
    "company": lambda district: f"/directory/{district.sole_maker['id']}",
    "events": lambda _: "/events",
    "event": lambda district: f"/events/{district.public_event['id']}",
    "apply": lambda _: "/apply",
    "login": lambda _: "/login",
    "password-reset": lambda _: "/password-reset",
    "invitation-unusable": lambda _: "/invitations/" + "x" * 40,
    "not-found": lambda _: "/no-such-page",
}
STATUSES = {"invitation-unusable": 410, "not-found": 404}
HEADINGS = {
    "home": ("La rete calzaturiera di Capannori", "The footwear network of Capannori"),
    "directory": ("Elenco delle imprese del distretto", "Directory of the district's companies"),
    "directory-search": ("Elenco delle imprese del distretto", "Directory of the district's companies"),
    "company": ("Suolificio Lammari S.r.l.", "Suolificio Lammari S.r.l."),
    "events": ("Eventi", "Events"),
    "event": ("Serata B2B con i buyer esteri", "B2B evening with foreign buyers"),
    "apply": ("Chiedi di aderire", "Apply for membership"),
    "login": ("Accedi", "Log in"),
    "password-reset": ("Password dimenticata", "Forgotten password"),
    "invitation-unusable": ("Questo link non si può usare", "This link cannot be used"),
    "not-found": ("Pagina non trovata", "Page not found"),
}


@pytest.mark.parametrize("language", ["it", "en"])
@pytest.mark.parametrize("name", list(PAGES))
def test_every_public_page_in_both_languages(visit: Visit, district: District, name: str, language: str) -> None:
    path = PAGES[name](district)
    page = visit.open(path + ("&" if "?" in path else "?") + f"lang={language}", STATUSES.get(name, 200))
    expect(page.locator("h1")).to_have_text(HEADINGS[name][0 if language == "it" else 1])
    expect(page.locator("html")).to_have_attribute("lang", language)
    other = "English" if language == "it" else "Italiano"
    expect(page.get_by_role("navigation", name="Lingua" if language == "it" else "Language")).to_contain_text(other)
    width = page.viewport_size["width"] if page.viewport_size else 0
    visit.check(f"{name}-{language}-{width}")


def test_the_language_chosen_is_remembered_from_page_to_page(visit: Visit, district: District) -> None:
    page = visit.open("/")
    page.get_by_role("link", name="English").click()
    expect(page.locator("h1")).to_have_text("The footwear network of Capannori")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Events").click()
    expect(page.locator("h1")).to_have_text("Events")
    expect(page.get_by_role("link", name="B2B evening with foreign buyers")).to_be_visible()
    visit.check(f"events-remembered-en-{page.viewport_size['width'] if page.viewport_size else 0}")


def test_the_directory_is_readable_without_javascript(browser: object, platform: object, district: District) -> None:
    from playwright.sync_api import Browser

    from tests.support.platform import Platform

    assert isinstance(browser, Browser) and isinstance(platform, Platform)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{platform.gateway.url}/directory?lang=en")
    page.get_by_label("Exports to").select_option("DE")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Suolificio Lammari S.r.l.")).to_be_visible()
    expect(page.get_by_role("link", name="Calzaturificio Le Pianacce S.r.l.")).to_be_visible()
    page.get_by_label("What they make").select_option("soles")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Calzaturificio Le Pianacce S.r.l.")).to_have_count(0)
    context.close()
