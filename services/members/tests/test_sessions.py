"""Sessions through the token endpoint, as RFC 6749 specifies it for every client: its answers and errors, HTTP
Basic client authentication, refresh tokens rotated on each use with a reused one ending its whole family
(RFC 9700), revocation (RFC 7009), and login throttling per account and client address."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import jwt

from services.members.tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, MembersApi

LOGIN = {"grant_type": "password", "username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}


def is_token_error(answer: httpx.Response, status: int, error: str) -> bool:
    """RFC 6749 §5.2: the status, a JSON body with `error` and a description, and never cached."""
    body = answer.json()
    assert set(body) == {"error", "error_description"}, body
    assert answer.headers["Cache-Control"] == "no-store" and answer.headers["Pragma"] == "no-cache"
    return answer.status_code == status and body["error"] == error


def raised_by_authlib(answer: httpx.Response) -> bool:
    """Authlib's OAuth2Client (parse_response_token) takes any answer below 500 for a token unless its JSON body
    has an `error` member: with 403 {"detail": ...} a failed login became a "token"."""
    return answer.status_code >= 500 or "error" in answer.json()


async def partner(members: MembersApi, scopes: list[str]) -> dict[str, Any]:
    created = await members.client.post(
        "/partner-clients", headers=await members.staff(), json={"name": "Camera di Commercio", "scopes": scopes}
    )
    assert created.status_code == 201, created.text
    return dict(created.json())


async def test_a_login_answers_a_bearer_token_a_refresh_token_and_says_not_to_store_them(members: MembersApi) -> None:
    answer = await members.client.post("/auth/token", data=LOGIN)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Cache-Control"] == "no-store" and answer.headers["Pragma"] == "no-cache"
    body = answer.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 15 * 60)
    me = await members.client.get("/people/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["email"] == ADMIN_EMAIL


async def test_the_token_endpoint_errors_are_rfc_6749s(members: MembersApi) -> None:
    wrong_password = await members.client.post("/auth/token", data={**LOGIN, "password": "not-the-password"})
    assert is_token_error(wrong_password, 400, "invalid_grant")
    assert wrong_password.json()["error_description"] == "wrong email or password"
    assert raised_by_authlib(wrong_password)
    nobody = await members.client.post("/auth/token", data={**LOGIN, "username": "nobody@example.com"})
    assert nobody.json() == wrong_password.json(), "an unknown account answers as a wrong password"

    unknown_grant = await members.client.post("/auth/token", data={"grant_type": "authorization_code", "code": "x"})
    assert is_token_error(unknown_grant, 400, "unsupported_grant_type")
    no_grant = await members.client.post("/auth/token", data={"username": ADMIN_EMAIL})
    assert is_token_error(no_grant, 400, "invalid_request")
    no_password = await members.client.post("/auth/token", data={"grant_type": "password", "username": ADMIN_EMAIL})
    assert is_token_error(no_password, 400, "invalid_request")
    assert no_password.json()["error_description"] == "password is required"
    as_json = await members.client.post("/auth/token", json=LOGIN)
    assert is_token_error(as_json, 400, "invalid_request"), "the request is a form (application/x-www-form-urlencoded)"
    twice = await members.client.post(
        "/auth/token",
        content=f"grant_type=password&username=a%40example.com&username=b%40example.com&password={ADMIN_PASSWORD}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert is_token_error(twice, 400, "invalid_request")
    assert ADMIN_PASSWORD not in twice.text + wrong_password.text, "no answer echoes a password"


async def test_partners_authenticate_by_http_basic_or_in_the_form(members: MembersApi) -> None:
    client = await partner(members, ["directory:read", "events:read"])
    by_basic = await members.client.post(
        "/auth/token",
        data={"grant_type": "client_credentials", "scope": "events:read"},
        auth=(client["client_id"], client["client_secret"]),
    )
    assert by_basic.status_code == 200, by_basic.text
    assert by_basic.headers["Cache-Control"] == "no-store"
    assert by_basic.json()["scope"] == "events:read"
    assert "refresh_token" not in by_basic.json(), "a client with credentials asks again instead (§4.4.3)"
    claims = jwt.decode(by_basic.json()["access_token"], options={"verify_signature": False})
    assert (claims["sub"], claims["scope"]) == (client["client_id"], "events:read")

    in_form = await members.client.post(
        "/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
        },
    )
    assert in_form.json()["scope"] == "directory:read events:read"

    wrong = await members.client.post(
        "/auth/token", data={"grant_type": "client_credentials"}, auth=(client["client_id"], "guess")
    )
    assert is_token_error(wrong, 401, "invalid_client")
    assert wrong.headers["WWW-Authenticate"].startswith("Basic")
    anonymous = await members.client.post("/auth/token", data={"grant_type": "client_credentials"})
    assert is_token_error(anonymous, 401, "invalid_client")
    not_granted = await members.client.post(
        "/auth/token",
        data={"grant_type": "client_credentials", "scope": "webhooks:manage"},
        auth=(client["client_id"], client["client_secret"]),
    )
    assert is_token_error(not_granted, 400, "invalid_scope")


async def test_a_refresh_token_is_rotated_on_each_use_and_lasts_a_working_day(members: MembersApi) -> None:
    first = (await members.client.post("/auth/token", data=LOGIN)).json()
    members.clock.advance(timedelta(hours=9))
    second = await members.client.post(
        "/auth/token", data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert second.status_code == 200, second.text
    assert second.headers["Cache-Control"] == "no-store"
    assert second.json()["refresh_token"] != first["refresh_token"]
    claims = jwt.decode(second.json()["access_token"], options={"verify_signature": False})
    assert claims["role"] == "network_admin"

    members.clock.advance(timedelta(hours=9))  # 18 hours since the login, 9 since the last rotation
    third = await members.client.post(
        "/auth/token", data={"grant_type": "refresh_token", "refresh_token": second.json()["refresh_token"]}
    )
    assert third.status_code == 200, third.text
    members.clock.advance(timedelta(hours=10))  # a night away: the session has lapsed
    lapsed = await members.client.post(
        "/auth/token", data={"grant_type": "refresh_token", "refresh_token": third.json()["refresh_token"]}
    )
    assert is_token_error(lapsed, 400, "invalid_grant")


async def test_a_reused_refresh_token_ends_its_whole_family_and_no_other(members: MembersApi) -> None:
    stolen = (await members.client.post("/auth/token", data=LOGIN)).json()["refresh_token"]
    other_session = (await members.client.post("/auth/token", data=LOGIN)).json()["refresh_token"]
    rotated = await members.client.post("/auth/token", data={"grant_type": "refresh_token", "refresh_token": stolen})
    newest = rotated.json()["refresh_token"]

    replayed = await members.client.post("/auth/token", data={"grant_type": "refresh_token", "refresh_token": stolen})
    assert is_token_error(replayed, 400, "invalid_grant")
    assert "already used" in replayed.json()["error_description"]
    after = await members.client.post("/auth/token", data={"grant_type": "refresh_token", "refresh_token": newest})
    assert is_token_error(after, 400, "invalid_grant"), "the family's newest token ended with it"
    untouched = await members.client.post(
        "/auth/token", data={"grant_type": "refresh_token", "refresh_token": other_session}
    )
    assert untouched.status_code == 200, "another login's session goes on"


async def test_revoking_a_refresh_token_ends_the_session_and_unknown_tokens_are_fine(members: MembersApi) -> None:
    session = (await members.client.post("/auth/token", data=LOGIN)).json()
    rotated = await members.client.post(
        "/auth/token", data={"grant_type": "refresh_token", "refresh_token": session["refresh_token"]}
    )
    revoked = await members.client.post(
        "/auth/revoke", data={"token": rotated.json()["refresh_token"], "token_type_hint": "refresh_token"}
    )
    assert (revoked.status_code, revoked.text) == (200, "")
    ended = await members.client.post(
        "/auth/token", data={"grant_type": "refresh_token", "refresh_token": rotated.json()["refresh_token"]}
    )
    assert is_token_error(ended, 400, "invalid_grant")
    for token in ("never-issued-token", session["access_token"]):
        assert (await members.client.post("/auth/revoke", data={"token": token})).status_code == 200
    assert is_token_error(await members.client.post("/auth/revoke", data={}), 400, "invalid_request")


async def test_login_throttling_counts_per_account_and_per_client_address(members: MembersApi) -> None:
    typo = {**LOGIN, "password": "segromigno-in-monte-2025"}
    office = {"X-Real-IP": "192.0.2.10"}
    for _ in range(members.settings.login_max_failures):
        assert is_token_error(await members.client.post("/auth/token", data=typo, headers=office), 400, "invalid_grant")
    held_back = await members.client.post("/auth/token", data=LOGIN, headers=office)
    assert is_token_error(held_back, 429, "invalid_grant")
    assert 0 < int(held_back.headers["Retry-After"]) <= members.settings.login_lockout_minutes * 60

    elsewhere = await members.client.post("/auth/token", data=LOGIN, headers={"X-Real-IP": "198.51.100.7"})
    assert elsewhere.status_code == 200, "the same account from another client logs in"
    await members.active_company("owner@example.com")
    colleague = await members.client.post(
        "/auth/token",
        data={"grant_type": "password", "username": "owner@example.com", "password": "tomaia-e-suola-2026"},
        headers=office,
    )
    assert colleague.status_code == 200, "a colleague behind the same router logs in"

    members.clock.advance(timedelta(minutes=members.settings.login_lockout_minutes))
    assert (await members.client.post("/auth/token", data=LOGIN, headers=office)).status_code == 200
