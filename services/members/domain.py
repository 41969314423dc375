"""The members service's rules: who may join, how membership moves, what a valid company record is, what is
owed, what erasure clears, and who may hold which role, scopes and tokens.

Nothing here touches the database or HTTP; commands and the store call these functions and raise what they raise.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, Protocol

from stdnum import exceptions as stdnum_errors
from stdnum.it import codicefiscale, iva

from shared.auth import Principal
from shared.errors import Conflict, DomainError, Forbidden
from shared.membership import PARTNER_ROLE, MembershipStatus, Role
from shared.text import fold


class MembershipAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    WITHDRAW = "withdraw"


# action -> (states it may start from, state it leads to)
_TRANSITIONS: dict[MembershipAction, tuple[frozenset[MembershipStatus], MembershipStatus]] = {
    MembershipAction.APPROVE: (frozenset({MembershipStatus.APPLIED}), MembershipStatus.ACTIVE),
    MembershipAction.REJECT: (frozenset({MembershipStatus.APPLIED}), MembershipStatus.REJECTED),
    MembershipAction.SUSPEND: (frozenset({MembershipStatus.ACTIVE}), MembershipStatus.SUSPENDED),
    MembershipAction.REINSTATE: (frozenset({MembershipStatus.SUSPENDED}), MembershipStatus.ACTIVE),
    MembershipAction.WITHDRAW: (
        frozenset({MembershipStatus.APPLIED, MembershipStatus.ACTIVE, MembershipStatus.SUSPENDED}),
        MembershipStatus.WITHDRAWN,
    ),
}

ACTIONS_NEEDING_REASON = {MembershipAction.REJECT, MembershipAction.SUSPEND}


def next_status(current: MembershipStatus, action: MembershipAction, reason: str | None) -> MembershipStatus:
    allowed_from, target = _TRANSITIONS[action]
    if current not in allowed_from:
        allowed = ", ".join(sorted(allowed_from))
        raise Conflict(f"cannot {action} a company that is {current}: only a company that is {allowed} can be")
    if action in ACTIONS_NEEDING_REASON and not (reason and reason.strip()):
        raise DomainError(f"a reason is required to {action} a company")
    return target


def check_may_join(company_status: MembershipStatus) -> None:
    """People join the network through an active member company, and only then."""
    if company_status != MembershipStatus.ACTIVE:
        raise Conflict(f"people can be added only to an active company; this one is {company_status}")


def check_may_log_in(company_status: MembershipStatus) -> None:
    """A company's people log in while it is an active member: not while it applies, nor once it is suspended."""
    if company_status != MembershipStatus.ACTIVE:
        raise Forbidden(f"your company's membership is {company_status}; login opens once it is active")


class Language(StrEnum):
    """Languages the platform writes to people in."""

    IT = "it"
    EN = "en"


class Capability(StrEnum):
    """What a company does, in the district's own terms."""

    FINISHED_SHOES = "finished_shoes"
    SOLES = "soles"
    UPPERS = "uppers"
    PATTERN_MAKING = "pattern_making"
    LEATHER_CUTTING = "leather_cutting"
    COMPONENTS = "components"
    LASTS = "lasts"
    HEELS = "heels"
    STITCHING = "stitching"
    FINISHING = "finishing"
    DESIGN = "design"
    PROTOTYPING = "prototyping"
    LEATHER_GOODS = "leather_goods"
    MACHINERY = "machinery"
    LOGISTICS = "logistics"


class SizeClass(StrEnum):
    MICRO = "micro"
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


class GovernanceOffice(StrEnum):
    PRESIDENT = "president"
    VICE_PRESIDENT = "vice_president"
    TECHNICAL_COORDINATOR = "technical_coordinator"
    COUNCIL_MEMBER = "council_member"
    ORGANO_COMUNE = "organo_comune"


