"""My company: its profile (a company admin edits it; what identifies the company, and what follows from its
membership, is shown read-only), its fees."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shared.membership import Capability
from web.dependencies import PagesDep
from web.gateway import ApiError
from web.routes.members_area import NOT_FOUND, UNAVAILABLE_FROM, MemberApi, MemberApiDep, page_error
from web.routes.members_forms import Unreadable, country_codes, parse_count, parse_whole_euros, split_list

router = APIRouter()
TEXT_FIELDS = (
    "legal_name",
    "legal_form",
    "ateco_primary",
    "street",
    "postal_code",
    "comune",
    "frazione",
    "province",
    "region",
    "website",
    "description_it",
    "description_en",
)
# Emptied, these say "none" to the API rather than "blank".
CLEARABLE = frozenset({"frazione", "website"})
LIST_FIELDS = ("ateco_secondary", "certifications", "languages", "interests")
EURO_FIELDS = ("turnover_eur", "balance_sheet_eur")
REQUIRED = frozenset({"legal_name", "ateco_primary", "employees", "turnover_eur"})
CAPABILITIES = tuple(Capability)


def company_of(api: MemberApi) -> str:
    """The signed-in person's company; network staff have none, and these pages are not theirs."""
    if api.member.company_id is None:
        raise HTTPException(NOT_FOUND, "no company")
    return api.member.company_id


def profile_update(form: dict[str, Any], language: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The edit form as the API's CompanyUpdate, and the codes of the fields that could not be read."""
    update: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for name in TEXT_FIELDS:
        value = str(form.get(name, "")).strip()
        update[name] = None if name in CLEARABLE and not value else value
    for name in LIST_FIELDS:
        update[name] = split_list(str(form.get(name, "")))
    update["capabilities"] = [code for code in form.get("capabilities", []) if code in CAPABILITIES]
    update["public_listing"] = form.get("public_listing") == "on"
    markets, unknown = country_codes(str(form.get("export_markets", "")), language)
    update["export_markets"] = markets
    if unknown:
        problems["export_markets"] = "unknown_countries"
    try:
        update["employees"] = parse_count(str(form.get("employees", "")))
    except Unreadable as error:
        problems["employees"] = error.code
    for name in EURO_FIELDS:
        try:
            update[name] = parse_whole_euros(str(form.get(name, "")), language)
        except Unreadable as error:
            problems[name] = error.code
    for name in REQUIRED:
        if name not in problems and update.get(name) in (None, ""):
            problems[name] = "empty"
    return update, problems


def form_of_company(company: dict[str, Any]) -> dict[str, Any]:
    """The company as the edit form shows it: lists joined with commas, countries by code (the page names them)."""
    shown = {name: company.get(name) or "" for name in TEXT_FIELDS}
    shown |= {name: ", ".join(company.get(name) or []) for name in LIST_FIELDS}
    shown |= {name: company.get(name) for name in (*EURO_FIELDS, "employees")}
    shown["capabilities"] = list(company.get("capabilities") or [])
    shown["export_markets"] = list(company.get("export_markets") or [])
    shown["public_listing"] = bool(company.get("public_listing"))
    return shown


@router.get("/company", response_class=HTMLResponse)
async def company(request: Request, pages: PagesDep, api: MemberApiDep, done: str = "") -> HTMLResponse:
    found = await api.subject(f"/members/companies/{company_of(api)}")
    return company_page(request, pages, api, found, form_of_company(found), {}, done=done)


def company_page(
    request: Request,
    pages: PagesDep,
    api: MemberApi,
    found: dict[str, Any],
    form: dict[str, Any],
    errors: dict[str, str],
    done: str = "",
    refused: str = "",
) -> HTMLResponse:
    return pages.render(
        request,
        "members/company.html.j2",
        done=done,
        company=found,
        form=form,
        errors=errors,
        refused=refused,
        editable=api.member.is_company_admin,
        capabilities=CAPABILITIES,
    )


@router.post("/company", response_class=HTMLResponse)
async def save_company(request: Request, pages: PagesDep, api: MemberApiDep) -> Response:
    company_id = company_of(api)
    found = await api.subject(f"/members/companies/{company_id}")
    sent = await request.form()
    form = {key: sent.getlist(key) if key == "capabilities" else sent.get(key) for key in sent}
    update, problems = profile_update(form, request.state.language)
    shown = form_of_company(found) | {k: v for k, v in form.items() if k != "csrf_token"}
    shown["capabilities"] = update["capabilities"]
    shown["public_listing"] = update["public_listing"]
    if problems:
        return company_page(request, pages, api, found, shown, problems)
    try:
        await api.send("PATCH", f"/members/companies/{company_id}", update)
    except ApiError as error:
        if error.status >= UNAVAILABLE_FROM:
            raise page_error(error) from error
        fields = {name.split(".")[0]: message for name, message in error.fields.items()}
        return company_page(request, pages, api, found, shown, fields, refused="" if fields else error.message)
    return RedirectResponse("/company?done=profile_saved", status_code=303)


@router.get("/company/fees", response_class=HTMLResponse)
async def fees(request: Request, pages: PagesDep, api: MemberApiDep) -> HTMLResponse:
    company_id = company_of(api)
    found, company = await asyncio.gather(
        api.section(f"/members/companies/{company_id}/fees"),
        api.section(f"/members/companies/{company_id}"),
    )
    ordered = sorted(found, key=lambda fee: fee["year"], reverse=True) if found is not None else None
    return pages.render(request, "members/fees.html.j2", done="", fees=ordered, company=company)
