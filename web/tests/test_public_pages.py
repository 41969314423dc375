"""The public pages in process, against a stand-in gateway: what each asks the APIs and what it shows."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from web.forms import ateco_problem, euros, partita_iva_problem, whole_number
from web.tests.conftest import FakeGateway, csrf_of

SOLE_MAKER: dict[str, object] = {
    "id": "c1",
    "legal_name": "Suolificio Lammari S.r.l.",
    "comune": "Capannori",
    "frazione": "Lammari",
    "province": "LU",
    "website": "https://suolificio-lammari.example",
    "size_class": "small",
    "ateco_primary": "15.20.10",
    "ateco_secondary": [],
    "capabilities": ["soles"],
    "certifications": ["ISO 9001"],
    "export_markets": ["DE", "FR"],
    "languages": ["it", "de"],
    "description": "Rubber and leather soles.",
}


def directory_page(items: list[dict[str, object]]) -> dict[str, object]:
    return {"items": items, "total": len(items), "page": 1, "page_size": 100}


@pytest.fixture
def directory(fake_gateway: FakeGateway) -> FakeGateway:
    fake_gateway.answer("GET", "/members/directory", directory_page([SOLE_MAKER]))
    return fake_gateway


async def test_the_directory_passes_the_search_on_and_shows_the_facets(
    browser: httpx.AsyncClient, directory: FakeGateway
) -> None:
    page = await browser.get("/directory?lang=en&q=sole+maker&market=DE&comune=Lammari")
    assert page.status_code == 200
    assert "Suolificio Lammari" in page.text and "1 company found" in page.text
    assert '<option value="DE" selected>Germany (1)</option>' in page.text
    searches = [
        r.url.params for r in directory.sent("GET", "/members/directory") if r.url.params.get("page_size") == "12"
    ]
    assert searches[0]["q"] == "sole maker Lammari" and searches[0]["market"] == "DE" and searches[0]["lang"] == "en"


async def test_a_company_page_and_its_inquiry_reaching_notifications(
    browser: httpx.AsyncClient, directory: FakeGateway
) -> None:
    directory.answer("POST", "/notifications/inquiries", httpx.Response(202))
    page = await browser.get("/directory/c1?lang=en")
    assert "Germany" in page.text and "German" in page.text and "ISO 9001" in page.text and "Lammari" in page.text
    sent = await browser.post(
        "/directory/c1/inquiry",
        data={"csrf_token": csrf_of(page.text), "name": "Jonas Weber", "email": "jonas@schuhe.example",
              "company": "Schuhe GmbH", "country": "de", "message": "We need 5,000 pairs of soles.", "website": ""},
    )  # fmt: skip
    assert sent.status_code == 200 and "Your message has been sent" in sent.text
    [inquiry] = directory.sent("POST", "/notifications/inquiries")
    assert FakeGateway.json_of(inquiry) == {
        "company_id": "c1", "name": "Jonas Weber", "email": "jonas@schuhe.example", "company": "Schuhe GmbH",
        "country": "DE", "message": "We need 5,000 pairs of soles.", "language": "en", "website": "",
    }  # fmt: skip


async def test_an_inquiry_refused_by_the_api_shows_its_messages_beside_the_fields(
    browser: httpx.AsyncClient, directory: FakeGateway
) -> None:
    problem = {"type": "validation", "title": "Invalid", "status": 422,
               "errors": [{"pointer": "/email", "detail": "not an email address"}]}  # fmt: skip
    directory.answer("POST", "/notifications/inquiries", problem, status=422)
    page = await browser.get("/directory/c1")
    answer = await browser.post(
        "/directory/c1/inquiry",
        data={"csrf_token": csrf_of(page.text), "name": "J", "email": "nope", "message": "hello"},
    )
    assert answer.status_code == 200, "a form shown again answers 200"
    assert 'id="email-error">not an email address' in answer.text and 'aria-invalid="true"' in answer.text


async def test_an_unknown_company_is_a_404_page(browser: httpx.AsyncClient, directory: FakeGateway) -> None:
    assert (await browser.get("/directory/nobody")).status_code == 404


EVENT = {
    "id": "e1", "title_it": "Serata B2B", "title_en": "B2B evening", "description_it": "",
    "description_en": "Meet buyers.",
    "event_type": "b2b_meeting", "audience": "public", "status": "published", "venue": "Polo Tecnologico",
    "starts_at": "2026-12-04T18:30:00+01:00", "ends_at": "2026-12-04T21:00:00+01:00", "seats_left": 3,
    "waiting": 0, "price_member_cents": 0, "price_other_cents": 125000, "registration_closes_at": None,
    "online_url": None,
}  # fmt: skip


async def test_a_guest_registers_for_a_public_event_in_their_language(
    browser: httpx.AsyncClient, fake_gateway: FakeGateway
) -> None:
    fake_gateway.answer("GET", "/events/events/e1", EVENT)
    fake_gateway.answer(
        "POST", "/events/events/e1/registrations", {"status": "confirmed", "checkin_token": "t" * 30}, status=201
    )
    page = await browser.get("/events/e1")
    assert "Serata B2B" in page.text and "venerdì 4 dicembre 2026, 18:30" in page.text and "1.250,00" in page.text
    assert (
        'href="/api/events/events/e1.ics"' in page.text
        and "webcal://127.0.0.1:8080/api/events/calendar.ics" in page.text
    )
    done = await browser.post(
        "/events/e1/registrations",
        data={"csrf_token": csrf_of(page.text), "name": "Jonas Weber", "email": "jonas@schuhe.example",
              "company": "", "language": "en"},
    )  # fmt: skip
    assert "Sei iscritto" in done.text and f"/api/events/qr/{'t' * 30}.svg" in done.text
    [sent] = fake_gateway.sent("POST", "/events/events/e1/registrations")
    assert FakeGateway.json_of(sent) == {
        "guest": {"name": "Jonas Weber", "company": None, "email": "jonas@schuhe.example", "language": "en"}
    }


async def test_the_partita_iva_is_checked_as_it_is_typed(browser: httpx.AsyncClient) -> None:
    wrong = await browser.get("/apply/check/partita_iva?partita_iva=01234560461&lang=en")
    assert "check digit" in wrong.text and "<html" not in wrong.text, "a fragment for htmx"
    right = await browser.get("/apply/check/partita_iva?partita_iva=01234560462&lang=it")
    assert "Sembra corretto" in right.text
    assert "15.20.10" in (await browser.get("/apply/check/ateco_primary?ateco_primary=1520")).text


def application_form(csrf: str, **changes: str) -> dict[str, str | list[str]]:
    form: dict[str, str | list[str]] = {
        "csrf_token": csrf, "legal_name": "Tomaificio Lunata", "legal_form": "S.r.l.", "partita_iva": "01234560462",
        "ateco_primary": "15.20.10", "ateco_secondary": "15.20.20, 14.19", "employees": "12",
        "turnover_eur": "1.250.000", "comune": "Capannori", "frazione": "Lunata", "province": "lu",
        "capabilities": ["uppers", "stitching"], "export_markets": ["DE"], "languages": ["it", "en"],
        "applicant.given_name": "Marta", "applicant.family_name": "Lencioni", "applicant.email": "marta@lunata.example",
        "applicant.password": "tomaie-e-orlature", "applicant.language": "it",
    }  # fmt: skip
    return form | changes


async def test_an_application_is_sent_in_the_apis_exact_types(
    browser: httpx.AsyncClient, fake_gateway: FakeGateway
) -> None:
    fake_gateway.answer("POST", "/members/companies/applications", {"legal_name": "Tomaificio Lunata"}, status=201)
    page = await browser.get("/apply")
    done = await browser.post("/apply", data=application_form(csrf_of(page.text)))
    assert done.status_code == 200 and "marta@lunata.example" in done.text
    [sent] = fake_gateway.sent("POST", "/members/companies/applications")
    body = FakeGateway.json_of(sent)
    assert body["turnover_eur"] == 1_250_000 and body["employees"] == 12 and body["province"] == "LU"
    assert body["ateco_secondary"] == ["15.20.20", "14.19"] and body["capabilities"] == ["uppers", "stitching"]
    assert body["applicant"]["password"] == "tomaie-e-orlature"


async def test_an_application_with_mistakes_says_each_beside_its_field_and_never_echoes_the_password(
    browser: httpx.AsyncClient, fake_gateway: FakeGateway
) -> None:
    page = await browser.get("/apply?lang=en")
    answer = await browser.post("/apply", data=application_form(csrf_of(page.text), partita_iva="01234560461"))
    assert answer.status_code == 200 and not fake_gateway.sent("POST", "/members/companies/applications")
    assert 'id="partita_iva-error">This is not a valid Partita IVA' in answer.text
    assert "tomaie-e-orlature" not in answer.text
    fake_gateway.answer(
        "POST", "/members/companies/applications",
        {"detail": [{"loc": ["body", "applicant", "email"], "msg": "value is not a valid email address"}]}, status=422,
    )  # fmt: skip
    refused = await browser.post("/apply", data=application_form(csrf_of(page.text)))
    assert 'id="applicant.email-error">value is not a valid email address' in refused.text


@pytest.mark.parametrize(
    ("typed", "amount"),
    [("1.250.000", "1250000"), ("1.250.000,50", "1250000.50"), ("1250000", "1250000"), ("€ 1.250", "1250"),
     ("1,250,000.50", "1250000.50"), ("12,5", "12.5"), ("", None), ("tanti", None)],
)  # fmt: skip
def test_amounts_as_people_type_them(typed: str, amount: str | None) -> None:
    assert euros(typed) == (Decimal(amount) if amount else None)


def test_codes_as_the_members_service_checks_them() -> None:
    assert partita_iva_problem("IT 01234560462") is None and partita_iva_problem("123") is not None
    assert ateco_problem("15.20, 15.20.10") is None and ateco_problem("15-20") is not None
    assert ateco_problem("", required=False) is None and whole_number("12,5") is None
