"""The network's governance: its offices and the terms people serve in them."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from shared.errors import DomainError


class GovernanceOffice(StrEnum):
    PRESIDENT = "president"
    VICE_PRESIDENT = "vice_president"
    TECHNICAL_COORDINATOR = "technical_coordinator"
    COUNCIL_MEMBER = "council_member"
    ORGANO_COMUNE = "organo_comune"


def check_term_dates(term_from: date, term_to: date | None) -> None:
    """A term of office never ends before it starts (an open term has no end yet)."""
    if term_to is not None and term_to < term_from:
        raise DomainError("a term cannot end before it starts")
