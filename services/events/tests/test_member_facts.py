"""What events reads of the members service's facts, checked without Kafka: the fields it keeps, and the reason
a malformed fact is dead-lettered with."""

from __future__ import annotations

import re

import pytest

from services.events.models import CompanyFact, PersonFact
from shared.consumer import DeadLetter, read_fact
from shared.membership import MembershipStatus, PersonErasure

WHAT = "a company fact as members.companies.v1 carries it"


def test_a_company_fact_keeps_the_name_and_the_membership_status() -> None:
    data = {
        "company_id": "c-1",
        "company": {"id": "c-1", "legal_name": "Suolificio S.r.l.", "status": "active", "region": "Toscana"},
        "actor_id": None,
    }
    company = read_fact(CompanyFact, data, WHAT).company
    assert (company.id, company.legal_name, company.status) == ("c-1", "Suolificio S.r.l.", MembershipStatus.ACTIVE)


def test_a_company_fact_without_the_company_says_so() -> None:
    with pytest.raises(DeadLetter, match=f"^{re.escape(f'not {WHAT}: company: Field required')}$"):
        read_fact(CompanyFact, {"company_id": "c-1"}, WHAT)


def test_an_unknown_membership_status_is_not_taken_for_any() -> None:
    data = {"company": {"id": "c-1", "legal_name": "Suolificio S.r.l.", "status": "dormant"}}
    with pytest.raises(DeadLetter, match=re.escape("company.status: Input should be 'applied', 'active'")):
        read_fact(CompanyFact, data, WHAT)


def test_a_person_fact_gives_the_name_for_attendance_lists() -> None:
    data = {
        "person_id": "p-1",
        "person": {
            "id": "p-1",
            "company_id": None,
            "given_name": "Giulia",
            "family_name": "Bertolucci",
            "email": "giulia@example.com",
            "language": "it",
        },
    }
    person = read_fact(PersonFact, data, "a person").person
    assert (person.name, person.email, person.company_id) == ("Giulia Bertolucci", "giulia@example.com", None)


def test_an_erasure_names_the_person_to_forget() -> None:
    assert read_fact(PersonErasure, {"person_id": "p-1", "company_id": None}, "an erasure").person_id == "p-1"
    with pytest.raises(DeadLetter, match=r"^not an erasure: person_id: Field required$"):
        read_fact(PersonErasure, {}, "an erasure")
