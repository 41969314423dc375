"""What each consumed fact means for people: whom to tell what. The handlers (handlers.py) call one function
per topic; each keeps the service's copy up to date first, then writes its notices."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from services.notifications import commands, store
from services.notifications.commands import Context, Notice, Postman, Recipient, people
from services.notifications.domain import Kind
from services.notifications.models import ContactCompany, ContactPerson, KnownEvent
from shared.calendar import CalendarEntry, calendar_of
from shared.consumer import Fact
from shared.envelope import CloudEvent
from shared.logs import correlated
from shared.unit_of_work import UnitOfWork

NETWORK_ADMIN = "network_admin"
COMPANY_ADMIN = "company_admin"
# Registrations that still hold or wait for a seat: their people hear about changes and cancellations.
ACTIVE_REGISTRATIONS = ("pending", "confirmed", "waitlisted", "offered")
# Changes to an event worth writing to its registrants about.
NOTEWORTHY_CHANGES = {
    "starts_at": {"it": "data e ora", "en": "date and time"},
    "ends_at": {"it": "orario di fine", "en": "end time"},
    "venue": {"it": "luogo", "en": "venue"},
    "online_url": {"it": "collegamento online", "en": "online link"},
    "title_it": {"it": "titolo", "en": "title"},
    "title_en": {"it": "titolo", "en": "title"},
}


# ---- members ----------------------------------------------------------------------------------------------------

COMPANY_NOTICES = {
    "members.company.applied": Kind.APPLICATION_RECEIVED,
    "members.company.approved": Kind.COMPANY_APPROVED,
    "members.company.rejected": Kind.COMPANY_REJECTED,
}


async def company_fact(uow: UnitOfWork, postman: Postman, event: CloudEvent) -> None:
    company = event.data["company"]
    await commands.remember_company(uow, company)
    kind = COMPANY_NOTICES.get(event.type)
    if kind is None:
        return
    if kind == Kind.APPLICATION_RECEIVED:
        recipients = people(await store.people_with_role(uow.session, NETWORK_ADMIN))
        link = f"{postman.web_url}/staff/applications/{company['id']}"
    else:
        recipients = people(await store.people_of_company(uow.session, company["id"]))
        link = postman.web_url
    context = {"company": company, "reason": event.data.get("reason")}
    await postman.deliver(uow, Notice(event.id, kind, lambda _language: context, link), recipients)


async def person_fact(uow: UnitOfWork, postman: Postman, event: CloudEvent) -> None:
    if event.type == "members.person.erased":
        await commands.forget_person(uow, event.data["person_id"])
        return
    person = await commands.remember_person(uow, event.data["person"])
    if event.type == "members.person.joined":
        company_name = await _company_name(uow, person.company_id)
        notice = Notice(
            event.id, Kind.WELCOME, lambda _language: {"company_name": company_name}, f"{postman.web_url}/login"
        )
        await postman.deliver(uow, notice, [Recipient.person(person)])


async def fee_fact(uow: UnitOfWork, postman: Postman, event: CloudEvent) -> None:
    if event.type != "members.fee.overdue":
        return
    company_id = event.data["company_id"]
    context = {"fee": event.data, "company_name": await _company_name(uow, company_id)}
    admins = await store.people_of_company(uow.session, company_id, roles=[COMPANY_ADMIN])
    notice = Notice(event.id, Kind.FEE_OVERDUE, lambda _language: context, f"{postman.web_url}/company/fees")
    await postman.deliver(uow, notice, people(admins))


# ---- events -----------------------------------------------------------------------------------------------------


async def event_fact(uow: UnitOfWork, postman: Postman, event: CloudEvent) -> None:
    known = await commands.remember_event(uow, event.data["event"])
    link = _event_link(postman, known)
    if event.type == "events.event.published":
        everyone = await store.people_of_companies(uow.session, await store.active_company_ids(uow.session))
        await postman.deliver(
            uow, Notice(event.id, Kind.EVENT_ANNOUNCED, _event_context(known), link), people(everyone)
        )
    elif event.type == "events.event.updated":
        changed = [name for name in event.data.get("changed", []) if name in NOTEWORTHY_CHANGES]
        if changed:

            def context(language: str) -> dict[str, Any]:
                readable = list(dict.fromkeys(NOTEWORTHY_CHANGES[name][language] for name in changed))
                return {**_event_context(known)(language), "changed": readable}

            await postman.deliver(
                uow,
                Notice(event.id, Kind.EVENT_CHANGED, context, link, _calendar(known, postman)),
                await commands.registrants(uow, known.id, ACTIVE_REGISTRATIONS),
            )
    elif event.type == "events.event.cancelled":
        await postman.deliver(
            uow,
            Notice(event.id, Kind.EVENT_CANCELLED, _event_context(known), link, _calendar(known, postman)),
            await commands.registrants(uow, known.id, ACTIVE_REGISTRATIONS),
        )
    elif event.type == "events.event.starting_soon":
        await postman.deliver(
            uow,
            Notice(event.id, Kind.EVENT_STARTING_SOON, _event_context(known), link),
            await commands.registrants(uow, known.id, ["confirmed"]),
        )
    elif event.type == "events.event.completed" and known.event_type == "training":
        await postman.deliver(
            uow,
            Notice(event.id, Kind.FEEDBACK_REQUEST, _event_context(known), f"{link}/feedback"),
            await commands.attendees(uow, known.id),
        )


REGISTRATION_NOTICES = {
    "events.registration.confirmed": Kind.REGISTRATION_CONFIRMED,
    "events.registration.waitlisted": Kind.REGISTRATION_WAITLISTED,
    "events.registration.offered": Kind.SEAT_OFFERED,
    "events.registration.promoted": Kind.REGISTRATION_PROMOTED,
    "events.registration.rejected": Kind.REGISTRATION_REJECTED,
}


async def registration_fact(uow: UnitOfWork, postman: Postman, event: CloudEvent) -> None:
    registration = await commands.remember_registration(uow, event.data["registration"])
    kind = REGISTRATION_NOTICES.get(event.type)
    if kind is None:
        return
    # The fact carries its event; the copy from events.events.v1 wins when there is one, as that topic may
    # already have told a later change than this registration saw.
    known = await uow.session.get(KnownEvent, registration.event_id) or await commands.remember_event(
        uow, event.data["event"]
    )
    recipient = await commands.recipient_of(uow, registration)
    if recipient is None:
        return
    extra = {
        "position": event.data.get("position"),
        "reason": event.data.get("reason"),
        "offer_expires_at": event.data["registration"].get("offer_expires_at"),
        "price_due_cents": event.data["registration"].get("price_due_cents"),
    }

    def context(language: str) -> dict[str, Any]:
        return {**_event_context(known)(language), **extra}

    calendar = _calendar(known, postman) if kind in (Kind.REGISTRATION_CONFIRMED, Kind.REGISTRATION_PROMOTED) else None
    link = _event_link(postman, known)
    await postman.deliver(uow, Notice(event.id, kind, context, link, calendar), [recipient])


def _event_context(known: KnownEvent) -> Context:
    def context(language: str) -> dict[str, Any]:
        title = known.title_en if language == "en" and known.title_en else known.title_it
        return {
            "event": {
                "title": title,
                "starts_at": known.starts_at,
                "ends_at": known.ends_at,
                "venue": known.venue,
                "online_url": known.online_url,
                "time_zone": known.time_zone,
            }
        }

    return context


def _event_link(postman: Postman, known: KnownEvent) -> str:
    return f"{postman.web_url}/events/{known.id}"


def _calendar(known: KnownEvent, postman: Postman) -> str:
    entry = CalendarEntry(
        uid=f"{known.id}@filiera",
        stamp=known.updated_at,
        starts_at=known.starts_at,
        ends_at=known.ends_at,
        time_zone=known.time_zone,
        summary=known.title_it if not known.title_en else f"{known.title_it} / {known.title_en}",
        description="",
        location=known.online_url or known.venue,
        url=_event_link(postman, known),
        cancelled=known.status == "cancelled",
        categories=[known.event_type],
    )
    return calendar_of([entry], known.title_it).decode()


# ---- funding ----------------------------------------------------------------------------------------------------


async def call_fact(uow: UnitOfWork, postman: Postman, event: CloudEvent) -> None:
    if event.type != "funding.call.closing_soon":
        return
    call, company_ids = event.data["call"], event.data["company_ids"]
    names, staff = await _companies_and_people(uow, company_ids)
    mailbag = await postman.mailbag(uow, [person for people in staff.values() for person in people])
    for company_id in company_ids:
        extra = {
            "company_name": names.get(company_id),
            "days_before": event.data["days_before"],
            "deadline": datetime.fromisoformat(event.data["deadline"]),
        }
        mailbag.add(
            Notice(event.id, Kind.CALL_CLOSING_SOON, _call_context(call, extra), _call_link(postman, call)),
            staff[company_id],
        )
    await mailbag.post()


async def match_facts(uow: UnitOfWork, postman: Postman, facts: Sequence[Fact]) -> None:
    """A call matched to many companies arrives as many facts at once: their companies, people and choices are
    read in one query each, and every message is written in one INSERT."""
    matches = [fact for fact in facts if fact.event.type == "funding.match.found"]
    names, staff = await _companies_and_people(uow, {fact.event.data["company_id"] for fact in matches})
    mailbag = await postman.mailbag(uow, [person for people in staff.values() for person in people])
    for fact in matches:
        call, company_id = fact.event.data["call"], fact.event.data["company_id"]
        extra = {"company_name": names.get(company_id), "reasons": fact.event.data["reasons"]}
        with correlated(fact.correlation_id):  # the in-app messages' announcements carry their own fact's id
            mailbag.add(
                Notice(fact.event.id, Kind.FUNDING_MATCH, _call_context(call, extra), _call_link(postman, call)),
                staff[company_id],
            )
    await mailbag.post()


async def search_fact(uow: UnitOfWork, postman: Postman, event: CloudEvent) -> None:
    person = await uow.session.get(ContactPerson, event.data["person_id"])
    if person is None:
        return  # erased since they saved the search
    call = event.data["call"]
    extra = {"search_name": event.data["search_name"]}
    await postman.deliver(
        uow,
        Notice(event.id, Kind.SEARCH_MATCHED, _call_context(call, extra), _call_link(postman, call)),
        [Recipient.person(person)],
    )


def _call_context(call: dict[str, Any], extra: dict[str, Any]) -> Context:
    now = datetime.now(UTC)
    deadlines = sorted(datetime.fromisoformat(moment) for moment in call.get("deadlines", []))
    upcoming = [moment for moment in deadlines if moment > now] or deadlines[-1:]

    def context(language: str) -> dict[str, Any]:
        preferred = (
            [call.get("title_en"), call.get("title_it")]
            if language == "en"
            else [call.get("title_it"), call.get("title_en")]
        )
        title = next((text for text in preferred if text), call.get("external_id", ""))
        return {
            "call": {"title": title, "programme": call.get("programme"), "deadline": upcoming[0] if upcoming else None},
            **extra,
        }

    return context


def _call_link(postman: Postman, call: dict[str, Any]) -> str:
    return f"{postman.web_url}/funding/calls/{call['id']}"


# ---- shared lookups ---------------------------------------------------------------------------------------------


async def _companies_and_people(
    uow: UnitOfWork, company_ids: Iterable[str]
) -> tuple[dict[str, str], defaultdict[str, list[Recipient]]]:
    """The names of companies and, for each, its people: one query each, however many companies."""
    company_ids = list(company_ids)
    staff: defaultdict[str, list[Recipient]] = defaultdict(list)
    for person in await store.people_of_companies(uow.session, company_ids):
        staff[person.company_id or ""].append(Recipient.person(person))
    return await store.company_names(uow.session, company_ids), staff


async def _company_name(uow: UnitOfWork, company_id: str | None) -> str | None:
    company = await uow.session.get(ContactCompany, company_id) if company_id else None
    return company.legal_name if company else None
