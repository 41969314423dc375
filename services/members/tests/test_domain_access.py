"""Getting in, without I/O: the token endpoint's requests and refusals (RFC 6749), refresh-token rotation and reuse
(RFC 9700), login throttling per account and client, single-use links, what a company admin may edit, and the
directory's words in both languages."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from services.members.domain import (
    Capability,
    DirectoryQuery,
    Gone,
    GrantType,
    LoginThrottle,
    RefreshOutcome,
    RefreshTokenState,
    TokenErrorCode,
    TokenRefused,
    after_failed_login,
    check_link_usable,
    check_may_edit_company,
    check_not_edited,
    country_names,
    grant_type_of,
    locked_for,
    refresh_outcome,
)
from services.members.models import CompanyUpdate, TokenRequest
from shared.auth import Principal
from shared.errors import DomainError, Forbidden
from shared.membership import Role

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
STAFF = Principal(subject="staff-1", kind="person", role=Role.NETWORK_ADMIN)
ADMIN = Principal(subject="admin-1", kind="person", role=Role.COMPANY_ADMIN, company_id="company-1")


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


class TestTokenRequests:
    def test_a_missing_grant_type_is_an_invalid_request_and_an_unknown_one_unsupported(self) -> None:
        with pytest.raises(TokenRefused, match="grant_type is required") as missing:
            grant_type_of(None)
        assert (missing.value.error, missing.value.status) == (TokenErrorCode.INVALID_REQUEST, 400)
        with pytest.raises(TokenRefused, match="'authorization_code' is not supported") as unknown:
            grant_type_of("authorization_code")
        assert (unknown.value.error, unknown.value.status) == (TokenErrorCode.UNSUPPORTED_GRANT_TYPE, 400)

    def test_a_parameter_given_twice_is_an_invalid_request(self) -> None:
        with pytest.raises(TokenRefused, match="username is given more than once") as twice:
            TokenRequest.of([("grant_type", "password"), ("username", "a"), ("username", "b")], None)
        assert twice.value.error == TokenErrorCode.INVALID_REQUEST

    def test_required_parameters_are_named_when_missing(self) -> None:
        request = TokenRequest.of([("grant_type", "password"), ("username", "giulia@example.com")], None)
        with pytest.raises(TokenRefused, match=r"^password is required$"):
            request.required("username", "password")

    def test_clients_authenticate_by_http_basic_with_urlencoded_credentials(self) -> None:
        request = TokenRequest.of([("grant_type", "client_credentials")], basic("camera%3Alucca", "s%C3%A8cret"))
        assert (request.grant_type, request.client_id, request.client_secret) == (
            GrantType.CLIENT_CREDENTIALS,
            "camera:lucca",
            "sècret",
        )

    def test_or_in_the_form_but_not_both(self) -> None:
        form = [("grant_type", "client_credentials"), ("client_id", "c"), ("client_secret", "s")]
        assert TokenRequest.of(form, None).client_secret == "s"
        with pytest.raises(TokenRefused, match="both by HTTP Basic and in the form") as both:
            TokenRequest.of(form, basic("c", "s"))
        assert both.value.error == TokenErrorCode.INVALID_REQUEST

    def test_other_authorization_schemes_and_garbled_basic_are_an_invalid_client(self) -> None:
        for header in ("Bearer abc", "Basic not-base64!", "Basic " + base64.b64encode(b"no-colon").decode()):
            with pytest.raises(TokenRefused) as bad:
                TokenRequest.of([("grant_type", "client_credentials")], header)
            assert (bad.value.error, bad.value.status) == (TokenErrorCode.INVALID_CLIENT, 401), header


class TestRefreshTokens:
    STATE = RefreshTokenState(expires_at=NOW + timedelta(hours=10))

    def test_a_live_token_is_rotated(self) -> None:
        assert refresh_outcome(self.STATE, NOW) == RefreshOutcome.ROTATE

    def test_a_rotated_token_presented_again_revokes_its_family(self) -> None:
        rotated = RefreshTokenState(self.STATE.expires_at, rotated_at=NOW - timedelta(minutes=5))
        assert refresh_outcome(rotated, NOW) == RefreshOutcome.REVOKE_FAMILY

    def test_unknown_expired_and_revoked_tokens_are_refused(self) -> None:
        assert refresh_outcome(None, NOW) == RefreshOutcome.REFUSE
        assert refresh_outcome(self.STATE, self.STATE.expires_at) == RefreshOutcome.REFUSE
        revoked = RefreshTokenState(self.STATE.expires_at, rotated_at=NOW, revoked_at=NOW)
        assert refresh_outcome(revoked, NOW) == RefreshOutcome.REFUSE, "a family already ended is not ended again"


class TestLoginThrottling:
    def test_the_fifth_wrong_password_in_a_row_holds_the_pair_back_then_counting_restarts(self) -> None:
        throttle: LoginThrottle | None = None
        for _ in range(4):
            throttle = after_failed_login(throttle, NOW, max_failures=5, lockout=timedelta(minutes=15))
            assert locked_for(throttle, NOW) is None
        throttle = after_failed_login(throttle, NOW, max_failures=5, lockout=timedelta(minutes=15))
        assert throttle == LoginThrottle(failures=0, locked_until=NOW + timedelta(minutes=15))
        assert locked_for(throttle, NOW + timedelta(minutes=5)) == timedelta(minutes=10)
        assert locked_for(throttle, NOW + timedelta(minutes=15)) is None

    def test_nothing_counted_holds_nothing_back(self) -> None:
        assert locked_for(None, NOW) is None


class TestSingleUseLinks:
    def test_a_link_opens_before_it_expires_and_only_once(self) -> None:
        check_link_usable("invitation", NOW + timedelta(days=7), None, NOW)
        with pytest.raises(Gone, match="this invitation has already been used"):
            check_link_usable("invitation", NOW + timedelta(days=7), NOW, NOW)
        with pytest.raises(Gone, match="this password reset has expired"):
            check_link_usable("password reset", NOW, None, NOW)
        assert Gone.status == 410


class TestCompanyEdits:
    def test_fields_no_edit_changes_are_refused_by_name_with_the_reason(self) -> None:
        with pytest.raises(DomainError, match="status cannot be edited: membership changes through its own steps"):
            check_not_edited(["employees", "status"])
        with pytest.raises(ValueError, match="size_class cannot be edited"):
            CompanyUpdate.model_validate({"size_class": "large"})
        with pytest.raises(ValueError, match="Extra inputs are not permitted"):
            CompanyUpdate.model_validate({"colour": "red"})

    def test_only_staff_correct_what_identifies_a_company(self) -> None:
        check_may_edit_company(STAFF, {"partita_iva", "employees"})
        check_may_edit_company(ADMIN, {"employees", "description_en"})
        with pytest.raises(Forbidden, match="partita_iva may be changed only by network staff"):
            check_may_edit_company(ADMIN, {"employees", "partita_iva"})


def exporter(**fields: object) -> SimpleNamespace:
    company: dict[str, object] = {
        "legal_name": "Suolificio Lammari S.p.A.",
        "description_it": "",
        "description_en": "",
        "comune": "Capannori",
        "frazione": None,
        "ateco_primary": "15.20.20",
        "ateco_secondary": [],
        "capabilities": [Capability.SOLES],
        "certifications": [],
        "export_markets": ["DE"],
    }
    return SimpleNamespace(**{**company, **fields})


class TestDirectoryInBothLanguages:
    @pytest.mark.parametrize(
        "text", ["sole maker", "sole makers", "suolificio", "soles Germany", "soles exporting to Germany", "Germania"]
    )
    def test_buyers_find_a_sole_maker_exporting_to_germany_as_they_type_it(self, text: str) -> None:
        assert DirectoryQuery(text=text).admits(exporter(legal_name="Gomma Lammari S.r.l."))

    def test_a_company_is_found_by_its_name_and_not_by_what_it_does_not_do(self) -> None:
        assert DirectoryQuery(text="lammari").admits(exporter())
        assert not DirectoryQuery(text="heels").admits(exporter())
        assert not DirectoryQuery(text="soles Japan").admits(exporter())
        assert DirectoryQuery(text="suole Giappone").admits(exporter(export_markets=["JP"]))

    def test_country_names_come_from_the_iso_code_in_italian_and_english(self) -> None:
        assert country_names(["de", "US"])[:2] == ["Germania", "Germany"]
        assert {"Stati Uniti", "United States", "USA"} <= set(country_names(["US"]))
