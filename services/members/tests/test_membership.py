"""Companies apply, staff decide, and every step is announced on members.companies.v1."""

from __future__ import annotations

import uuid
from typing import Any

from services.members.tests.conftest import APPLICANT_PASSWORD, MembersApi, application
from tests.support.infrastructure import KafkaReader


def of_subject(subject: str, types: list[str]) -> Any:
    return lambda events: [e["type"] for e in events if e.get("subject") == subject] == types


async def test_a_company_applies_is_approved_and_partners_read_both_facts(
    members: MembersApi, kafka_reader: KafkaReader
) -> None:
    response = await members.client.post(
        "/companies/applications", json=application("IT01234560462", "giulia@example.com")
    )
    assert response.status_code == 201, response.text
    company = response.json()
    assert company["status"] == "applied"
    assert company["partita_iva"] == "01234560462"
    assert company["size_class"] == "small"

    approved = await members.client.post(f"/companies/{company['id']}/approve", headers=await members.staff())
    assert approved.json()["status"] == "active"

    expected = ["members.company.applied", "members.company.approved"]
    events = await kafka_reader.read("members.companies.v1", of_subject(company["id"], expected))
    mine = [e for e in events if e.get("subject") == company["id"]]
    assert [e["specversion"] for e in mine] == ["1.0", "1.0"]
    assert all(e["_key"] == company["id"] for e in mine)
    assert mine[1]["data"]["company"]["status"] == "active"
    assert mine[1]["data"]["company"]["ateco_primary"] == "15.20.10"
    assert mine[0]["_headers"]["content-type"] == "application/cloudevents+json"

    history = await members.client.get(f"/companies/{company['id']}/history", headers=await members.staff())
    assert history.status_code == 200, history.text
    assert [(s["action"], s["to_status"]) for s in history.json()] == [("applied", "applied"), ("approve", "active")]
    assert history.json()[1]["actor_id"] is not None


async def test_a_bad_partita_iva_is_refused_with_the_reason(members: MembersApi) -> None:
    response = await members.client.post("/companies/applications", json=application("01234560463", "x@example.com"))
    assert response.status_code == 422
    assert "check digit" in response.text


async def test_a_bad_ateco_code_is_refused(members: MembersApi) -> None:
    response = await members.client.post(
        "/companies/applications", json=application("01234560462", "x@example.com", ateco_primary="1520")
    )
    assert response.status_code == 422
    assert "ATECO code '1520' is not valid" in response.text


async def test_the_same_partita_iva_cannot_apply_twice(members: MembersApi) -> None:
    first = await members.client.post("/companies/applications", json=application("01234560462", "a@example.com"))
    assert first.status_code == 201
    second = await members.client.post("/companies/applications", json=application("IT01234560462", "b@example.com"))
    assert second.status_code == 409
    assert "01234560462 is already registered" in second.json()["detail"]


async def test_an_illegal_transition_is_a_conflict_that_says_why(members: MembersApi) -> None:
    company, _ = await members.active_company("owner@example.com")
    response = await members.client.post(f"/companies/{company['id']}/approve", headers=await members.staff())
    assert response.status_code == 409
    assert response.json()["detail"] == "cannot approve a company that is active: only a company that is applied can be"


async def test_suspension_needs_a_reason_and_blocks_login_until_reinstated(
    members: MembersApi, kafka_reader: KafkaReader
) -> None:
    company, _ = await members.active_company("owner@example.com")
    staff = await members.staff()
    no_reason = await members.client.post(f"/companies/{company['id']}/suspend", headers=staff)
    assert no_reason.status_code == 422
    suspended = await members.client.post(
        f"/companies/{company['id']}/suspend", headers=staff, json={"reason": "annual fee unpaid"}
    )
    assert suspended.json()["status"] == "suspended"
    login = await members.client.post(
        "/auth/token", data={"grant_type": "password", "username": "owner@example.com", "password": APPLICANT_PASSWORD}
    )
    assert (login.status_code, login.json()["error"]) == (400, "invalid_grant")
    assert "membership is suspended" in login.json()["error_description"]
    await members.client.post(f"/companies/{company['id']}/reinstate", headers=staff)
    assert await members.token("owner@example.com", APPLICANT_PASSWORD)

    expected = [
        "members.company.applied",
        "members.company.approved",
        "members.company.suspended",
        "members.company.reinstated",
    ]
    events = await kafka_reader.read("members.companies.v1", of_subject(company["id"], expected))
    suspension = next(e for e in events if e["type"] == "members.company.suspended" and e["subject"] == company["id"])
    assert suspension["data"]["reason"] == "annual fee unpaid"


