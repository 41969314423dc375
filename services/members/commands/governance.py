"""The network's governance: terms of office start and end (staff)."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.members import store
from services.members.commands.access import ensure_staff
from services.members.domain import check_term_dates
from services.members.events import GovernanceTermEnded, GovernanceTermStarted
from services.members.models import GovernanceTerm, GovernanceTermCreate
from shared.auth import Principal
from shared.errors import NotFound
from shared.unit_of_work import UnitOfWork


def _term_event_fields(term: GovernanceTerm) -> dict[str, Any]:
    return {
        "term_id": term.id,
        "person_id": term.person_id,
        "office": term.office,
        "term_from": term.term_from,
        "term_to": term.term_to,
    }


async def start_governance_term(uow: UnitOfWork, data: GovernanceTermCreate, actor: Principal) -> GovernanceTerm:
    ensure_staff(actor)
    await store.get_person(uow.session, data.person_id)
    term = GovernanceTerm.model_validate(data.model_dump())
    uow.session.add(term)
    uow.publish(GovernanceTermStarted(**_term_event_fields(term)))
    await uow.commit()
    return term


async def end_governance_term(uow: UnitOfWork, term_id: str, term_to: date, actor: Principal) -> GovernanceTerm:
    ensure_staff(actor)
    term = await uow.session.get(GovernanceTerm, term_id)
    if term is None:
        raise NotFound(f"no governance term with id {term_id}")
    check_term_dates(term.term_from, term_to)
    term.term_to = term_to
    uow.session.add(term)
    uow.publish(GovernanceTermEnded(**_term_event_fields(term)))
    await uow.commit()
    return term
