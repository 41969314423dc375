"""The rules, without I/O."""

import pytest

from services.members.domain import (
    MembershipAction,
    MembershipStatus,
    SizeClass,
    check_ateco,
    next_status,
    normalise_partita_iva,
    size_class,
)
from shared.errors import Conflict, DomainError


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
    def test_follows_the_eu_sme_definition(self, employees: int, turnover: int, balance: int | None,
                                           expected: SizeClass) -> None:
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