def normalise_partita_iva(value: str) -> str:
    """The 11 digits of a valid Partita IVA; an `IT` prefix and spaces are accepted."""
    compact = re.sub(r"\s", "", value).upper().removeprefix("IT")
    try:
        return iva.validate(compact)
    except stdnum_errors.InvalidChecksum as error:
        raise DomainError(f"Partita IVA {value!r} has a wrong check digit") from error
    except stdnum_errors.ValidationError as error:
        raise DomainError(f"Partita IVA {value!r} is not valid: {error}") from error


def normalise_codice_fiscale(value: str) -> str:
    """A company's codice fiscale is its 11-digit Partita IVA number or, for some, a 16-character personal code."""
    compact = re.sub(r"\s", "", value).upper()
    if compact.isdigit():
        return normalise_partita_iva(compact)
    try:
        return codicefiscale.validate(compact)
    except stdnum_errors.ValidationError as error:
        raise DomainError(f"codice fiscale {value!r} is not valid") from error


ATECO_PATTERN = r"^[0-9]{2}(\.[0-9]{1,2}(\.[0-9]{1,2})?)?$"


def check_ateco(code: str) -> str:
    """ATECO codes are hierarchical: section digits, then optional groups, e.g. 15, 15.20, 15.20.10."""
    code = code.strip()
    if not re.match(ATECO_PATTERN, code):
        raise DomainError(f"ATECO code {code!r} is not valid: expected a form like 15.20.10")
    return code


def check_country(code: str) -> str:
    """Export markets are ISO 3166-1 alpha-2 country codes, kept upper case."""
    code = code.strip().upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        raise DomainError(f"export market {code!r} is not an ISO 3166 two-letter country code")
    return code


def size_class(employees: int, turnover_eur: int, balance_sheet_eur: int | None = None) -> SizeClass:
    """EU SME definition (Recommendation 2003/361/EC): headcount, and turnover or balance sheet total."""
    if employees < 0 or turnover_eur < 0:
        raise DomainError("employees and turnover cannot be negative")
    balance = balance_sheet_eur if balance_sheet_eur is not None else turnover_eur

    def within(limit_turnover: int, limit_balance: int) -> bool:
        return turnover_eur <= limit_turnover or balance <= limit_balance

    if employees < 10 and within(2_000_000, 2_000_000):
        return SizeClass.MICRO
    if employees < 50 and within(10_000_000, 10_000_000):
        return SizeClass.SMALL
    if employees < 250 and within(50_000_000, 43_000_000):
        return SizeClass.MEDIUM
    return SizeClass.LARGE


def fee_overdue(due_date: Any, paid_cents: Any, amount_cents: Any, today: date) -> Any:
    """What "overdue" means, wherever it is asked: past its due date and not fully paid. Given a fee's values it
    says yes or no; given its columns (store.py), it is the same condition in SQL."""
    return (due_date < today) & (paid_cents < amount_cents)


def paid_after_payment(payment_cents: int, amount_cents: int, paid_cents: int) -> int:
    """What is paid of a fee once a payment is recorded; a payment never exceeds what is still due."""
    outstanding = amount_cents - paid_cents
    if payment_cents > outstanding:
        raise DomainError(f"payment of {payment_cents} cents exceeds the {outstanding} cents outstanding")
    return paid_cents + payment_cents


def check_term_dates(term_from: date, term_to: date | None) -> None:
    """A term of office never ends before it starts (an open term has no end yet)."""
    if term_to is not None and term_to < term_from:
        raise DomainError("a term cannot end before it starts")


ERASED_NAME = "—"


def erased_person_fields(person_id: str, erased_at: datetime) -> dict[str, str | datetime | None]:
    """What GDPR erasure clears of a person, and the values left in their place: the row stays, because
    membership steps and governance terms point to it, but nothing in it names or reaches the person, and no
    password opens it."""
    return {
        "given_name": ERASED_NAME,
        "family_name": ERASED_NAME,
        "email": f"erased-{person_id}@invalid",
        "phone": None,
        "job_title": None,
        "password_hash": None,
        "erased_at": erased_at,
    }


MIN_PASSWORD_LENGTH = 12


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")


