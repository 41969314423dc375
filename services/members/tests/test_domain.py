"""The rules, without I/O."""

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest

from services.members.domain import (
    DirectoryQuery,
    MembershipAction,
    SizeClass,
    check_ateco,
    check_may_change_role,
    check_may_grant,
    check_may_join,
    check_may_log_in,
    check_term_dates,
    erased_person_fields,
    fee_overdue,
    next_status,
    normalise_partita_iva,
    paid_after_payment,
    partner_scopes,
    partner_token,
    person_token,
    size_class,
)
from services.members.domain.tokens import TokenErrorCode, TokenRefused
from services.members.identity import token_claims
from shared.auth import Principal
from shared.errors import Conflict, DomainError, Forbidden
from shared.membership import PARTNER_ROLE, MembershipStatus, Role

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
STAFF = Principal(subject="staff-1", kind="person", role=Role.NETWORK_ADMIN)
ADMIN = Principal(subject="admin-1", kind="person", role=Role.COMPANY_ADMIN, company_id="company-1")
MEMBER = Principal(subject="member-1", kind="person", role=Role.COMPANY_MEMBER, company_id="company-1")


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


class TestJoining:
    def test_people_join_an_active_company_only(self) -> None:
        check_may_join(MembershipStatus.ACTIVE)
        for status in MembershipStatus:
            if status != MembershipStatus.ACTIVE:
                with pytest.raises(Conflict, match=f"only to an active company; this one is {status}"):
                    check_may_join(status)

    def test_people_log_in_while_their_company_is_active(self) -> None:
        check_may_log_in(MembershipStatus.ACTIVE)
        with pytest.raises(TokenRefused, match="membership is suspended; login opens once it is active") as refused:
            check_may_log_in(MembershipStatus.SUSPENDED)
        assert refused.value.error == TokenErrorCode.INVALID_GRANT
        with pytest.raises(TokenRefused):
            check_may_log_in(MembershipStatus.APPLIED)


class TestPayments:
    def test_a_payment_adds_to_what_is_paid(self) -> None:
        assert paid_after_payment(20_000, amount_cents=60_000, paid_cents=0) == 20_000
        assert paid_after_payment(40_000, amount_cents=60_000, paid_cents=20_000) == 60_000, "exactly what is due"

    def test_a_payment_never_exceeds_what_is_still_due(self) -> None:
        with pytest.raises(DomainError, match="payment of 50000 cents exceeds the 40000 cents outstanding"):
            paid_after_payment(50_000, amount_cents=60_000, paid_cents=20_000)
        with pytest.raises(DomainError, match="exceeds the 0 cents outstanding"):
            paid_after_payment(1, amount_cents=60_000, paid_cents=60_000)


class TestGovernanceTerms:
    def test_a_term_ends_on_or_after_its_start_or_is_open(self) -> None:
        check_term_dates(date(2026, 1, 1), None)
        check_term_dates(date(2026, 1, 1), date(2026, 1, 1))
        check_term_dates(date(2026, 1, 1), date(2028, 12, 31))

    def test_a_term_never_ends_before_it_starts(self) -> None:
        with pytest.raises(DomainError, match="a term cannot end before it starts"):
            check_term_dates(date(2026, 5, 1), date(2026, 1, 1))


def test_erasure_clears_everything_that_names_or_reaches_a_person() -> None:
    erased = erased_person_fields("person-7", NOW)
    assert erased == {
        "given_name": "—",
        "family_name": "—",
        "email": "erased-person-7@invalid",
        "phone": None,
        "job_title": None,
        "password_hash": None,
        "erased_at": NOW,
    }


class TestRoles:
    def test_only_staff_make_staff_and_staff_belong_to_no_company(self) -> None:
        check_may_grant(STAFF, Role.NETWORK_ADMIN, None)
        with pytest.raises(Forbidden, match="only network staff may create or promote network staff"):
            check_may_grant(ADMIN, Role.NETWORK_ADMIN, None)
        with pytest.raises(Conflict, match="network staff do not belong to a member company"):
            check_may_grant(STAFF, Role.NETWORK_ADMIN, "company-1")

    @pytest.mark.parametrize("role", [Role.COMPANY_ADMIN, Role.COMPANY_MEMBER])
    def test_company_roles_belong_to_a_company(self, role: Role) -> None:
        check_may_grant(ADMIN, role, "company-1")
        with pytest.raises(Conflict, match="belongs to a member company, and this person belongs to none"):
            check_may_grant(STAFF, role, None)

    def test_roles_change_at_the_hands_of_staff_and_company_admins(self) -> None:
        check_may_change_role(ADMIN, Role.COMPANY_ADMIN, "company-1")
        check_may_change_role(STAFF, Role.COMPANY_MEMBER, "company-1")
        with pytest.raises(Forbidden, match="only staff and company admins may change roles"):
            check_may_change_role(MEMBER, Role.COMPANY_ADMIN, "company-1")
        with pytest.raises(Forbidden, match="only network staff"):
            check_may_change_role(ADMIN, Role.NETWORK_ADMIN, None)


class TestTokens:
    def test_a_partner_gets_the_granted_scopes_it_asks_for_or_all_of_them(self) -> None:
        granted = ["directory:read", "events:read"]
        assert partner_scopes(granted, {"events:read"}) == {"events:read"}
        assert partner_scopes(granted, set()) == {"directory:read", "events:read"}
        with pytest.raises(TokenRefused, match="scopes not granted to this client: webhooks:manage") as refused:
            partner_scopes(granted, {"events:read", "webhooks:manage"})
        assert (refused.value.error, refused.value.status) == (TokenErrorCode.INVALID_SCOPE, 400)

    def test_a_persons_token_names_their_role_and_company(self) -> None:
        token = person_token("member-1", Role.COMPANY_MEMBER, "company-1", NOW, timedelta(minutes=15))
        assert token.expires_at == NOW + timedelta(minutes=15)
        claims = token_claims(token, "https://filiera.example/members", "filiera")
        assert {k: v for k, v in claims.items() if k != "jti"} == {
            "sub": "member-1",
            "iss": "https://filiera.example/members",
            "aud": "filiera",
            "iat": int(NOW.timestamp()),
            "nbf": int(NOW.timestamp()),
            "exp": int(NOW.timestamp()) + 15 * 60,
            "kind": "person",
            "role": "company_member",
            "company_id": "company-1",
        }

    def test_staff_tokens_name_no_company_and_carry_no_scopes(self) -> None:
        claims = token_claims(person_token("staff-1", Role.NETWORK_ADMIN, None, NOW, timedelta(minutes=15)), "i", "a")
        assert "company_id" not in claims and "scope" not in claims

    def test_a_partners_token_carries_its_role_and_scopes(self) -> None:
        token = partner_token("client-1", ["events:read", "directory:read"], set(), NOW, timedelta(minutes=15))
        claims = token_claims(token, "i", "a")
        assert (claims["kind"], claims["role"], claims["scope"]) == (
            "partner",
            PARTNER_ROLE,
            "directory:read events:read",
        )
        assert "company_id" not in claims
