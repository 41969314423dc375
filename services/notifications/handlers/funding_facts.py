"""What the funding service's facts mean to people: a call that fits a company, to its people; a call's deadline
drawing near, to the people of the companies it matches; a new call for a person's saved search, to them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from services.notifications import store
from services.notifications.domain import Kind, deadline_to_tell
from services.notifications.messages import Context, DeliveryContext, Notice, Recipient
from services.notifications.models import CallSummary, ClosingSoonFact, ContactPerson, MatchFact, SearchFact
from shared.consumer import Fact, read_fact
from shared.envelope import CloudEvent
from shared.logs import correlated
from shared.unit_of_work import UnitOfWork


async def on_call_fact(uow: UnitOfWork, delivery_context: DeliveryContext, event: CloudEvent) -> None:
    if event.type != "funding.call.closing_soon":
        return
    fact = read_fact(ClosingSoonFact, event.data, "a closing call as funding.calls.v1 carries it")
    names, staff = await _companies_and_people(uow, fact.company_ids)
    batch = await delivery_context.batch(uow, [person for people in staff.values() for person in people])
    for company_id in fact.company_ids:
        extra = {"company_name": names.get(company_id), "days_before": fact.days_before, "deadline": fact.deadline}
        context = _call_context(fact.call, extra, uow.now())
        batch.add(
            Notice(event.id, Kind.CALL_CLOSING_SOON, context, _call_link(delivery_context, fact.call)),
            staff[company_id],
        )
    await batch.insert()


async def on_match_facts(uow: UnitOfWork, delivery_context: DeliveryContext, facts: Sequence[Fact]) -> None:
    """A call matched to many companies arrives as many facts at once: their companies, people and choices are
    read in one query each, and every message is written in one INSERT."""
    matches = [
        (fact, read_fact(MatchFact, fact.event.data, "a match as funding.matches.v1 carries it"))
        for fact in facts
        if fact.event.type == "funding.match.found"
    ]
    names, staff = await _companies_and_people(uow, {match.company_id for _, match in matches})
    batch = await delivery_context.batch(uow, [person for people in staff.values() for person in people])
    for fact, match in matches:
        extra = {"company_name": names.get(match.company_id), "reasons": match.reasons}
        notice = Notice(
            fact.event.id,
            Kind.FUNDING_MATCH,
            _call_context(match.call, extra, uow.now()),
            _call_link(delivery_context, match.call),
        )
        with correlated(fact.correlation_id):  # the in-app messages' announcements carry their own fact's id
            batch.add(notice, staff[match.company_id])
    await batch.insert()


async def on_search_fact(uow: UnitOfWork, delivery_context: DeliveryContext, event: CloudEvent) -> None:
    fact = read_fact(SearchFact, event.data, "a search match as funding.searches.v1 carries it")
    person = await uow.session.get(ContactPerson, fact.person_id)
    if person is None:
        return  # erased since they saved the search
    context = _call_context(fact.call, {"search_name": fact.search_name}, uow.now())
    notice = Notice(event.id, Kind.SEARCH_MATCHED, context, _call_link(delivery_context, fact.call))
    await delivery_context.deliver(uow, notice, [Recipient.person(person)])


def _call_context(call: CallSummary, extra: dict[str, Any], now: datetime) -> Context:
    deadline = deadline_to_tell(call.deadlines, now)

    def context(language: str) -> dict[str, Any]:
        preferred = [call.title_en, call.title_it] if language == "en" else [call.title_it, call.title_en]
        title = next((text for text in preferred if text), call.external_id)
        return {
            "call": {"title": title, "programme": call.programme, "deadline": deadline},
            **extra,
        }

    return context


def _call_link(delivery_context: DeliveryContext, call: CallSummary) -> str:
    return f"{delivery_context.web_url}/funding/calls/{call.id}"


async def _companies_and_people(
    uow: UnitOfWork, company_ids: Iterable[str]
) -> tuple[dict[str, str], defaultdict[str, list[Recipient]]]:
    """The names of companies and, for each, its people: one query each, however many companies."""
    company_ids = list(company_ids)
    staff: defaultdict[str, list[Recipient]] = defaultdict(list)
    for person in await store.people_of_companies(uow.session, company_ids):
        staff[person.company_id or ""].append(Recipient.person(person))
    return await store.company_names(uow.session, company_ids), staff