async def test_a_rejected_applicant_cannot_log_in(members: MembersApi) -> None:
    response = await members.client.post(
        "/companies/applications", json=application("01234560462", "hopeful@example.com")
    )
    company = response.json()
    rejected = await members.client.post(
        f"/companies/{company['id']}/reject",
        headers=await members.staff(),
        json={"reason": "not in the footwear supply chain"},
    )
    assert rejected.json()["status"] == "rejected"
    login = await members.client.post(
        "/auth/token",
        data={"grant_type": "password", "username": "hopeful@example.com", "password": APPLICANT_PASSWORD},
    )
    assert (login.status_code, login.json()["error"]) == (400, "invalid_grant")


async def test_a_company_admin_edits_their_company_and_the_change_is_announced(
    members: MembersApi, kafka_reader: KafkaReader
) -> None:
    company, admin = await members.active_company("owner@example.com")
    response = await members.client.patch(
        f"/companies/{company['id']}", headers=admin, json={"employees": 60, "export_markets": ["us", "CN"]}
    )
    assert response.status_code == 200, response.text
    assert response.json()["size_class"] == "medium"
    assert response.json()["export_markets"] == ["US", "CN"]
    events = await kafka_reader.read(
        "members.companies.v1",
        lambda evs: any(e["type"] == "members.company.updated" and e["subject"] == company["id"] for e in evs),
    )
    update = next(e for e in events if e["type"] == "members.company.updated" and e["subject"] == company["id"])
    assert update["data"]["changed"] == ["employees", "export_markets"]


async def test_a_company_admin_cannot_edit_or_read_another_company(members: MembersApi) -> None:
    mine, my_admin = await members.active_company("owner@example.com")
    theirs, _ = await members.active_company("other@example.com", legal_name="Suolificio Lammari S.p.A.")
    edit = await members.client.patch(f"/companies/{theirs['id']}", headers=my_admin, json={"employees": 1})
    assert edit.status_code == 403
    assert edit.json()["detail"] == "you may only act on your own company"
    read = await members.client.get(f"/companies/{theirs['id']}", headers=my_admin)
    assert read.status_code == 403
    approve_self = await members.client.post(f"/companies/{mine['id']}/suspend", headers=my_admin, json={"reason": "x"})
    assert approve_self.status_code == 403


async def test_a_company_admin_may_withdraw_their_own_company(members: MembersApi) -> None:
    company, admin = await members.active_company("owner@example.com")
    response = await members.client.post(
        f"/companies/{company['id']}/withdraw", headers=admin, json={"reason": "closing the business"}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"


async def test_a_missing_company_is_a_404(members: MembersApi) -> None:
    unknown = str(uuid.uuid4())
    response = await members.client.get(f"/companies/{unknown}", headers=await members.staff())
    assert response.status_code == 404
    assert response.json()["detail"] == f"no company with id {unknown}"


async def test_staff_list_applications_by_status(members: MembersApi) -> None:
    await members.client.post("/companies/applications", json=application("01234560462", "a@example.com"))
    await members.active_company("b@example.com")
    applied = await members.client.get("/companies", params={"status": "applied"}, headers=await members.staff())
    assert applied.json()["total"] == 1
    assert applied.json()["items"][0]["status"] == "applied"


async def test_text_with_control_characters_and_malformed_ids_are_refused(members: MembersApi) -> None:
    refused = await members.client.post(
        "/companies/applications", json=application("01234560462", "a@example.com", legal_name="Tomaie\x00srl")
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "legal_name"]
    malformed = await members.client.get("/companies/abc%00def", headers=await members.staff())
    assert malformed.status_code == 404


async def test_null_clears_an_optional_field_and_is_refused_for_a_required_one(members: MembersApi) -> None:
    company, admin = await members.active_company("owner@example.com", frazione="Lammari")
    cleared = await members.client.patch(f"/companies/{company['id']}", headers=admin, json={"frazione": None})
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["frazione"] is None

    refused = await members.client.patch(f"/companies/{company['id']}", headers=admin, json={"legal_name": None})
    assert refused.status_code == 422
    assert "legal_name cannot be null" in refused.json()["detail"][0]["msg"]


async def test_fields_a_company_admin_may_not_change_are_refused_by_name_never_ignored(members: MembersApi) -> None:
    company, admin = await members.active_company("owner@example.com")
    path = f"/companies/{company['id']}"
    partita_iva = await members.client.patch(path, headers=admin, json={"employees": 30, "partita_iva": "01234560462"})
    assert partita_iva.status_code == 403
    assert partita_iva.json()["detail"].startswith("partita_iva may be changed only by network staff")
    status = await members.client.patch(path, headers=admin, json={"status": "active"})
    assert status.status_code == 422
    assert "status cannot be edited: membership changes through its own steps" in status.text
    unknown = await members.client.patch(path, headers=admin, json={"turnover": 1})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "turnover"]
    unchanged = (await members.client.get(path, headers=admin)).json()
    assert (unchanged["employees"], unchanged["partita_iva"]) == (company["employees"], company["partita_iva"])

    corrected = await members.client.patch(path, headers=await members.staff(), json={"partita_iva": "IT01234560462"})
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["partita_iva"] == "01234560462"
