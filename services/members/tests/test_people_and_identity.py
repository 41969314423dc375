"""People, roles, tokens, partner clients and GDPR rights."""

from __future__ import annotations

import time

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from services.members.tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, MembersApi
from tests.support.infrastructure import KafkaReader

COLLEAGUE = {
    "given_name": "Marco",
    "family_name": "Pieroni",
    "email": "marco@example.com",
    "password": "orlatura-2026-ok",
    "job_title": "Modellista",
    "language": "en",
}


async def test_a_company_admin_adds_a_colleague_who_can_log_in(members: MembersApi, kafka_reader: KafkaReader) -> None:
    company, admin = await members.active_company("owner@example.com")
    response = await members.client.post(f"/companies/{company['id']}/people", headers=admin, json=COLLEAGUE)
    assert response.status_code == 201, response.text
    colleague = response.json()
    assert colleague["role"] == "company_member"
    assert "password" not in response.text and "password_hash" not in response.text

    headers = await members.token("marco@example.com", "orlatura-2026-ok")
    me = await members.client.get("/people/me", headers=headers)
    assert me.json()["id"] == colleague["id"]

    events = await kafka_reader.read(
        "members.people.v1", lambda evs: any(e.get("subject") == colleague["id"] for e in evs)
    )
    joined = next(e for e in events if e.get("subject") == colleague["id"])
    assert joined["type"] == "members.person.joined"
    assert joined["data"]["person"]["email"] == "marco@example.com"
    assert joined["data"]["person"]["company_id"] == company["id"]


async def test_a_member_cannot_add_people_and_an_admin_cannot_create_staff(members: MembersApi) -> None:
    company, admin = await members.active_company("owner@example.com")
    await members.client.post(f"/companies/{company['id']}/people", headers=admin, json=COLLEAGUE)
    member = await members.token("marco@example.com", "orlatura-2026-ok")
    by_member = await members.client.post(
        f"/companies/{company['id']}/people", headers=member, json={**COLLEAGUE, "email": "third@example.com"}
    )
    assert by_member.status_code == 403
    staff_by_admin = await members.client.post(
        f"/companies/{company['id']}/people",
        headers=admin,
        json={**COLLEAGUE, "email": "boss@example.com", "role": "network_admin"},
    )
    assert staff_by_admin.status_code == 403
    assert "only network staff" in staff_by_admin.json()["detail"]


async def test_a_second_registration_of_the_same_email_is_a_conflict(members: MembersApi) -> None:
    company, admin = await members.active_company("owner@example.com")
    first = await members.client.post(f"/companies/{company['id']}/people", headers=admin, json=COLLEAGUE)
    assert first.status_code == 201
    again = await members.client.post(
        f"/companies/{company['id']}/people", headers=admin, json={**COLLEAGUE, "email": "MARCO@example.com"}
    )
    assert again.status_code == 409


async def test_a_short_password_is_refused(members: MembersApi) -> None:
    company, admin = await members.active_company("owner@example.com")
    response = await members.client.post(
        f"/companies/{company['id']}/people", headers=admin, json={**COLLEAGUE, "password": "short"}
    )
    assert response.status_code == 422
    assert "at least 12 characters" in response.text


async def test_a_forged_token_is_refused(members: MembersApi) -> None:
    stranger_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    keys = (await members.client.get("/.well-known/jwks.json")).json()["keys"]
    now = int(time.time())
    forged = jwt.encode(
        {
            "sub": "x",
            "role": "network_admin",
            "iss": members.settings.jwt_issuer,
            "aud": members.settings.jwt_audience,
            "iat": now,
            "exp": now + 600,
        },
        stranger_key,
        algorithm="RS256",
        headers={"kid": keys[0]["kid"]},
    )
    response = await members.client.get("/companies", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
    assert "invalid token" in response.json()["detail"]


async def test_an_unsigned_token_is_refused(members: MembersApi) -> None:
    unsigned = jwt.encode({"sub": "x", "role": "network_admin"}, key="", algorithm="none")  # "none" takes no key
    response = await members.client.get("/companies", headers={"Authorization": f"Bearer {unsigned}"})
    assert response.status_code == 401


async def test_an_expired_token_is_refused(members: MembersApi) -> None:
    members.settings.access_token_minutes = -1
    expired = await members.staff()
    response = await members.client.get("/companies", headers=expired)
    assert response.status_code == 401
    assert response.json()["detail"] == "token expired"


async def test_no_token_is_a_401_and_the_wrong_role_a_403(members: MembersApi) -> None:
    assert (await members.client.get("/companies")).status_code == 401
    _, admin = await members.active_company("owner@example.com")
    response = await members.client.get("/companies", headers=admin)
    assert response.status_code == 403
    assert response.json()["detail"] == "requires role network_admin"


async def test_tokens_verify_against_the_published_jwks(members: MembersApi) -> None:
    headers = await members.staff()
    token = headers["Authorization"].removeprefix("Bearer ")
    jwks = (await members.client.get("/.well-known/jwks.json")).json()
    key = jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(token)["kid"]]
    claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=members.settings.jwt_audience)
    assert claims["role"] == "network_admin"
    assert claims["exp"] - claims["iat"] == members.settings.access_token_minutes * 60


