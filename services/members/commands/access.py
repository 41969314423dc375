"""Who may do what: the members service checks it here, in its use cases, and only here. Routes authenticate
(who is calling) and hand the principal to a use case, which checks it before it reads or changes anything of
another's. What a role may grant is a rule of the domain (domain.check_may_grant); this is who may reach what."""

from __future__ import annotations

from services.members.domain import MembershipAction
from services.members.models import Person
from shared.auth import Principal, ensure_company_access
from shared.errors import Forbidden
from shared.membership import Role

__all__ = ["ensure_company_access", "ensure_may_change_membership", "ensure_person_access", "ensure_staff"]


def ensure_staff(actor: Principal) -> None:
    if not actor.is_staff:
        raise Forbidden(f"requires role {Role.NETWORK_ADMIN}")


def ensure_person_access(actor: Principal, person: Person, *, write: bool) -> None:
    """People reach themselves; company admins their colleagues; staff everyone."""
    if actor.subject == person.id or actor.is_staff:
        return
    if person.company_id is None:
        raise Forbidden("only network staff may act on network staff")
    ensure_company_access(actor, person.company_id, write=write)


def ensure_may_change_membership(actor: Principal, company_id: str, action: MembershipAction) -> None:
    """Staff approve, reject, suspend, reinstate or withdraw; a company's own admin may withdraw it."""
    own_withdrawal = action == MembershipAction.WITHDRAW and actor.role == Role.COMPANY_ADMIN
    if not (actor.is_staff or own_withdrawal):
        raise Forbidden(f"only network staff may {action} a company")
    ensure_company_access(actor, company_id, write=True)