def check_may_grant(actor: Principal, role: Role, company_id: str | None) -> None:
    """Who may give a person a role: only staff make staff, who belong to no company; every other role belongs
    to a member company."""
    if role == Role.NETWORK_ADMIN:
        if not actor.is_staff:
            raise Forbidden("only network staff may create or promote network staff")
        if company_id is not None:
            raise Conflict("network staff do not belong to a member company")
    elif company_id is None:
        raise Conflict(f"a {role} belongs to a member company, and this person belongs to none")


def check_may_change_role(actor: Principal, role: Role, company_id: str | None) -> None:
    """Roles change at the hands of staff and company admins, within what they may grant."""
    if actor.role not in (Role.NETWORK_ADMIN, Role.COMPANY_ADMIN):
        raise Forbidden("only staff and company admins may change roles")
    check_may_grant(actor, role, company_id)


def partner_scopes(granted: Collection[str], requested: Collection[str]) -> frozenset[str]:
    """A partner system's token carries the scopes it asks for, each granted to it; asking none, all it has."""
    not_granted = set(requested) - set(granted)
    if not_granted:
        raise Forbidden(f"scopes not granted to this client: {' '.join(sorted(not_granted))}")
    return frozenset(requested or granted)


@dataclass(frozen=True)
class AccessToken:
    """What an access token says: who holds it (a person or a partner system), as what, and until when.
    A person's token names their role and company; a partner's its role `partner` and its scopes."""

    subject: str
    kind: Literal["person", "partner"]
    role: str
    issued_at: datetime
    lifetime: timedelta
    company_id: str | None = None
    scopes: frozenset[str] | None = None

    @property
    def expires_at(self) -> datetime:
        return self.issued_at + self.lifetime


def person_token(person_id: str, role: Role, company_id: str | None, now: datetime, lifetime: timedelta) -> AccessToken:
    return AccessToken(person_id, "person", role, now, lifetime, company_id=company_id)


def partner_token(
    client_id: str, granted: Collection[str], requested: Collection[str], now: datetime, lifetime: timedelta
) -> AccessToken:
    return AccessToken(client_id, "partner", PARTNER_ROLE, now, lifetime, scopes=partner_scopes(granted, requested))


class Listed(Protocol):
    """What the directory reads of a company (read-only, so a company's lists of narrower types fit)."""

    @property
    def legal_name(self) -> str: ...
    @property
    def description_it(self) -> str: ...
    @property
    def description_en(self) -> str: ...
    @property
    def comune(self) -> str: ...
    @property
    def frazione(self) -> str | None: ...
    @property
    def ateco_primary(self) -> str: ...
    @property
    def ateco_secondary(self) -> Sequence[str]: ...
    @property
    def capabilities(self) -> Sequence[str]: ...
    @property
    def certifications(self) -> Sequence[str]: ...
    @property
    def export_markets(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class DirectoryQuery:
    """What a buyer asks the directory; every criterion given must hold. Text is matched without case or accents,
    in both languages, word by word."""

    text: str | None = None
    capability: str | None = None
    ateco: str | None = None  # a code or a prefix: 15.20 finds 15.20.10
    certification: str | None = None
    market: str | None = None  # ISO country code

    def admits(self, company: Listed) -> bool:
        codes = [company.ateco_primary, *company.ateco_secondary]
        if self.capability and self.capability not in company.capabilities:
            return False
        if self.ateco and not any(code == self.ateco or code.startswith(self.ateco + ".") for code in codes):
            return False
        if self.certification and fold(self.certification) not in [fold(c) for c in company.certifications]:
            return False
        if self.market and self.market.upper() not in company.export_markets:
            return False
        if self.text:
            haystack = fold(
                " ".join(
                    [
                        company.legal_name,
                        company.description_it,
                        company.description_en,
                        company.comune,
                        company.frazione or "",
                        *company.capabilities,
                    ]
                )
            )
            return all(word in haystack for word in fold(self.text).split())
        return True
