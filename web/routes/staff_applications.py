"""The network's office: membership applications. The queue, oldest first; one application with the company's data,
its applicant and the Partita IVA and ATECO checks; approving it, or rejecting it with a reason (the members
service tells the applicant, in their language). Only the office (role network_admin) sees these pages: anyone
else signed in gets the site's error page, anyone signed out the login page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shared.ids import Id
from shared.membership import MembershipStatus, Role
from web.dependencies import PagesDep, SessionDep
from web.forms import ateco_problem, partita_iva_problem
from web.gateway import ApiError
from web.i18n import N_
from web.routes.members_area import FORBIDDEN, UNAVAILABLE_FROM, MemberApi, MemberApiDep, page_error

router = APIRouter(prefix="/staff/applications")
QUEUE = "/staff/applications"
QUEUE_PAGE_SIZE = 100  # the most the members API gives in one page


async def office_api(api: MemberApiDep) -> MemberApi:
    """The gateway on behalf of a person of the network's office; anyone else may not see these pages."""
    if api.member.person.role != Role.NETWORK_ADMIN:
        raise HTTPException(FORBIDDEN, "the network's office only")
    return api


OfficeApiDep = Annotated[MemberApi, Depends(office_api)]


async def applications(api: MemberApi) -> list[dict[str, Any]] | None:
    """Every company waiting for a decision, oldest application first; None when the members API cannot answer."""
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        answer = await api.section(
            "/members/companies",
            {"status": MembershipStatus.APPLIED.value, "page": page, "page_size": QUEUE_PAGE_SIZE},
        )
        if answer is None:
            return None
        found.extend(answer["items"])
        if len(found) >= answer["total"] or not answer["items"]:
            return sorted(found, key=lambda company: str(company["created_at"]))
        page += 1


def applicant_of(people: list[dict[str, Any]] | None) -> dict[str, Any] | None:
    """The person who applied: the company's first admin (a company applying has no one else yet)."""
    admins = [p for p in people or [] if p.get("role") == Role.COMPANY_ADMIN and not p.get("erased_at")]
    return min(admins, key=lambda p: str(p.get("created_at", ""))) if admins else None


def checks_of(company: dict[str, Any]) -> dict[str, str | None]:
    """What the office checks before deciding: each a problem to read (a msgid), or None when it is fine."""
    codes = ", ".join([company["ateco_primary"], *company.get("ateco_secondary", [])])
    return {"partita_iva": partita_iva_problem(company["partita_iva"]), "ateco": ateco_problem(codes)}


@router.get("", response_class=HTMLResponse)
async def queue(request: Request, pages: PagesDep, api: OfficeApiDep) -> HTMLResponse:
    return pages.render(request, "staff/applications.html.j2", applications=await applications(api))


@router.get("/{company_id:id}", response_class=HTMLResponse)
async def application(company_id: Id, request: Request, pages: PagesDep, api: OfficeApiDep) -> HTMLResponse:
    return await application_page(request, pages, api, company_id)


async def application_page(
    request: Request,
    pages: PagesDep,
    api: MemberApi,
    company_id: str,
    reason: str = "",
    errors: dict[str, str] | None = None,
    refused: str = "",
) -> HTMLResponse:
    company = await api.subject(f"/members/companies/{company_id}")
    people = await api.section(f"/members/companies/{company_id}/people")
    return pages.render(
        request,
        "staff/application.html.j2",
        company=company,
        pending=company["status"] == MembershipStatus.APPLIED,
        applicant=applicant_of(people),
        people_known=people is not None,
        checks=checks_of(company),
        reason=reason,
        errors=errors or {},
        refused=refused,
    )


async def decided(
    request: Request, pages: PagesDep, api: MemberApi, session: SessionDep, company_id: str, action: str, reason: str
) -> Response:
    """The decision sent to the members API: back to the queue with a confirmation, or the page again with why not."""
    try:
        await api.post(f"/members/companies/{company_id}/{action}", {"reason": reason or None})
    except ApiError as error:
        if error.status >= UNAVAILABLE_FROM:
            raise page_error(error) from error
        fields = {name.split(".")[0]: message for name, message in error.fields.items()}
        return await application_page(
            request, pages, api, company_id, reason, errors=fields, refused="" if fields else error.message
        )
    session.tell(
        N_("The application is approved: the company is now a member of the network.")
        if action == "approve"
        else N_("The application is rejected: the applicant is told why.")
    )
    return RedirectResponse(QUEUE, status_code=303)


@router.post("/{company_id:id}/approve", response_class=HTMLResponse)
async def approve(
    company_id: Id, request: Request, pages: PagesDep, api: OfficeApiDep, session: SessionDep
) -> Response:
    return await decided(request, pages, api, session, company_id, "approve", "")


@router.post("/{company_id:id}/reject", response_class=HTMLResponse)
async def reject(
    company_id: Id,
    request: Request,
    pages: PagesDep,
    api: OfficeApiDep,
    session: SessionDep,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    if not reason.strip():
        return await application_page(request, pages, api, company_id, reason, errors={"reason": "empty"})
    return await decided(request, pages, api, session, company_id, "reject", reason.strip())
