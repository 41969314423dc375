"""Getting in without anyone typing another's password: a company admin invites a colleague, who sets their own;
a person who forgot theirs resets it by email. The links travel only on members.correspondence.v1 (notifications
writes the emails): each test takes the token from the fact there, as notifications would, and follows the link
through HTTP. Also there: the applicant is told of staff's decision."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jsonschema

from services.members.tests.conftest import APPLICANT_PASSWORD, MembersApi, application
from tests.support.infrastructure import KafkaReader

CORRESPONDENCE = "members.correspondence.v1"
NEW_PASSWORD = "una-password-nuova-2026"


def fact(event_type: str, **data: Any) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda events: find(events, event_type, **data) is not None


def find(events: list[dict[str, Any]], event_type: str, **data: Any) -> dict[str, Any] | None:
    return next(
        (e for e in events if e["type"] == event_type and all(e["data"].get(k) == v for k, v in data.items())), None
    )


async def read_fact(members: MembersApi, kafka_reader: KafkaReader, event_type: str, **data: Any) -> dict[str, Any]:
    """The fact, checked against the schema members serves for it."""
    found = find(await kafka_reader.read(CORRESPONDENCE, fact(event_type, **data)), event_type, **data)
    assert found is not None
    jsonschema.validate(found["data"], (await members.client.get(found["dataschema"])).json())
    return found


async def test_an_admin_invites_a_colleague_who_sets_their_own_password_and_joins(
    members: MembersApi, kafka_reader: KafkaReader
) -> None:
    company, admin = await members.active_company("owner@example.com")
    invited = await members.client.post(
        f"/companies/{company['id']}/invitations",
        headers=admin,
        json={"email": "Marco@Example.com", "role": "company_admin", "language": "en"},
    )
    assert invited.status_code == 201, invited.text
    assert set(invited.json()) == {"id", "email", "expires_at"}
    assert invited.json()["email"] == "marco@example.com"

    sent = await read_fact(members, kafka_reader, "members.invitation.sent", invitation_id=invited.json()["id"])
    assert sent["_key"] == invited.json()["id"]
    token = sent["data"]["token"]
    assert {k: v for k, v in sent["data"].items() if k != "token"} == {
        "invitation_id": invited.json()["id"],
        "email": "marco@example.com",
        "language": "en",
        "company_id": company["id"],
        "company_name": company["legal_name"],
        "invited_by": "Giulia Bertolucci",
        "expires_at": sent["data"]["expires_at"],
    }

    opened = await members.client.get(f"/invitations/{token}")
    assert opened.json() == {
        "email": "marco@example.com",
        "company_name": company["legal_name"],
        "expires_at": invited.json()["expires_at"],
    }
    accepted = await members.client.post(
        f"/invitations/{token}/accept",
        json={"given_name": "Marco", "family_name": "Pieroni", "password": NEW_PASSWORD, "language": "en"},
    )
    assert accepted.status_code == 201, accepted.text
    assert (accepted.json()["role"], accepted.json()["company_id"]) == ("company_admin", company["id"])
    colleague = await members.token("marco@example.com", NEW_PASSWORD)
    assert (await members.client.get("/people/me", headers=colleague)).json()["given_name"] == "Marco"

    again = await members.client.post(
        f"/invitations/{token}/accept",
        json={"given_name": "Someone", "family_name": "Else", "password": "another-password-2026"},
    )
    assert again.status_code == 410 and again.json()["detail"] == "this invitation has already been used"
    assert (await members.client.get(f"/invitations/{token}")).status_code == 410
    joined = await kafka_reader.read(
        "members.people.v1", lambda evs: any(e["subject"] == accepted.json()["id"] for e in evs)
    )
    assert next(e for e in joined if e["subject"] == accepted.json()["id"])["type"] == "members.person.joined"


async def test_an_invitation_expires_and_an_unknown_one_is_not_found(
    members: MembersApi, kafka_reader: KafkaReader
) -> None:
    company, admin = await members.active_company("owner@example.com")
    invited = await members.client.post(
        f"/companies/{company['id']}/invitations", headers=admin, json={"email": "late@example.com"}
    )
    sent = await read_fact(members, kafka_reader, "members.invitation.sent", invitation_id=invited.json()["id"])
    assert sent["data"]["language"] == "it"
    members.clock.advance(timedelta(days=members.settings.invitation_days))
    expired = await members.client.post(
        f"/invitations/{sent['data']['token']}/accept",
        json={"given_name": "Late", "family_name": "Comer", "password": NEW_PASSWORD},
    )
    assert expired.status_code == 410 and "expired" in expired.json()["detail"]
    assert (await members.client.get(f"/invitations/{'x' * 43}")).status_code == 404


async def test_only_a_companys_admins_or_staff_invite_and_never_as_staff(members: MembersApi) -> None:
    company, admin = await members.active_company("owner@example.com")
    _, outsider = await members.active_company("other@example.com")
    path = f"/companies/{company['id']}/invitations"
    assert (await members.client.post(path, headers=outsider, json={"email": "x@example.com"})).status_code == 403
    as_staff = await members.client.post(path, headers=admin, json={"email": "x@example.com", "role": "network_admin"})
    assert as_staff.status_code == 403
    registered = await members.client.post(path, headers=admin, json={"email": "other@example.com"})
    assert registered.status_code == 409
    by_staff = await members.client.post(path, headers=await members.staff(), json={"email": "x@example.com"})
    assert by_staff.status_code == 201


async def test_a_password_reset_by_email_sets_a_new_password_once_and_ends_every_session(
    members: MembersApi, kafka_reader: KafkaReader
) -> None:
    _, owner = await members.active_company("owner@example.com")
    owner_id = (await members.client.get("/people/me", headers=owner)).json()["id"]
    session = await members.client.post(
        "/auth/token", data={"grant_type": "password", "username": "owner@example.com", "password": APPLICANT_PASSWORD}
    )
    asked = await members.client.post("/password-resets", json={"email": "OWNER@example.com"})
    nobody = await members.client.post("/password-resets", json={"email": "nobody@example.com"})
    assert (asked.status_code, asked.text) == (nobody.status_code, nobody.text) == (202, "")

    requested = await read_fact(members, kafka_reader, "members.password_reset.requested", person_id=owner_id)
    assert requested["_key"] == requested["data"]["request_id"]
    assert requested["data"]["email"] == "owner@example.com"
    assert requested["data"]["language"] == "it"
    token = requested["data"]["token"]
    weak = await members.client.post(f"/password-resets/{token}", json={"password": "short"})
    assert weak.status_code == 422
    reset = await members.client.post(f"/password-resets/{token}", json={"password": NEW_PASSWORD})
    assert reset.status_code == 204, reset.text

    assert await members.token("owner@example.com", NEW_PASSWORD)
    old = await members.client.post(
        "/auth/token", data={"grant_type": "password", "username": "owner@example.com", "password": APPLICANT_PASSWORD}
    )
    assert (old.status_code, old.json()["error"]) == (400, "invalid_grant")
    refreshed = await members.client.post(
        "/auth/token", data={"grant_type": "refresh_token", "refresh_token": session.json()["refresh_token"]}
    )
    assert (refreshed.status_code, refreshed.json()["error"]) == (400, "invalid_grant"), "sessions before it ended"
    reused = await members.client.post(f"/password-resets/{token}", json={"password": "yet-another-one-2026"})
    assert reused.status_code == 410


async def test_a_reset_link_expires_and_none_is_sent_for_an_address_without_an_account(
    members: MembersApi, kafka_reader: KafkaReader
) -> None:
    staff_id = (await members.client.get("/people/me", headers=await members.staff())).json()["id"]
    await members.client.post("/password-resets", json={"email": "nobody@example.com"})
    await members.client.post("/password-resets", json={"email": "staff@example.com"})  # the marker
    events = await kafka_reader.read(CORRESPONDENCE, fact("members.password_reset.requested", person_id=staff_id))
    assert find(events, "members.password_reset.requested", email="nobody@example.com") is None
    requested = find(events, "members.password_reset.requested", person_id=staff_id)
    assert requested is not None
    members.clock.advance(timedelta(minutes=members.settings.password_reset_minutes))
    late = await members.client.post(f"/password-resets/{requested['data']['token']}", json={"password": NEW_PASSWORD})
    assert late.status_code == 410


async def test_the_applicant_is_told_of_staffs_decision_with_the_reason_of_a_rejection(
    members: MembersApi, kafka_reader: KafkaReader
) -> None:
    approved, _ = await members.active_company("owner@example.com")
    hopeful = await members.client.post(
        "/companies/applications", json=application("01234560462", "hopeful@example.com", legal_name="Altrove S.r.l.")
    )
    reason = "not in the footwear supply chain"
    await members.client.post(
        f"/companies/{hopeful.json()['id']}/reject", headers=await members.staff(), json={"reason": reason}
    )
    rejection = await read_fact(members, kafka_reader, "members.application.decided", company_id=hopeful.json()["id"])
    assert rejection["_key"] == hopeful.json()["id"]
    assert rejection["data"] == {
        "company_id": hopeful.json()["id"],
        "company_name": "Altrove S.r.l.",
        "decision": "rejected",
        "reason": reason,
        "applicant": {
            "email": "hopeful@example.com",
            "given_name": "Giulia",
            "family_name": "Bertolucci",
            "language": "it",
        },
    }
    approval = await read_fact(members, kafka_reader, "members.application.decided", company_id=approved["id"])
    assert (approval["data"]["decision"], approval["data"]["reason"]) == ("approved", None)
