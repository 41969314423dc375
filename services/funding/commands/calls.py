"""Staff-entered calls, the copy of member companies, saved searches, and the calendar's work (statuses moved on,
deadline reminders)."""

from __future__ import annotations

from datetime import datetime

from services.funding import domain, store
from services.funding.classifications import canonical_region
from services.funding.commands import matches
from services.funding.commands.ingest import apply_changes, call_values, dated_values, ingest
from services.funding.domain import CallRecord, Source
from services.funding.events import CallClosingSoon, CallSummary, CallUpdated
from services.funding.models import (
    CallCreate,
    CallFields,
    CallUpdate,
    CompanyFact,
    FundingCall,
    MemberCompany,
    ReminderSent,
    SavedSearch,
    SavedSearchCreate,
)
from shared.ids import new_id
from shared.unit_of_work import UnitOfWork


async def create_call(uow: UnitOfWork, data: CallCreate) -> FundingCall:
    """A call the network's staff enter: taken in as a source's, so it is matched and announced the same way."""
    report = await ingest(uow, Source.STAFF, [_staff_record(data, external_id=new_id())])
    return await store.get_call(uow.session, report.published[0])


async def update_call(uow: UnitOfWork, call_id: str, update: CallUpdate) -> FundingCall:
    call = await store.get_call(uow.session, call_id)
    domain.ensure_edited_by_staff(call.source)
    current = call.model_dump(include=set(CallFields.model_fields)) | {"status": call.stated_status}
    edited = CallCreate.edited(current, update)
    now = uow.now()
    if changed := apply_changes(call, call_values(_staff_record(edited, call.external_id), now), now):
        uow.publish(CallUpdated(call_id=call.id, call=CallSummary.of(call), changed=changed))
        await matches.match_calls(uow, [call])
        await uow.commit()
    return call


def _staff_record(data: CallCreate, external_id: str) -> CallRecord:
    fields = data.model_dump(exclude={"status", "deadlines", "sizes", "regions", "ateco_codes", "keywords", "tags"})
    return CallRecord(
        source=Source.STAFF,
        external_id=external_id,
        status=data.status,
        deadlines=tuple(data.deadlines),
        sizes=frozenset(data.sizes),
        regions=frozenset(data.regions),
        ateco_codes=tuple(data.ateco_codes),
        keywords=tuple(data.keywords),
        tags=tuple(data.tags),
        **fields,
    )


async def remember_company(uow: UnitOfWork, company: CompanyFact) -> None:
    """Keep the copy of a member company that matching reads, and match it again when what matters changed."""
    copy = _company_copy(company, uow.now())
    known = await uow.session.get(MemberCompany, company.id)
    if known is None:
        known = copy
        uow.session.add(known)
    else:
        changed = [name for name in _COPIED if getattr(known, name) != getattr(copy, name)]
        if not changed:
            return
        for name in [*changed, "updated_at"]:
            setattr(known, name, getattr(copy, name))
    await matches.match_company(uow, known)


# The fields of the copy that come from the company fact: a fact that changes none of them is not news here.
_COPIED = ("legal_name", "status", "size_class", "region", "ateco_codes", "interests")


def _company_copy(company: CompanyFact, now: datetime) -> MemberCompany:
    """What matching reads of a company: every ATECO code it works in, and all it says it cares about."""
    return MemberCompany(
        id=company.id,
        legal_name=company.legal_name,
        status=company.status,
        size_class=company.size_class,
        region=canonical_region(company.region or ""),
        ateco_codes=[company.ateco_primary, *company.ateco_secondary],
        interests=[*company.capabilities, *company.interests, *company.certifications, *company.export_markets],
        updated_at=now,
    )


async def save_search(uow: UnitOfWork, data: SavedSearchCreate, person_id: str, company_id: str | None) -> SavedSearch:
    search = SavedSearch(**data.model_dump(), person_id=person_id, company_id=company_id, created_at=uow.now())
    uow.session.add(search)
    await uow.commit()
    return search


async def delete_search(uow: UnitOfWork, search: SavedSearch) -> None:
    await store.delete_searches(uow.session, [search])
    await uow.commit()


async def forget_person(uow: UnitOfWork, person_id: str) -> None:
    """GDPR erasure: the person's saved searches go; nothing else here says who they are."""
    await store.delete_searches(uow.session, await store.searches_of(uow.session, person_id))


async def refresh_statuses(uow: UnitOfWork) -> int:
    """Calls whose dates say they opened or closed since: announce it, and match those that opened."""
    now = uow.now()
    moved = []
    for call in await store.calls_due_for_status_check(uow.session, now):
        dated = dated_values(call.stated_status, call.opens_at, tuple(call.deadlines), now)
        if changed := apply_changes(call, dated, now):
            uow.publish(CallUpdated(call_id=call.id, call=CallSummary.of(call), changed=changed))
            moved.append(call)
    await matches.match_calls(uow, moved)
    await uow.commit()
    return len(moved)


async def send_reminders(uow: UnitOfWork, leads_in_days: tuple[int, ...] = domain.REMINDER_DAYS) -> int:
    """`funding.call.closing_soon` before each deadline of an open call, once per deadline and lead time, naming
    the companies the call matches. Marked sent in the transaction that announces it, so a restart or a second
    replica never sends it twice."""
    now = uow.now()
    sent = 0
    for call in await store.calls_with_deadline_before(uow.session, domain.reminder_horizon(now, leads_in_days)):
        for deadline in call.deadlines:
            lead = domain.reminder_due(now, deadline, leads_in_days)
            if lead is None or await store.reminder_sent(uow.session, call.id, deadline, lead):
                continue
            uow.session.add(ReminderSent(call_id=call.id, deadline=deadline, days_before=lead, sent_at=now))
            if company_ids := await store.matched_companies(uow.session, call.id):
                uow.publish(
                    CallClosingSoon(
                        call_id=call.id,
                        call=CallSummary.of(call),
                        deadline=deadline,
                        days_before=lead,
                        company_ids=company_ids,
                    )
                )
                sent += 1
    await uow.commit()
    return sent
