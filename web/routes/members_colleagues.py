"""My company's people: the list; for a company admin, inviting a colleague by email (they set their own password
from the link) and removing one (the members API's erasure: their account and what every service holds of them
goes, so the page asks first)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shared.ids import Id
from shared.membership import Role
from web.dependencies import PagesDep
from web.gateway import ApiError
from web.i18n import LANGUAGES
from web.routes.members_area import FORBIDDEN, NOT_FOUND, UNAVAILABLE_FROM, MemberApi, MemberApiDep, page_error
from web.routes.members_company import company_of

router = APIRouter()
INVITED_ROLES = (Role.COMPANY_MEMBER, Role.COMPANY_ADMIN)


def admin_only(api: MemberApi) -> str:
    """The company of a company admin: only they invite and remove colleagues."""
    company_id = company_of(api)
    if not api.member.is_company_admin:
        raise HTTPException(FORBIDDEN, "company admins only")
    return company_id


async def people_of(api: MemberApi, company_id: str) -> list[dict[str, Any]] | None:
    found = await api.section(f"/members/companies/{company_id}/people")
    if found is None:
        return None
    present = [p for p in found if not p.get("erased_at")]
    return sorted(present, key=lambda p: (p.get("family_name", "").casefold(), p.get("given_name", "").casefold()))


@router.get("/company/colleagues", response_class=HTMLResponse)
async def colleagues(request: Request, pages: PagesDep, api: MemberApiDep, done: str = "") -> HTMLResponse:
    company_id = company_of(api)
    return await colleagues_page(request, pages, api, company_id, done=done)


async def colleagues_page(
    request: Request,
    pages: PagesDep,
    api: MemberApi,
    company_id: str,
    done: str = "",
    invitation: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    refused: str = "",
) -> HTMLResponse:
    return pages.render(
        request,
        "members/colleagues.html.j2",
        done=done,
        people=await people_of(api, company_id),
        editable=api.member.is_company_admin,
        me=api.member.person.person_id,
        invitation=invitation or {"email": "", "role": Role.COMPANY_MEMBER, "language": request.state.language},
        roles=INVITED_ROLES,
        languages=LANGUAGES,
        errors=errors or {},
        refused=refused,
    )


@router.post("/company/colleagues/invitations", response_class=HTMLResponse)
async def invite(
    request: Request,
    pages: PagesDep,
    api: MemberApiDep,
    email: Annotated[str, Form(max_length=320)] = "",
    role: Annotated[str, Form(max_length=40)] = Role.COMPANY_MEMBER,
    language: Annotated[str, Form(max_length=5)] = "it",
) -> Response:
    company_id = admin_only(api)
    invitation = {"email": email.strip(), "role": role, "language": language}
    if not invitation["email"]:
        return await colleagues_page(request, pages, api, company_id, invitation=invitation, errors={"email": "empty"})
    try:
        await api.post(f"/members/companies/{company_id}/invitations", invitation)
    except ApiError as error:
        if error.status >= UNAVAILABLE_FROM:
            raise page_error(error) from error
        fields = {name.split(".")[0]: message for name, message in error.fields.items()}
        return await colleagues_page(
            request,
            pages,
            api,
            company_id,
            invitation=invitation,
            errors=fields,
            refused="" if fields else error.message,
        )
    return RedirectResponse("/company/colleagues?done=invited", status_code=303)


async def colleague(api: MemberApi, company_id: str, person_id: str) -> dict[str, Any]:
    """One of the company's people, not oneself (one's own data is erased from My data)."""
    found = await api.subject(f"/members/people/{person_id}")
    if found.get("company_id") != company_id or person_id == api.member.person.person_id or found.get("erased_at"):
        raise HTTPException(NOT_FOUND, "not a colleague")
    return dict(found)


@router.get("/company/colleagues/{person_id:id}/remove", response_class=HTMLResponse)
async def removal_question(person_id: Id, request: Request, pages: PagesDep, api: MemberApiDep) -> HTMLResponse:
    company_id = admin_only(api)
    found = await colleague(api, company_id, person_id)
    return pages.render(request, "members/colleague_removal.html.j2", done="", colleague=found)


@router.post("/company/colleagues/{person_id:id}/remove")
async def remove(person_id: Id, api: MemberApiDep) -> RedirectResponse:
    company_id = admin_only(api)
    await colleague(api, company_id, person_id)
    try:
        await api.post(f"/members/people/{person_id}/erasure")
    except ApiError as error:
        raise page_error(error) from error
    return RedirectResponse("/company/colleagues?done=removed", status_code=303)
