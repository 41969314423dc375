"""The members' area in process, its APIs answered by the fake gateway as they answer: each page in both
languages, the forms' errors beside their fields, and what each action sends to which API."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from web.tests.conftest import FakeGateway, csrf_of

PERSON = "7f0c1c52-54a4-4c43-9a0e-0a3d1f1f0001"
COLLEAGUE = "7f0c1c52-54a4-4c43-9a0e-0a3d1f1f0002"
COMPANY = "3b9d6a1e-7c1f-4d55-8f7e-2b9d6a1e0001"
CALL = "c0ffee00-1111-4222-8333-444455556666"
REGISTRATION = "a1b2c3d4-0000-4000-8000-000000000001"
EVENT = "e0e0e0e0-0000-4000-8000-000000000001"
MESSAGE = "b0b0b0b0-0000-4000-8000-000000000001"
SEARCH = "d0d0d0d0-0000-4000-8000-000000000001"

COMPANY_BODY: dict[str, Any] = {
    "id": COMPANY,
    "legal_name": "Calzaturificio Pianacce S.r.l.",
    "legal_form": "S.r.l.",
    "partita_iva": "01234567897",
    "codice_fiscale": "01234567897",
    "status": "active",
    "size_class": "small",
    "ateco_primary": "15.20.10",
    "ateco_secondary": [],
    "employees": 23,
    "turnover_eur": 3_400_000,
    "balance_sheet_eur": None,
    "street": "Via di Tiglio 12",
    "postal_code": "55012",
    "comune": "Capannori",
    "frazione": "Segromigno in Monte",
    "province": "LU",
    "region": "Toscana",
    "website": None,
    "capabilities": ["finished_shoes", "soles"],
    "certifications": ["ISO 9001"],
    "export_markets": ["DE", "JP"],
    "languages": ["it", "en"],
    "interests": ["sustainability"],
    "description_it": "",
    "description_en": "",
    "public_listing": True,
    "created_at": "2026-03-02T10:00:00Z",
    "updated_at": "2026-03-02T10:00:00Z",
}
CALL_BODY: dict[str, Any] = {
    "id": CALL,
    "title_it": "Bando per la transizione digitale",
    "title_en": "Digital transition call",
    "summary": "Contributi per progetti digitali.",
    "description": "Prima riga.\nSeconda riga.",
    "programme": "PR FESR Toscana",
    "status": "open",
    "opens_at": None,
    "deadlines": ["2027-01-15T12:00:00Z"],
    "next_deadline": "2027-01-15T12:00:00Z",
    "budget_eur": 1_250_000,
    "grant_min_eur": None,
    "grant_max_eur": 50_000,
    "sizes": ["micro", "small"],
    "regions": ["Toscana"],
    "ateco_codes": ["15.20"],
    "external_id": "TOS-2026-1",
    "url": None,
}
MATCH = {
    "call_id": CALL,
    "company_id": COMPANY,
    "score": 80,
    "reasons": ["ATECO 15.20.10 eligible (call open to 15.20)", "open to companies in Toscana", "keyword: digital"],
    "call": CALL_BODY,
}
EVENT_BODY = {
    "id": EVENT,
    "title_it": "Corso di modelleria digitale",
    "title_en": "Digital pattern making course",
    "event_type": "training",
    "status": "published",
    "starts_at": "2026-12-04T09:30:00+01:00",
    "ends_at": "2026-12-04T13:00:00+01:00",
    "time_zone": "Europe/Rome",
    "venue": "Polo Tecnologico Lucchese",
    "online_url": None,
    "cancellation_deadline": "2026-12-02T18:00:00+01:00",
}
REGISTRATION_BODY = {
    "id": REGISTRATION,
    "event_id": EVENT,
    "person_id": PERSON,
    "company_id": COMPANY,
    "name": "Anna Rossi",
    "status": "confirmed",
    "waitlist_position": None,
    "price_due_cents": 0,
    "checked_in_at": None,
    "offer_expires_at": None,
    "created_at": "2026-11-20T10:00:00Z",
    "event": EVENT_BODY,
    "checkin_token": "Zk3sQ9-abcdefgh",
}
INBOX_MESSAGE = {
    "id": MESSAGE,
    "kind": "funding_match",
    "category": "funding_alerts",
    "title": "Un nuovo bando per Calzaturificio Pianacce",
    "body": "Bando per la transizione digitale\nMotivi: keyword: digital",
    "link": f"/funding/calls/{CALL}",
    "created_at": "2026-12-01T08:15:00Z",
    "read_at": None,
}
PREFERENCES = [
    {"category": c, "channel": ch, "enabled": True, "frequency": "instant", "transactional": c == "membership"}
    for c in ("funding_alerts", "events", "network_news", "membership")
    for ch in ("email", "in_app")
]


def answer_the_area(fake: FakeGateway, role: str = "company_admin") -> None:
    fake.answer("POST", "/members/auth/token", {"access_token": "t", "token_type": "Bearer", "expires_in": 900})
    fake.answer(
        "GET",
        "/members/people/me",
        {"id": PERSON, "email": "anna@pianacce.example", "role": role, "company_id": COMPANY, "given_name": "Anna"},
    )
    fake.answer("GET", "/events/me/registrations", [REGISTRATION_BODY])
    fake.answer("GET", f"/funding/companies/{COMPANY}/matches", [MATCH])
    fake.answer("GET", "/notifications/inbox", {"items": [INBOX_MESSAGE], "total": 1, "page": 1, "page_size": 20})
    fake.answer("GET", "/notifications/inbox/unread-count", {"unread": 1})
    fake.answer("GET", f"/members/companies/{COMPANY}", COMPANY_BODY)
    fake.answer("GET", f"/funding/calls/{CALL}", CALL_BODY)
    fake.answer("GET", "/funding/calls", {"items": [CALL_BODY], "total": 1, "page": 1, "page_size": 10})
    fake.answer("GET", "/funding/searches", [{"id": SEARCH, "name": "Digitale", "text": "digitale", "status": []}])
    fake.answer("GET", f"/events/registrations/{REGISTRATION}", REGISTRATION_BODY)
    fake.answer("GET", "/notifications/preferences/me", PREFERENCES)
    fake.answer(
        "GET",
        f"/members/companies/{COMPANY}/fees",
        [
            {
                "id": "f1",
                "company_id": COMPANY,
                "year": 2026,
                "amount_cents": 125_000,
                "paid_cents": 0,
                "outstanding_cents": 125_000,
                "due_date": "2026-03-31",
                "overdue": True,
            },
        ],
    )
    fake.answer(
        "GET",
        f"/members/companies/{COMPANY}/people",
        [
            {
                "id": PERSON,
                "given_name": "Anna",
                "family_name": "Rossi",
                "email": "anna@pianacce.example",
                "role": "company_admin",
                "company_id": COMPANY,
                "erased_at": None,
            },
            {
                "id": COLLEAGUE,
                "given_name": "Chiara",
                "family_name": "Lencioni",
                "email": "chiara@pianacce.example",
                "role": "company_member",
                "company_id": COMPANY,
                "erased_at": None,
            },
        ],
    )


async def sign_in(browser: httpx.AsyncClient, fake: FakeGateway, role: str = "company_admin") -> str:
    answer_the_area(fake, role)
    login = await browser.get("/login")
    signed = await browser.post(
        "/login",
        data={
            "email": "anna@pianacce.example",
            "password": "x",
            "csrf_token": csrf_of(login.text),
            "next": "/dashboard",
        },
    )
    assert signed.status_code == 303, signed.text
    return csrf_of((await browser.get("/dashboard")).text)


AREA_PAGES = [
    "/dashboard",
    "/company",
    "/company/colleagues",
    "/company/fees",
    "/registrations",
    f"/registrations/{REGISTRATION}",
    "/funding",
    f"/funding/calls/{CALL}",
    "/inbox",
    "/preferences",
    "/my-data",
]


@pytest.mark.parametrize("path", AREA_PAGES)
async def test_every_page_of_the_area_needs_a_login(browser: httpx.AsyncClient, path: str) -> None:
    answer = await browser.get(path)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=/")


@pytest.mark.parametrize("path", AREA_PAGES)
async def test_every_page_of_the_area_in_italian_and_in_english(
    browser: httpx.AsyncClient, fake_gateway: FakeGateway, path: str
) -> None:
    await sign_in(browser, fake_gateway)
    italian = await browser.get(path, params={"lang": "it"})
    english = await browser.get(path, params={"lang": "en"})
    assert italian.status_code == english.status_code == 200, italian.text
    assert "La mia impresa" in italian.text and "My company" in english.text
    assert "My company" not in italian.text


async def test_the_dashboard_names_my_event_my_match_with_its_reasons_and_my_unread_message(
    browser: httpx.AsyncClient, fake_gateway: FakeGateway
) -> None:
    await sign_in(browser, fake_gateway)
    page = (await browser.get("/dashboard?lang=it")).text
    assert "Corso di modelleria digitale" in page and "4 dicembre 2026, 09:30" in page
    assert "Bando per la transizione digitale" in page and "aperto alle imprese in Toscana" in page
    assert "il tuo codice ATECO 15.20.10 è ammesso" in page and "parla di «digital»" in page
    assert "Un nuovo bando per Calzaturificio Pianacce" in page
    english = (await browser.get("/dashboard?lang=en")).text
    assert "Digital transition call" in english and "4 December 2026, 09:30" in english
    assert "open to companies in Tuscany" in english


async def test_the_ticket_shows_the_qr_code_through_the_web_client(
    browser: httpx.AsyncClient, fake_gateway: FakeGateway
) -> None:
    await sign_in(browser, fake_gateway)
    page = (await browser.get(f"/registrations/{REGISTRATION}?lang=it")).text
    assert f'src="/registrations/{REGISTRATION}/qr.svg"' in page and "Zk3sQ9-abcdefgh" in page
    assert "venerdì 4 dicembre 2026, 09:30–13:00" in page
    fake_gateway.answer(
        "GET",
        f"/events/registrations/{REGISTRATION}/qr.svg",
        httpx.Response(200, content=b"<svg/>", headers={"content-type": "image/svg+xml"}),
    )
    qr = await browser.get(f"/registrations/{REGISTRATION}/qr.svg")
    assert qr.status_code == 200 and qr.content == b"<svg/>" and qr.headers["content-type"] == "image/svg+xml"
    [asked] = fake_gateway.sent("GET", f"/events/registrations/{REGISTRATION}/qr.svg")
    assert asked.headers["Authorization"] == "Bearer t", "the web client holds the token, not the browser"


async def test_cancelling_and_a_refused_cancellation(browser: httpx.AsyncClient, fake_gateway: FakeGateway) -> None:
    csrf = await sign_in(browser, fake_gateway)
    fake_gateway.answer("POST", f"/events/registrations/{REGISTRATION}/cancel", REGISTRATION_BODY)
    cancelled = await browser.post(f"/registrations/{REGISTRATION}/cancel", data={"csrf_token": csrf})
    assert cancelled.status_code == 303 and cancelled.headers["location"].endswith("?done=cancelled")
    fake_gateway.answer(
        "POST",
        f"/events/registrations/{REGISTRATION}/cancel",
        {"type": "conflict", "title": "Conflitto", "status": 409, "detail": "Il termine per disdire è passato."},
        status=409,
    )
    refused = await browser.post(f"/registrations/{REGISTRATION}/cancel", data={"csrf_token": csrf})
    assert refused.status_code == 200 and "Il termine per disdire è passato." in refused.text
    without_csrf = await browser.post(f"/registrations/{REGISTRATION}/cancel")
    assert without_csrf.status_code == 403


async def test_the_profile_form_reads_italian_amounts_and_shows_each_error_beside_its_field(
    browser: httpx.AsyncClient, fake_gateway: FakeGateway
) -> None:
    csrf = await sign_in(browser, fake_gateway)
    page = (await browser.get("/company?lang=it")).text
    assert 'value="3.400.000"' in page and "Germania, Giappone" in page and "01234567897" in page
    assert 'name="partita_iva"' not in page, "what identifies the company is not a field of the form"
    form = {
        "csrf_token": csrf,
        "legal_name": "Calzaturificio Pianacce S.r.l.",
        "ateco_primary": "15.20.10",
        "employees": "24",
        "turnover_eur": "3.500.000",
        "export_markets": "Germania, Francia",
        "capabilities": ["soles", "uppers"],
        "public_listing": "on",
    }
    fake_gateway.answer("PATCH", f"/members/companies/{COMPANY}", COMPANY_BODY)
    saved = await browser.post("/company", data=form)
    assert saved.status_code == 303 and saved.headers["location"] == "/company?done=profile_saved"
    [sent] = fake_gateway.sent("PATCH", f"/members/companies/{COMPANY}")
    body = fake_gateway.json_of(sent)
    assert body["turnover_eur"] == 3_500_000 and body["export_markets"] == ["DE", "FR"]
    assert body["capabilities"] == ["soles", "uppers"] and body["public_listing"] is True
    assert body["website"] is None and body["balance_sheet_eur"] is None

    unread = await browser.post("/company", data=form | {"turnover_eur": "tre milioni", "export_markets": "Atlantide"})
    assert unread.status_code == 200
    assert 'id="turnover_eur-error">Scrivi un numero' in unread.text
    assert 'id="export_markets-error">Alcuni di questi non sono Paesi' in unread.text
    assert 'value="tre milioni"' in unread.text, "what was typed stays in the form"

    fake_gateway.answer(
        "PATCH",
        f"/members/companies/{COMPANY}",
        {
            "type": "validation",
            "title": "Dati non validi",
            "status": 422,
            "errors": [{"pointer": "/ateco_primary", "detail": "Non è un codice ATECO."}],
        },
        status=422,
    )
    refused = await browser.post("/company", data=form)
    assert refused.status_code == 200 and 'id="ateco_primary-error">Non è un codice ATECO.' in refused.text


async def test_a_colleague_sees_the_profile_read_only_and_cannot_invite(
    browser: httpx.AsyncClient, fake_gateway: FakeGateway
) -> None:
    csrf = await sign_in(browser, fake_gateway, role="company_member")
    page = (await browser.get("/company?lang=en")).text
    assert '<form method="post" action="/company"' not in page and "Germany, Japan" in page
    colleagues = (await browser.get("/company/colleagues?lang=en")).text
    assert "Invite a colleague" not in colleagues and "Remove" not in colleagues
    refused = await browser.post("/company/colleagues/invitations", data={"csrf_token": csrf, "email": "x@y.example"})
    assert refused.status_code == 403 and not fake_gateway.sent("POST", f"/members/companies/{COMPANY}/invitations")


async def test_an_admin_invites_a_colleague_by_email(browser: httpx.AsyncClient, fake_gateway: FakeGateway) -> None:
    csrf = await sign_in(browser, fake_gateway)
    fake_gateway.answer(
        "POST",
        f"/members/companies/{COMPANY}/invitations",
        {"id": "i1", "email": "nuovo@pianacce.example", "expires_at": "2026-12-11T10:00:00Z"},
        status=201,
    )
    invited = await browser.post(
        "/company/colleagues/invitations",
        data={"csrf_token": csrf, "email": "nuovo@pianacce.example", "role": "company_member", "language": "en"},
    )
    assert invited.status_code == 303 and invited.headers["location"] == "/company/colleagues?done=invited"
    [sent] = fake_gateway.sent("POST", f"/members/companies/{COMPANY}/invitations")
    assert fake_gateway.json_of(sent) == {"email": "nuovo@pianacce.example", "role": "company_member", "language": "en"}
    empty = await browser.post("/company/colleagues/invitations?lang=en", data={"csrf_token": csrf, "email": " "})
    assert empty.status_code == 200 and 'id="email-error">This field is needed.' in empty.text


async def test_removing_a_colleague_asks_first_then_erases_them(
    browser: httpx.AsyncClient, fake_gateway: FakeGateway
) -> None:
    csrf = await sign_in(browser, fake_gateway)
    fake_gateway.answer(
        "GET",
        f"/members/people/{COLLEAGUE}",
        {"id": COLLEAGUE, "given_name": "Chiara", "family_name": "Lencioni", "company_id": COMPANY, "erased_at": None},
    )
    question = await browser.get(f"/company/colleagues/{COLLEAGUE}/remove?lang=it")
    assert "Rimuovere Chiara Lencioni?" in question.text
    fake_gateway.answer("POST", f"/members/people/{COLLEAGUE}/erasure", httpx.Response(204))
    removed = await browser.post(f"/company/colleagues/{COLLEAGUE}/remove", data={"csrf_token": csrf})
    assert removed.status_code == 303 and removed.headers["location"] == "/company/colleagues?done=removed"
    myself = await browser.get(f"/company/colleagues/{PERSON}/remove")
    assert myself.status_code == 404


async def test_saving_a_search_sends_the_filters_as_criteria(
    browser: httpx.AsyncClient, fake_gateway: FakeGateway
) -> None:
    csrf = await sign_in(browser, fake_gateway)
    page = await browser.get("/funding?q=digitale&status=open&lang=it")
    assert "1 bando trovato" in page.text
    [search] = fake_gateway.sent("GET", "/funding/calls")
    assert search.url.params["q"] == "digitale" and search.url.params["status"] == "open"
    fake_gateway.answer("POST", "/funding/searches", {"id": SEARCH}, status=201)
    saved = await browser.post(
        "/funding/searches", data={"csrf_token": csrf, "name": "Digitale", "q": "digitale", "status": "open"}
    )
    assert saved.status_code == 303 and "done=search_saved" in saved.headers["location"]
    [sent] = fake_gateway.sent("POST", "/funding/searches")
    assert fake_gateway.json_of(sent)["status"] == ["open"] and fake_gateway.json_of(sent)["text"] == "digitale"
    unnamed = await browser.post("/funding/searches", data={"csrf_token": csrf, "name": ""})
    assert unnamed.status_code == 200 and 'id="name-error"' in unnamed.text


async def test_an_unreadable_deadline_is_said_beside_its_field(
    browser: httpx.AsyncClient, fake_gateway: FakeGateway
) -> None:
    await sign_in(browser, fake_gateway)
    page = (await browser.get("/funding?deadline_before=domani&lang=en")).text
    assert 'id="deadline_before-error">Write the date as 31/12/2026.' in page
    assert not fake_gateway.sent("GET", "/funding/calls")


async def test_marking_read_with_htmx_answers_the_message_alone(
    browser: httpx.AsyncClient, fake_gateway: FakeGateway
) -> None:
    csrf = await sign_in(browser, fake_gateway)
    fake_gateway.answer(
        "POST", f"/notifications/inbox/{MESSAGE}/read", INBOX_MESSAGE | {"read_at": "2026-12-01T09:00:00Z"}
    )
    piece = await browser.post(f"/inbox/{MESSAGE}/read", headers={"HX-Request": "true", "X-CSRF-Token": csrf})
    assert piece.status_code == 200 and piece.text.startswith(f'<li id="message-{MESSAGE}" class="message read"')
    assert piece.headers["HX-Trigger"] == "unread-changed"
    badge = await browser.get("/inbox/unread-badge")
    assert '<span class="badge"' in badge.text and ">1</span>" in badge.text


async def test_preferences_send_only_what_changed(browser: httpx.AsyncClient, fake_gateway: FakeGateway) -> None:
    csrf = await sign_in(browser, fake_gateway)
    page = (await browser.get("/preferences?lang=it")).text
    assert "Riepilogo settimanale" in page and "Sempre, subito" in page
    fake_gateway.answer("PUT", "/notifications/preferences/me/network_news/email", PREFERENCES)
    saved = await browser.post(
        "/preferences", data={"csrf_token": csrf, "network_news.email": "weekly", "events.email": "instant"}
    )
    assert saved.status_code == 303
    [sent] = [r for r in fake_gateway.requests if r.method == "PUT"]
    assert sent.url.path.endswith("/network_news/email")
    assert fake_gateway.json_of(sent) == {"enabled": True, "frequency": "weekly"}


async def test_erasure_is_confirmed_twice_and_then_the_session_ends(
    browser: httpx.AsyncClient, fake_gateway: FakeGateway
) -> None:
    csrf = await sign_in(browser, fake_gateway)
    unticked = await browser.post("/my-data/erasure", data={"csrf_token": csrf})
    assert unticked.status_code == 200 and 'id="confirm-error"' in unticked.text
    first = await browser.post("/my-data/erasure", data={"csrf_token": csrf, "confirm": "understood"})
    assert first.status_code == 200 and "/my-data/erasure/confirm" in first.text
    wrong = await browser.post("/my-data/erasure/confirm", data={"csrf_token": csrf, "email": "other@x.example"})
    assert (
        wrong.status_code == 200
        and 'id="email-error"' in wrong.text
        and not fake_gateway.sent("POST", f"/members/people/{PERSON}/erasure")
    )
    fake_gateway.answer("POST", f"/members/people/{PERSON}/erasure", httpx.Response(204))
    fake_gateway.answer("POST", "/members/auth/revoke", httpx.Response(200))
    erased = await browser.post("/my-data/erasure/confirm", data={"csrf_token": csrf, "email": "Anna@Pianacce.example"})
    assert erased.status_code == 200 and fake_gateway.sent("POST", f"/members/people/{PERSON}/erasure")
    assert (await browser.get("/dashboard")).status_code == 303, "logged out"


async def test_a_token_the_apis_no_longer_accept_ends_the_session(
    browser: httpx.AsyncClient, fake_gateway: FakeGateway
) -> None:
    await sign_in(browser, fake_gateway)
    fake_gateway.answer("GET", "/notifications/preferences/me", {"detail": "invalid token"}, status=401)
    answer = await browser.get("/preferences")
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=/preferences"
    assert (await browser.get("/dashboard")).status_code == 303


async def test_the_gdpr_export_is_a_file(browser: httpx.AsyncClient, fake_gateway: FakeGateway) -> None:
    await sign_in(browser, fake_gateway)
    fake_gateway.answer("GET", f"/members/people/{PERSON}/export", {"person": {"id": PERSON, "given_name": "Anna"}})
    export = await browser.get("/my-data/export")
    assert export.status_code == 200 and "attachment" in export.headers["content-disposition"]
    assert export.json()["person"]["given_name"] == "Anna"
