"""The ground every page stands on, in process: languages switched and remembered, the session cookie's flags,
CSRF on every form, the security headers, the static files served by the web client itself."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from web.app import create_app
from web.settings import WebSettings
from web.tests.conftest import FakeGateway, csrf_of


async def test_the_home_page_speaks_italian_by_default_and_english_when_asked(browser: httpx.AsyncClient) -> None:
    italian = await browser.get("/")
    assert italian.status_code == 200 and '<html lang="it">' in italian.text
    assert "La rete calzaturiera di Capannori" in italian.text
    english = await browser.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in english.text and "The footwear network of Capannori" in english.text


async def test_a_language_switch_is_remembered(browser: httpx.AsyncClient) -> None:
    switched = await browser.get("/?lang=en", headers={"Accept-Language": "it"})
    assert "filiera-lang=en" in switched.headers["set-cookie"]
    later = await browser.get("/", headers={"Accept-Language": "it"})
    assert '<html lang="en">' in later.text
    assert 'href="/?lang=it"' in later.text, "the switch back is on the page"


async def test_the_session_cookie_is_host_only_secure_httponly_and_samesite(browser: httpx.AsyncClient) -> None:
    cookie = (await browser.get("/")).headers["set-cookie"]
    assert cookie.startswith("__Host-filiera-session=")
    for flag in ("HttpOnly", "Path=/", "SameSite=lax", "Secure"):
        assert flag.lower() in cookie.lower()
    assert "domain=" not in cookie.lower()


async def test_the_next_events_and_the_governance_come_from_the_gateway(
    browser: httpx.AsyncClient, fake_gateway: FakeGateway
) -> None:
    fake_gateway.answer(
        "GET",
        "/events/events",
        [
            {
                "id": "e1",
                "title_it": "Corso di sostenibilità",
                "title_en": "Sustainability course",
                "starts_at": "2026-12-04T09:30:00+01:00",
                "event_type": "training",
            }
        ],
    )
    fake_gateway.answer(
        "GET", "/members/governance", [{"office": "president", "person_name": "Anna Rossi", "company_name": None}]
    )
    page = (await browser.get("/", headers={"X-Real-IP": "203.0.113.9"})).text
    assert "Corso di sostenibilità" in page and "4 dicembre 2026, 09:30" in page and "Presidente" in page
    [call] = fake_gateway.sent("GET", "/events/events")
    assert call.headers["X-Forwarded-For"] == "203.0.113.9", "the gateway counts the person, not the web client"
    assert call.headers["Accept-Language"] == "it"


async def test_a_page_whose_api_is_down_still_shows_the_rest(
    browser: httpx.AsyncClient, fake_gateway: FakeGateway
) -> None:
    fake_gateway.answer("GET", "/events/events", {"detail": "down"}, status=502)
    page = await browser.get("/")
    assert page.status_code == 200 and "Gli eventi non possono essere mostrati" in page.text


async def test_pages_load_nothing_from_elsewhere_and_no_inline_script(browser: httpx.AsyncClient) -> None:
    page = await browser.get("/")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "unsafe-inline" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "http://" not in page.text.replace('xmlns="http://www.w3.org', "") and "https://" not in page.text


async def test_the_third_party_files_are_served_from_the_pinned_packages(browser: httpx.AsyncClient) -> None:
    htmx = await browser.get("/static/vendor/htmx.min.js")
    pico = await browser.get("/static/vendor/pico.min.css")
    assert htmx.status_code == pico.status_code == 200
    assert "htmx" in htmx.text and "Pico CSS" in pico.text
    assert (await browser.get("/static/vendor/left-pad.js")).status_code == 404
    assert (await browser.get("/static/filiera.css")).status_code == 200


async def test_an_unknown_page_is_a_page_in_the_persons_language(browser: httpx.AsyncClient) -> None:
    missing = await browser.get("/nowhere?lang=en")
    assert missing.status_code == 404 and "Page not found" in missing.text


async def test_every_unsafe_route_of_every_area_refuses_a_request_without_the_csrf_token(
    browser: httpx.AsyncClient,
) -> None:
    """app.py puts the check on every router it finds, so an area cannot forget it (the routes are read from the
    app's OpenAPI description, which lists every route; path parameters filled with ids that fit)."""
    await browser.get("/")
    paths = create_app(WebSettings()).openapi()["paths"]
    unsafe = [(method.upper(), path) for path, methods in paths.items() for method in methods if method != "get"]
    assert len(unsafe) >= 5, "there are forms"
    for method, path in unsafe:
        concrete = re.sub(r"\{(\w*?)(id)?\}", lambda found: str(uuid.uuid4()) if found.group(2) else "x", path)
        refused = await browser.request(method, concrete, data={"anything": "x"})
        assert refused.status_code == 403, f"{method} {path} without a CSRF token"


@pytest.mark.parametrize("path", ["/logout", "/login", "/apply"])
async def test_a_form_without_the_sessions_csrf_token_is_refused(browser: httpx.AsyncClient, path: str) -> None:
    await browser.get("/")
    assert (await browser.post(path, data={"email": "a@b.example"})).status_code == 403
    assert (await browser.post(path, data={"csrf_token": "forged"})).status_code == 403
    refused = await browser.post(path, headers={"X-CSRF-Token": "forged"})
    assert refused.status_code == 403 and "Il modulo era scaduto" in refused.text


def token_answer(status: int, body: dict[str, object]) -> httpx.Response:
    return httpx.Response(status, json=body, headers={"Cache-Control": "no-store"})


ME = {
    "id": "p1",
    "email": "anna@suolificio.example",
    "role": "company_admin",
    "company_id": "c1",
    "given_name": "Anna",
    "family_name": "Rossi",
}


async def test_a_login_keeps_the_tokens_in_the_cookie_and_a_logout_revokes_the_refresh_token(
    browser: httpx.AsyncClient, fake_gateway: FakeGateway
) -> None:
    fake_gateway.answer(
        "POST",
        "/members/auth/token",
        token_answer(200, {"access_token": "a.b.c", "token_type": "Bearer", "expires_in": 900, "refresh_token": "r1"}),
    )
    fake_gateway.answer("GET", "/members/people/me", ME)
    fake_gateway.answer("POST", "/members/auth/revoke", httpx.Response(200))
    form = (await browser.get("/login?next=/company")).text
    signed_in = await browser.post(
        "/login", data={"csrf_token": csrf_of(form), "email": ME["email"], "password": "pw", "next": "/company"}
    )
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/company"
    assert "a.b.c" not in signed_in.headers["set-cookie"], "the tokens are encrypted in the cookie"
    [me] = fake_gateway.sent("GET", "/members/people/me")
    assert me.headers["Authorization"] == "Bearer a.b.c"
    home = (await browser.get("/")).text
    assert "Esci" in home
    logged_out = await browser.post("/logout", data={"csrf_token": csrf_of(home)})
    assert logged_out.status_code == 303
    [revoke] = fake_gateway.sent("POST", "/members/auth/revoke")
    assert fake_gateway.form_of(revoke)["token"] == "r1"
    after = (await browser.get("/")).text
    assert "Sei uscito" in after and "Accedi" in after


@pytest.mark.parametrize(
    ("status", "body"),
    [(400, {"error": "invalid_grant", "error_description": "wrong"}), (403, {"detail": "invalid credentials"})],
    ids=["rfc6749", "before-rfc6749"],
)
async def test_a_wrong_password_is_said_beside_the_form_in_either_api_shape(
    browser: httpx.AsyncClient, fake_gateway: FakeGateway, status: int, body: dict[str, object]
) -> None:
    fake_gateway.answer("POST", "/members/auth/token", token_answer(status, body))
    form = (await browser.get("/login?lang=en")).text
    answer = await browser.post("/login", data={"csrf_token": csrf_of(form), "email": "a@b.example", "password": "x"})
    assert "The email or the password is not right." in answer.text
    assert 'value="a@b.example"' in answer.text and 'value="x"' not in answer.text, "the password is not echoed"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example"])
async def test_a_login_never_sends_people_to_another_site(
    browser: httpx.AsyncClient, fake_gateway: FakeGateway, target: str
) -> None:
    fake_gateway.answer("POST", "/members/auth/token", token_answer(200, {"access_token": "t", "expires_in": 900}))
    fake_gateway.answer("GET", "/members/people/me", ME)
    form = (await browser.get("/login")).text
    answer = await browser.post(
        "/login", data={"csrf_token": csrf_of(form), "email": "a@b.example", "password": "x", "next": target}
    )
    assert answer.headers["location"] == "/dashboard"


async def test_an_invitation_sets_ones_own_password_and_signs_in(
    browser: httpx.AsyncClient, fake_gateway: FakeGateway
) -> None:
    token = "i" * 40
    invitation = {"email": ME["email"], "company_name": "Suolificio Lammari", "expires_at": "2026-12-11T08:30:00Z"}
    fake_gateway.answer("GET", f"/members/invitations/{token}", invitation)
    fake_gateway.answer("POST", f"/members/invitations/{token}/accept", ME, status=201)
    fake_gateway.answer("POST", "/members/auth/token", token_answer(200, {"access_token": "t", "expires_in": 900}))
    fake_gateway.answer("GET", "/members/people/me", ME)
    page = await browser.get(f"/invitations/{token}")
    assert "Suolificio Lammari" in page.text and "11 dicembre 2026, ore 09:30" in page.text
    short = await browser.post(
        f"/invitations/{token}", data={"csrf_token": csrf_of(page.text), "given_name": "Anna", "password": "corta"}
    )
    assert short.status_code == 200 and 'id="password-error">Almeno 12 caratteri.' in short.text
    assert 'id="family_name-error"' in short.text
    joined = await browser.post(
        f"/invitations/{token}",
        data={"csrf_token": csrf_of(page.text), "given_name": "Anna", "family_name": "Rossi",
              "password": "una-password-lunga", "language": "en"},
    )  # fmt: skip
    assert joined.status_code == 303 and joined.headers["location"] == "/dashboard"
    [accepted] = fake_gateway.sent("POST", f"/members/invitations/{token}/accept")
    assert FakeGateway.json_of(accepted) == {
        "given_name": "Anna",
        "family_name": "Rossi",
        "password": "una-password-lunga",
        "language": "en",
    }


async def test_a_used_or_expired_link_says_so_without_saying_which(
    browser: httpx.AsyncClient, fake_gateway: FakeGateway
) -> None:
    fake_gateway.answer("GET", f"/members/invitations/{'u' * 40}", {"detail": "gone"}, status=410)
    page = await browser.get(f"/invitations/{'u' * 40}")
    assert page.status_code == 410 and "Questo link non si può usare" in page.text


async def test_a_password_reset_never_tells_whether_the_address_has_an_account(
    browser: httpx.AsyncClient, fake_gateway: FakeGateway
) -> None:
    fake_gateway.answer("POST", "/members/password-resets", httpx.Response(202))
    fake_gateway.answer("POST", f"/members/password-resets/{'r' * 40}", httpx.Response(204))
    page = await browser.get("/password-reset")
    asked = await browser.post("/password-reset", data={"csrf_token": csrf_of(page.text), "email": "x@y.example"})
    assert "Se x@y.example corrisponde a un account" in asked.text
    form = await browser.get(f"/password-reset/{'r' * 40}")
    done = await browser.post(
        f"/password-reset/{'r' * 40}", data={"csrf_token": csrf_of(form.text), "password": "nuova-password-lunga"}
    )
    assert done.status_code == 303 and done.headers["location"] == "/login"
    assert "La nuova password è impostata" in (await browser.get("/login")).text