async def test_repeated_wrong_passwords_lock_the_account(members: MembersApi) -> None:
    form = {"grant_type": "password", "username": ADMIN_EMAIL, "password": "wrong-password-123"}
    answers = [await members.client.post("/auth/token", data=form) for _ in range(5)]
    assert [(a.status_code, a.json()["error"]) for a in answers] == [(400, "invalid_grant")] * 5
    locked = await members.client.post("/auth/token", data={**form, "password": ADMIN_PASSWORD})
    assert locked.status_code == 429
    assert "too many failed logins" in locked.json()["error_description"]


async def test_a_partner_system_gets_a_scoped_client_credentials_token(members: MembersApi) -> None:
    created = await members.client.post(
        "/partner-clients",
        headers=await members.staff(),
        json={"name": "Camera di Commercio", "scopes": ["directory:read"]},
    )
    assert created.status_code == 201
    client = created.json()
    token = await members.client.post(
        "/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
        },
    )
    assert token.status_code == 200
    claims = jwt.decode(token.json()["access_token"], options={"verify_signature": False})
    assert (claims["kind"], claims["role"], claims["scope"]) == ("partner", "partner", "directory:read")
    too_much = await members.client.post(
        "/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
            "scope": "webhooks:manage",
        },
    )
    assert (too_much.status_code, too_much.json()["error"]) == (400, "invalid_scope")
    wrong = await members.client.post(
        "/auth/token",
        data={"grant_type": "client_credentials", "client_id": client["client_id"], "client_secret": "guess"},
    )
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")


async def test_a_person_exports_their_data_and_erasure_reaches_kafka(
    members: MembersApi, kafka_reader: KafkaReader
) -> None:
    company, admin = await members.active_company("owner@example.com")
    person = (await members.client.post(f"/companies/{company['id']}/people", headers=admin, json=COLLEAGUE)).json()
    own = await members.token("marco@example.com", "orlatura-2026-ok")

    export = await members.client.get(f"/people/{person['id']}/export", headers=own)
    assert export.status_code == 200
    assert export.json()["person"]["email"] == "marco@example.com"
    assert export.json()["company"]["legal_name"] == company["legal_name"]
    assert "password_hash" not in export.text

    erased = await members.client.post(f"/people/{person['id']}/erasure", headers=own)
    assert erased.status_code == 204
    assert (await members.client.get(f"/people/{person['id']}", headers=admin)).status_code == 404
    login = await members.client.post(
        "/auth/token", data={"grant_type": "password", "username": "marco@example.com", "password": "orlatura-2026-ok"}
    )
    assert (login.status_code, login.json()["error"]) == (400, "invalid_grant")
    people = await members.client.get(f"/companies/{company['id']}/people", headers=admin)
    assert "marco@example.com" not in people.text

    events = await kafka_reader.read(
        "members.people.v1",
        lambda evs: any(e["type"] == "members.person.erased" and e["subject"] == person["id"] for e in evs),
    )
    erasure = next(e for e in events if e["type"] == "members.person.erased" and e["subject"] == person["id"])
    assert erasure["data"] == {"person_id": person["id"], "company_id": company["id"]}


async def test_a_person_cannot_read_someone_of_another_company(members: MembersApi) -> None:
    _, admin = await members.active_company("owner@example.com")
    other_company, _ = await members.active_company("other@example.com")
    other_people = await members.client.get(f"/companies/{other_company['id']}/people", headers=await members.staff())
    other_id = other_people.json()[0]["id"]
    assert (await members.client.get(f"/people/{other_id}", headers=admin)).status_code == 403
    assert (await members.client.get(f"/people/{other_id}/export", headers=admin)).status_code == 403
