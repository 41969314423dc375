"""Who may reach what: the one layer where the members service authorises (commands.access), without I/O."""

from __future__ import annotations

import pytest
from fastapi import HTTPException

from services.members.commands.access import ensure_may_change_membership, ensure_person_access, ensure_staff
from services.members.domain import MembershipAction
from services.members.models import Person
from shared.auth import Principal
from shared.errors import Forbidden
from shared.membership import PARTNER_ROLE, Role

STAFF = Principal(subject="staff-1", kind="person", role=Role.NETWORK_ADMIN)
ADMIN = Principal(subject="admin-1", kind="person", role=Role.COMPANY_ADMIN, company_id="company-1")
MEMBER = Principal(subject="member-1", kind="person", role=Role.COMPANY_MEMBER, company_id="company-1")
OUTSIDER = Principal(subject="admin-2", kind="person", role=Role.COMPANY_ADMIN, company_id="company-2")
PARTNER = Principal(subject="client-1", kind="partner", role=PARTNER_ROLE, scopes=frozenset({"directory:read"}))


def person(person_id: str, company_id: str | None) -> Person:
    return Person(
        id=person_id,
        company_id=company_id,
        email=f"{person_id}@example.com",
        role=Role.COMPANY_MEMBER,
        given_name="Marco",
        family_name="Pieroni",
    )


def test_staff_only_operations_say_which_role_they_require() -> None:
    ensure_staff(STAFF)
    for caller in (ADMIN, MEMBER, PARTNER):
        with pytest.raises(Forbidden, match="requires role network_admin"):
            ensure_staff(caller)


def test_people_reach_themselves_their_admins_reach_them_and_staff_everyone() -> None:
    colleague = person("member-1", "company-1")
    ensure_person_access(MEMBER, colleague, write=True)
    ensure_person_access(ADMIN, colleague, write=True)
    ensure_person_access(STAFF, colleague, write=True)
    with pytest.raises(HTTPException, match="only act on your own company"):
        ensure_person_access(OUTSIDER, colleague, write=False)
    with pytest.raises(HTTPException, match="only the company's admins may change it"):
        ensure_person_access(MEMBER, person("member-2", "company-1"), write=True)
    ensure_person_access(MEMBER, person("member-2", "company-1"), write=False)


def test_only_staff_act_on_staff() -> None:
    with pytest.raises(Forbidden, match="only network staff may act on network staff"):
        ensure_person_access(ADMIN, person("staff-2", None), write=False)
    ensure_person_access(STAFF, person("staff-2", None), write=True)


def test_staff_decide_membership_and_a_company_admin_may_withdraw_their_own() -> None:
    for action in MembershipAction:
        ensure_may_change_membership(STAFF, "company-1", action)
    ensure_may_change_membership(ADMIN, "company-1", MembershipAction.WITHDRAW)
    with pytest.raises(Forbidden, match="only network staff may suspend a company"):
        ensure_may_change_membership(ADMIN, "company-1", MembershipAction.SUSPEND)
    with pytest.raises(Forbidden, match="only network staff may withdraw a company"):
        ensure_may_change_membership(MEMBER, "company-1", MembershipAction.WITHDRAW)
    with pytest.raises(HTTPException):
        ensure_may_change_membership(OUTSIDER, "company-1", MembershipAction.WITHDRAW)
