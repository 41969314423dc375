"""Events: the list, an event's page, a guest's registration for a public event (name, company, email, language:
the confirmation comes in theirs), the event in a calendar (.ics) and the public calendar to subscribe to."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse

from web.dependencies import CallerDep, GatewayDep, PagesDep
from web.gateway import ApiError, Caller, Gateway
from web.i18n import LANGUAGES, N_
from web.routes.public.directory import REQUIRED

router = APIRouter()
PUBLIC_CALENDAR = "/api/events/calendar.ics"
EVENT_TYPES = ("trade_fair", "training", "networking", "b2b_meeting", "company_event", "webinar", "mission")


@router.get("/events", response_class=HTMLResponse)
async def events(request: Request, pages: PagesDep, api: GatewayDep, caller: CallerDep, type: str = "") -> HTMLResponse:
    asked_type = type if type in EVENT_TYPES else ""
    try:
        found = await api.get("/events/events", caller, {"type": asked_type} if asked_type else None)
    except ApiError as error:
        raise HTTPException(503, "events unavailable") from error
    return pages.render(
        request,
        "public/events.html.j2",
        events=found,
        asked_type=asked_type,
        types=EVENT_TYPES,
        public_calendar=PUBLIC_CALENDAR,
        calendar_subscription=calendar_subscription(request),
    )


def calendar_subscription(request: Request) -> str:
    """webcal:// makes calendar apps subscribe rather than import once; the site's own address, as configured
    (behind the gateway the Host header has no port)."""
    public_url: str = request.app.state.settings.public_url
    return "webcal://" + public_url.split("://", 1)[-1].rstrip("/") + PUBLIC_CALENDAR


@router.get("/events/{event_id}", response_class=HTMLResponse)
async def event_page(
    request: Request, event_id: str, pages: PagesDep, api: GatewayDep, caller: CallerDep
) -> HTMLResponse:
    event = await one_event(api, caller, event_id)
    return pages.render(
        request,
        "public/event.html.j2",
        event=event,
        form={},
        errors={},
        registration=None,
        calendar_subscription=calendar_subscription(request),
    )


async def one_event(api: Gateway, caller: Caller, event_id: str) -> dict[str, Any]:
    try:
        event: dict[str, Any] = await api.get(f"/events/events/{event_id}", caller)
    except ApiError as error:
        if error.status in (404, 422):
            raise HTTPException(404, "no such event") from error
        raise HTTPException(503, "events unavailable") from error
    return event


@router.post("/events/{event_id}/registrations", response_class=HTMLResponse)
async def register(
    request: Request,
    event_id: str,
    pages: PagesDep,
    api: GatewayDep,
    caller: CallerDep,
    name: Annotated[str, Form(max_length=200)] = "",
    company: Annotated[str, Form(max_length=200)] = "",
    email: Annotated[str, Form(max_length=320)] = "",
    language: Annotated[str, Form(max_length=2)] = "",
) -> HTMLResponse:
    """A guest registers with their details; a signed-in member registers as themselves (the token says who)."""
    event = await one_event(api, caller, event_id)
    form = {"name": name.strip(), "company": company.strip(), "email": email.strip(), "language": language}
    as_member = caller.access_token is not None
    errors = {} if as_member else {field: REQUIRED for field in ("name", "email") if not form[field]}
    registration = None
    if not errors:
        guest = {
            **form,
            "company": form["company"] or None,
            "language": language if language in LANGUAGES else caller.language,
        }
        try:
            registration = await api.post(
                f"/events/events/{event_id}/registrations", caller, {} if as_member else {"guest": guest}
            )
        except ApiError as error:
            errors = registration_errors(error)
    return pages.render(
        request,
        "public/event.html.j2",
        event=event,
        form=form,
        errors=errors,
        registration=registration,
        calendar_subscription=calendar_subscription(request),
    )


def registration_errors(error: ApiError) -> dict[str, str]:
    """Field messages beside the guest's fields; the API's reason (full, closed, already registered) above them."""
    if error.status == 422 and error.fields:
        return {name.split(".")[-1]: message for name, message in error.fields.items()}
    if error.status < 500 and error.message:
        return {"form": error.message}
    return {"form": N_("The registration could not be made right now. Please try again in a few minutes.")}
