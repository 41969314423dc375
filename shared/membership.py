"""The names every service uses for membership: a company's status in the network and a person's role.

The members service decides them; the others read them in members' facts and in tokens. One definition here, so
"active" or "network_admin" is never spelled again elsewhere.
"""

from __future__ import annotations

from enum import StrEnum


class MembershipStatus(StrEnum):
    APPLIED = "applied"
    ACTIVE = "active"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"


class Role(StrEnum):
    """A person's role, in their token's `role` claim."""

    NETWORK_ADMIN = "network_admin"
    COMPANY_ADMIN = "company_admin"
    COMPANY_MEMBER = "company_member"


# The `role` claim of a partner system's client-credentials token: not a person's role.
PARTNER_ROLE = "partner"
