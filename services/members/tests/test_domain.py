"""The rules, without I/O."""

from datetime import date
from types import SimpleNamespace

import pytest

from services.members.domain import (
    DirectoryQuery,
    MembershipAction,
    SizeClass,
    check_ateco,
    fee_overdue,
    next_status,
    normalise_partita_iva,
    size_class,
)
from shared.errors import Conflict, DomainError
from shared.membership import MembershipStatus


class TestPartitaIva:
    def test_accepts_a_valid_number_with_or_without_the_it_prefix(self) -> None:
        assert normalise_partita_iva("01234560462") == "01234560462"
        assert normalise_partita_iva("IT 01234560462") == "01234560462"

    def test_refuses_a_wrong_check_digit(self) -> None:
        with pytest.raises(DomainError, match="check digit"):
            normalise_partita_iva("01234560463")

    def test_refuses_a_wrong_length(self) -> None:
        with pytest.raises(DomainError, match="not valid"):
            normalise_partita_iva("123")


class TestAteco:
    @pytest.mark.parametrize("code", ["15", "15.20", "15.20.10", "15.2", "15.20.1"])
    def test_accepts_hierarchical_codes(self, code: str) -> None:
        assert check_ateco(code) == code

    @pytest.mark.parametrize("code", ["1520", "15.201", "15.20.10.1", "AB.20", ""])
    def test_refuses_malformed_codes(self, code: str) -> None:
        with pytest.raises(DomainError, match="ATECO"):
            check_ateco(code)


class TestSizeClass:
    @pytest.mark.parametrize(
        ("employees", "turnover", "balance", "expected"),
        [
            (9, 2_000_000, None, SizeClass.MICRO),
            (10, 1_000_000, None, SizeClass.SMALL),
            (49, 10_000_000, None, SizeClass.SMALL),
            (49, 12_000_000, 9_000_000, SizeClass.SMALL),  # balance sheet within the limit is enough
            (50, 5_000_000, None, SizeClass.MEDIUM),
            (249, 60_000_000, 43_000_000, SizeClass.MEDIUM),
            (249, 60_000_000, 44_000_000, SizeClass.LARGE),
            (250, 1_000_000, None, SizeClass.LARGE),
        ],
    )
    def test_follows_the_eu_sme_definition(
        self, employees: int, turnover: int, balance: int | None, expected: SizeClass
    ) -> None:
        assert size_class(employees, turnover, balance) == expected


class TestMembershipLifecycle:
    def test_an_applicant_is_approved_into_membership(self) -> None:
        assert next_status(MembershipStatus.APPLIED, MembershipAction.APPROVE, None) == MembershipStatus.ACTIVE

    def test_suspension_is_reversible_and_withdrawal_is_final(self) -> None:
        suspended = next_status(MembershipStatus.ACTIVE, MembershipAction.SUSPEND, "fees unpaid")
        assert next_status(suspended, MembershipAction.REINSTATE, None) == MembershipStatus.ACTIVE
        withdrawn = next_status(suspended, MembershipAction.WITHDRAW, None)
        with pytest.raises(Conflict, match="cannot reinstate a company that is withdrawn"):
            next_status(withdrawn, MembershipAction.REINSTATE, None)

    def test_an_active_company_cannot_be_approved_again(self) -> None:
        with pytest.raises(Conflict, match="only a company that is applied"):
            next_status(MembershipStatus.ACTIVE, MembershipAction.APPROVE, None)

    @pytest.mark.parametrize("action", [MembershipAction.REJECT, MembershipAction.SUSPEND])
    def test_rejection_and_suspension_need_a_reason(self, action: MembershipAction) -> None:
        start = MembershipStatus.APPLIED if action == MembershipAction.REJECT else MembershipStatus.ACTIVE
        with pytest.raises(DomainError, match="reason is required"):
            next_status(start, action, "  ")


def listed(**overrides: object) -> SimpleNamespace:
    company = {
        "legal_name": "Suolificio Il Castagno S.r.l.",
        "description_it": "Suole in cuoio e gomma, lavorazione",
        "description_en": "Leather and rubber soles",
        "comune": "Capannori",
        "frazione": "Lammari",
        "ateco_primary": "15.20.20",
        "ateco_secondary": ["22.19.01"],
        "capabilities": ["soles"],
        "certifications": ["ISO 14001"],
        "export_markets": ["DE", "FR"],
    }
    return SimpleNamespace(**{**company, **overrides})


def test_the_directory_finds_words_without_case_or_accents_in_either_language() -> None:
    company = listed(description_it="Suole in cuoio per calzatùre da donna")
    assert DirectoryQuery(text="CALZATURE cuoio").admits(company)
    assert DirectoryQuery(text="rubber soles").admits(company)
    assert DirectoryQuery(text="lammari").admits(company)  # where it is counts too
    assert not DirectoryQuery(text="cuoio tacchi").admits(company)  # every word must be found


def test_the_directory_reads_an_ateco_code_as_a_prefix_of_whole_groups() -> None:
    company = listed()
    assert DirectoryQuery(ateco="15.20").admits(company)
    assert DirectoryQuery(ateco="22.19.01").admits(company)  # secondary codes count
    assert not DirectoryQuery(ateco="15.2").admits(company)  # 15.2 is not a group of 15.20.20
    assert not DirectoryQuery(ateco="14").admits(company)


def test_every_directory_criterion_given_must_hold() -> None:
    company = listed()
    assert DirectoryQuery().admits(company)
    assert DirectoryQuery(capability="soles", certification="iso 14001", market="fr").admits(company)
    assert not DirectoryQuery(capability="soles", market="JP").admits(company)
    assert not DirectoryQuery(certification="ISO 9001").admits(company)


def test_a_fee_is_overdue_once_its_due_date_has_passed_unpaid() -> None:
    due = date(2026, 3, 31)
    assert fee_overdue(due, paid_cents=0, amount_cents=50_000, today=date(2026, 4, 1))
    assert fee_overdue(due, paid_cents=49_999, amount_cents=50_000, today=date(2026, 4, 1)), "partly paid"
    assert not fee_overdue(due, paid_cents=0, amount_cents=50_000, today=due), "due today is not late yet"
    assert not fee_overdue(due, paid_cents=50_000, amount_cents=50_000, today=date(2026, 6, 1)), "paid"
