"""The office's applications pages in process, the members API answered by the fake gateway as it answers: only the
office sees them, the queue oldest first, an application's data and checks in both languages, and what approving
and rejecting send (a rejection without a reason is refused beside its field, before the API is asked)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from web.tests.conftest import FakeGateway, csrf_of
from web.tests.test_members_pages import COMPANY, COMPANY_BODY

OFFICE_PERSON = "7f0c1c52-54a4-4c43-9a0e-0a3d1f1f0009"
NEWER = "3b9d6a1e-7c1f-4d55-8f7e-2b9d6a1e0002"
APPLIED = {**COMPANY_BODY, "partita_iva": "02345670463", "status": "applied", "created_at": "2026-11-03T09:00:00Z"}
NEWER_APPLIED = {
    **COMPANY_BODY,
    "id": NEWER,
    "legal_name": "Accessori Lammari",
    "legal_form": "S.n.c.",
    "partita_iva": "02345670464",
    "status": "applied",
    "created_at": "2026-11-28T15:00:00Z",
}
APPLICANT = {
    "id": "7f0c1c52-54a4-4c43-9a0e-0a3d1f1f0001",
    "given_name": "Anna",
    "family_name": "Rossi",
    "email": "anna@pianacce.example",
    "role": "company_admin",
    "company_id": COMPANY,
    "language": "en",
    "phone": "+39 0583 123456",
    "created_at": "2026-11-03T09:00:00Z",
    "erased_at": None,
}


def answer_the_office(fake: FakeGateway, role: str = "network_admin") -> None:
    fake.answer("POST", "/members/auth/token", {"access_token": "t", "token_type": "Bearer", "expires_in": 900})
    fake.answer(
        "GET",
        "/members/people/me",
        {"id": OFFICE_PERSON, "email": "segreteria@filiera.example", "role": role, "company_id": None},
    )
    # The members API lists by name: the page puts the oldest first.
    fake.answer(
        "GET", "/members/companies", {"items": [NEWER_APPLIED, APPLIED], "total": 2, "page": 1, "page_size": 100}
    )
    fake.answer("GET", f"/members/companies/{COMPANY}", APPLIED)
    fake.answer("GET", f"/members/companies/{COMPANY}/people", [APPLICANT])


async def sign_in(browser: httpx.AsyncClient, fake: FakeGateway, role: str = "network_admin") -> None:
    answer_the_office(fake, role)
    login = await browser.get("/login")
    signed = await browser.post(
        "/login",
        data={"email": "segreteria@filiera.example", "password": "x", "csrf_token": csrf_of(login.text), "next": "/"},
    )
    assert signed.status_code == 303, signed.text


PAGES = ["/staff/applications", f"/staff/applications/{COMPANY}"]


@pytest.mark.parametrize("path", PAGES)
async def test_the_office_pages_need_a_login(browser: httpx.AsyncClient, path: str) -> None:
    answer = await browser.get(path)
    assert answer.status_code == 303 and answer.headers["location"] == f"/login?next={path}"


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("role", ["company_admin", "company_member"])
async def test_a_member_company_s_people_may_not_see_them(
    browser: httpx.AsyncClient, fake_gateway: FakeGateway, path: str, role: str
) -> None:
    await sign_in(browser, fake_gateway, role)
    answer = await browser.get(path, params={"lang": "en"})
    assert answer.status_code == 403 and "Something went wrong" in answer.text
    assert not fake_gateway.sent("GET", "/members/companies")


async def test_the_queue_shows_the_oldest_application_first_in_both_languages(
    browser: httpx.AsyncClient, fake_gateway: FakeGateway
) -> None:
    await sign_in(browser, fake_gateway)
    italian = await browser.get("/staff/applications", params={"lang": "it"})
    assert italian.status_code == 200
    page = italian.text
    assert page.index("Calzaturificio Pianacce") < page.index("Accessori Lammari")
    assert "2 domande attendono una decisione" in page and "Domanda del 3 novembre 2026" in page
    asked = fake_gateway.sent("GET", "/members/companies")[0]
    assert asked.url.params["status"] == "applied"
    english = (await browser.get("/staff/applications", params={"lang": "en"})).text
    assert "2 applications are waiting for a decision" in english and "Applied on 3 November 2026" in english
    assert "Domanda del" not in english


async def test_an_empty_queue_says_so(browser: httpx.AsyncClient, fake_gateway: FakeGateway) -> None:
    await sign_in(browser, fake_gateway)
    fake_gateway.answer("GET", "/members/companies", {"items": [], "total": 0, "page": 1, "page_size": 100})
    page = (await browser.get("/staff/applications", params={"lang": "it"})).text
    assert "Nessuna domanda attende una decisione." in page


async def test_an_application_shows_the_company_its_checks_and_its_applicant(
    browser: httpx.AsyncClient, fake_gateway: FakeGateway
) -> None:
    await sign_in(browser, fake_gateway)
    page = (await browser.get(f"/staff/applications/{COMPANY}", params={"lang": "it"})).text
    for shown in (
        "Calzaturificio Pianacce S.r.l.",
        "02345670463",
        "La cifra di controllo è corretta.",
        "15.20.10 (principale)",
        "Piccola impresa",
        "23 dipendenti",
        "fatturato 3.400.000,00",
        "Via di Tiglio 12, 55012 Segromigno in Monte, Capannori (LU), Toscana",
        "Anna Rossi",
        "anna@pianacce.example",
        "Scrive in inglese",
        "Domanda del 3 novembre 2026",
    ):
        assert shown in page, shown
    assert 'action="/staff/applications/' + COMPANY + '/approve"' in page and 'name="reason"' in page
    english = (await browser.get(f"/staff/applications/{COMPANY}", params={"lang": "en"})).text
    assert "The check digit is right." in english and "Writes in English" in english
    assert "23 employees" in english and "Reject the application" in english


async def test_a_partita_iva_with_a_wrong_check_digit_is_pointed_out(
    browser: httpx.AsyncClient, fake_gateway: FakeGateway
) -> None:
    await sign_in(browser, fake_gateway)
    fake_gateway.answer("GET", f"/members/companies/{NEWER}", NEWER_APPLIED)
    fake_gateway.answer("GET", f"/members/companies/{NEWER}/people", [])
    page = (await browser.get(f"/staff/applications/{NEWER}", params={"lang": "en"})).text
    assert "This is not a valid Partita IVA: check the digits" in page
    assert "The company has no applicant on record." in page


async def test_a_decided_application_offers_no_decision(browser: httpx.AsyncClient, fake_gateway: FakeGateway) -> None:
    await sign_in(browser, fake_gateway)
    fake_gateway.answer("GET", f"/members/companies/{COMPANY}", {**APPLIED, "status": "active"})
    page = (await browser.get(f"/staff/applications/{COMPANY}", params={"lang": "en"})).text
    assert "Active member" in page and "already been decided" in page and 'name="reason"' not in page


async def office_csrf(browser: httpx.AsyncClient) -> str:
    return csrf_of((await browser.get(f"/staff/applications/{COMPANY}")).text)


async def test_approving_sends_the_decision_and_returns_to_the_queue_with_a_confirmation(
    browser: httpx.AsyncClient, fake_gateway: FakeGateway
) -> None:
    await sign_in(browser, fake_gateway)
    fake_gateway.answer("POST", f"/members/companies/{COMPANY}/approve", {**APPLIED, "status": "active"})
    csrf = await office_csrf(browser)
    answer = await browser.post(f"/staff/applications/{COMPANY}/approve", data={"csrf_token": csrf})
    assert answer.status_code == 303 and answer.headers["location"] == "/staff/applications"
    assert len(fake_gateway.sent("POST", f"/members/companies/{COMPANY}/approve")) == 1
    queue = (await browser.get("/staff/applications", params={"lang": "it"})).text
    assert "Domanda approvata: l'impresa ora è socia della rete." in queue


async def test_rejecting_sends_the_reason(browser: httpx.AsyncClient, fake_gateway: FakeGateway) -> None:
    await sign_in(browser, fake_gateway)
    fake_gateway.answer("POST", f"/members/companies/{COMPANY}/reject", {**APPLIED, "status": "rejected"})
    csrf = await office_csrf(browser)
    answer = await browser.post(
        f"/staff/applications/{COMPANY}/reject",
        data={"csrf_token": csrf, "reason": "  L'impresa non ha sede nel distretto.  "},
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/staff/applications"
    [sent] = fake_gateway.sent("POST", f"/members/companies/{COMPANY}/reject")
    assert FakeGateway.json_of(sent) == {"reason": "L'impresa non ha sede nel distretto."}
    queue = (await browser.get("/staff/applications", params={"lang": "en"})).text
    assert "The application is rejected: the applicant is told why." in queue


async def test_a_rejection_needs_a_reason_said_beside_the_field(
    browser: httpx.AsyncClient, fake_gateway: FakeGateway
) -> None:
    await sign_in(browser, fake_gateway)
    csrf = await office_csrf(browser)
    answer = await browser.post(
        f"/staff/applications/{COMPANY}/reject", data={"csrf_token": csrf, "reason": "   "}, params={"lang": "it"}
    )
    assert answer.status_code == 200
    assert 'id="reason-error">Scrivi perché la domanda è rifiutata.' in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert not fake_gateway.sent("POST", f"/members/companies/{COMPANY}/reject")


async def test_the_api_s_refusal_is_shown_on_the_page(browser: httpx.AsyncClient, fake_gateway: FakeGateway) -> None:
    await sign_in(browser, fake_gateway)
    refusal: dict[str, Any] = {"detail": "cannot approve a company whose membership is rejected"}
    fake_gateway.answer("POST", f"/members/companies/{COMPANY}/approve", refusal, status=409)
    csrf = await office_csrf(browser)
    answer = await browser.post(f"/staff/applications/{COMPANY}/approve", data={"csrf_token": csrf})
    assert answer.status_code == 200 and "cannot approve a company whose membership is rejected" in answer.text


async def test_a_decision_without_the_session_s_token_is_refused(
    browser: httpx.AsyncClient, fake_gateway: FakeGateway
) -> None:
    await sign_in(browser, fake_gateway)
    answer = await browser.post(f"/staff/applications/{COMPANY}/approve", data={"csrf_token": "forged"})
    assert answer.status_code == 403
    assert not fake_gateway.sent("POST", f"/members/companies/{COMPANY}/approve")
