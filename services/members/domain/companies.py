"""Member companies: how membership moves, who may join, what a valid company record is, and what of it a
company's admins may edit."""

from __future__ import annotations

import re
from collections.abc import Collection
from enum import StrEnum

from stdnum import exceptions as stdnum_errors
from stdnum.it import codicefiscale, iva

from shared.auth import Principal
from shared.errors import Conflict, DomainError, Forbidden
from shared.membership import Capability as Capability  # named here for members' own modules
from shared.membership import MembershipStatus


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


class SizeClass(StrEnum):
    MICRO = "micro"
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


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


# What no edit of a company changes, and why: each has its own way of changing, or none.
FIELDS_NOT_EDITED: dict[str, str] = {
    "id": "a company's id never changes",
    "status": "membership changes through its own steps (approve, reject, suspend, reinstate, withdraw)",
    "size_class": "the size class follows from employees, turnover and balance sheet",
    "created_at": "it records when the company applied",
    "updated_at": "it records the last change",
}
# What identifies a company to the tax authorities: checked by staff when they approve it, so only staff correct it.
FIELDS_STAFF_CORRECT: dict[str, str] = {
    "partita_iva": "the Partita IVA identifies the company; ask the network's office to correct it",
    "codice_fiscale": "the codice fiscale identifies the company; ask the network's office to correct it",
}


def check_not_edited(fields: Collection[str]) -> None:
    """A company edit that names a field no edit changes is refused, naming the field and why."""
    refused = [field for field in fields if field in FIELDS_NOT_EDITED]
    if refused:
        raise DomainError("; ".join(f"{field} cannot be edited: {FIELDS_NOT_EDITED[field]}" for field in refused))


def check_may_edit_company(actor: Principal, fields: Collection[str]) -> None:
    """Staff may edit every editable field; a company's admin all but what identifies the company."""
    if actor.is_staff:
        return
    refused = sorted(field for field in fields if field in FIELDS_STAFF_CORRECT)
    if refused:
        raise Forbidden(
            "; ".join(
                f"{field} may be changed only by network staff: {FIELDS_STAFF_CORRECT[field]}" for field in refused
            )
        )
