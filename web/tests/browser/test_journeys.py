"""Jobs done in the browser as the person does them, against the real platform."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.emails import emails_to, readable
from tests.support.platform import Platform
from web.tests.browser.conftest import SOLE_MAKER_EMAIL, District, Visit, until

pytestmark = pytest.mark.integration
BUYER_EMAIL = "einkauf@schuhhaus-weber.example"


@pytest.mark.parametrize("visit", [{"width": 375, "height": 812}], indirect=True, ids=["375px"])
def test_a_buyer_finds_sole_makers_exporting_to_germany_in_english_and_writes_to_one(
    visit: Visit, district: District, platform: Platform
) -> None:
    page = visit.open("/")
    page.get_by_role("link", name="English").click()
    page.get_by_role("button", name="Find a supplier").click()
    page.get_by_role("searchbox", name="Search").fill("sole maker")
    page.get_by_label("Exports to").select_option("DE")  # shown as "Germany (1)"
    page.get_by_role("button", name="Search").click()
    results = page.locator("#results")
    expect(results.get_by_role("link", name="Suolificio Lammari S.r.l.")).to_be_visible()
    expect(results.get_by_role("link", name="Calzaturificio Le Pianacce S.r.l.")).to_have_count(0)
    visit.check("journey-buyer-results-en-375")

    results.get_by_role("link", name="Suolificio Lammari S.r.l.").click()
    expect(page.locator("h1")).to_have_text("Suolificio Lammari S.r.l.")
    expect(page.get_by_role("list").filter(has_text="Germany")).to_be_visible()
    page.get_by_label("Your name").fill("Jonas Weber")
    page.get_by_label("Your email").fill(BUYER_EMAIL)
    page.get_by_label("Your company").fill("Schuhhaus Weber GmbH")
    page.get_by_label("Your country").select_option("DE")
    page.get_by_label("Your message").fill("We are looking for 5,000 pairs of leather soles a season.")
    page.get_by_role("button", name="Send the message").click()
    expect(page.get_by_role("status")).to_contain_text("Your message has been sent to the company")
    visit.check("journey-buyer-sent-en-375")

    # It arrives: the company's admin gets it by email (replying reaches the buyer), the buyer a copy.
    until(lambda: bool(written_to(platform, SOLE_MAKER_EMAIL, "5,000 pairs")))
    until(lambda: bool(written_to(platform, BUYER_EMAIL, "5,000 pairs")))
    [to_company] = [m for m in emails_to(platform.mail, SOLE_MAKER_EMAIL) if m["Reply-To"]]
    assert BUYER_EMAIL in str(to_company["Reply-To"])


def written_to(platform: Platform, address: str, words: str) -> list[str]:
    """The emails to `address` that say `words`, as their reader reads them."""
    return [text for eml in sorted(platform.mail.glob(f"*-{address}.eml")) if words in (text := readable(eml))]


@pytest.mark.parametrize("visit", [{"width": 1280, "height": 900}], indirect=True, ids=["1280px"])
def test_an_applicant_applies_through_the_form(visit: Visit, district: District, platform: Platform) -> None:
    page = visit.open("/apply")
    page.get_by_label("Ragione sociale").fill("Tomaificio Lunata S.r.l.")
    partita_iva = page.get_by_label("Partita IVA")
    partita_iva.fill("03456780460")
    expect(page.locator("#partita_iva-feedback")).to_contain_text("non è una Partita IVA valida")
    partita_iva.fill("03456780463")
    expect(page.locator("#partita_iva-feedback")).to_contain_text("Sembra corretto")
    page.get_by_label("Codice ATECO principale").fill("15.20.10")
    page.get_by_label("Dipendenti").fill("14")
    page.get_by_label("Fatturato annuo in euro").fill("1.250.000")
    page.get_by_label("Frazione").fill("Lunata")
    page.get_by_label("Tomaie").check()
    page.get_by_label("Orlatura").check()
    page.get_by_label("Nome", exact=True).fill("Marta")
    page.get_by_label("Cognome").fill("Lencioni")
    page.get_by_label("Email").fill("marta@tomaificio-lunata.example")
    page.get_by_label("Scegli una password").fill("tomaie-e-orlature-2026")
    visit.check("journey-apply-filled-it-1280")
    page.get_by_role("button", name="Invia la domanda").click()
    expect(page.locator("h1")).to_have_text("Domanda ricevuta")
    visit.check("journey-applied-it-1280")

    with httpx.Client(base_url=f"{platform.gateway.url}/api", timeout=15) as api:
        listed = api.get("/members/companies", params={"status": "applied"}, headers=district.staff).json()
    [applied] = [c for c in listed["items"] if c["legal_name"] == "Tomaificio Lunata S.r.l."]
    assert applied["turnover_eur"] == 1_250_000 and applied["capabilities"] == ["uppers", "stitching"]
    assert applied["frazione"] == "Lunata"
