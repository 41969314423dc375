"""People: the languages they are written to in, their passwords, the roles they may be given, and what erasure
clears of them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from shared.auth import Principal
from shared.errors import Conflict, DomainError, Forbidden
from shared.membership import Role


class Language(StrEnum):
    """Languages the platform writes to people in."""

    IT = "it"
    EN = "en"


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


def full_name(given_name: str, family_name: str) -> str:
    """A person as a letter names them."""
    return f"{given_name} {family_name}"
