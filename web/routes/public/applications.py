"""Applying for membership: one form, the Partita IVA and ATECO codes checked as the applicant types them (htmx
asks /apply/check/<field> and shows the answer beside the field), the rest checked by the members API, whose
messages are shown beside their fields too."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData

from shared.membership import Capability
from web.dependencies import CallerDep, GatewayDep, PagesDep
from web.forms import ateco_problem, comma_list, euros, partita_iva_problem, whole_number
from web.gateway import ApiError
from web.i18n import LANGUAGES, N_, country_names
from web.templating import Pages

router = APIRouter()
CAPABILITIES = tuple(Capability)
LEGAL_FORMS = ("S.r.l.", "S.r.l.s.", "S.p.A.", "S.n.c.", "S.a.s.", "Ditta individuale", "Società cooperativa")
WORKING_LANGUAGES = ("it", "en", "de", "fr", "es", "pt", "ru", "zh", "ja", "ar")
TEXT_FIELDS = (
    "legal_name", "legal_form", "partita_iva", "codice_fiscale", "ateco_primary", "ateco_secondary", "employees",
    "turnover_eur", "street", "postal_code", "comune", "frazione", "province", "website", "certifications",
    "description_it", "description_en", "applicant.given_name", "applicant.family_name", "applicant.email",
    "applicant.language",
)  # fmt: skip
REQUIRED = ("legal_name", "partita_iva", "ateco_primary", "employees", "turnover_eur", "applicant.given_name",
            "applicant.family_name", "applicant.email")  # fmt: skip
LIVE_CHECKS = {"partita_iva", "ateco_primary", "ateco_secondary"}


@router.get("/apply", response_class=HTMLResponse)
async def apply_page(request: Request, pages: PagesDep, caller: CallerDep) -> HTMLResponse:
    typed = {"comune": "Capannori", "province": "LU", "legal_form": "S.r.l.", "applicant.language": caller.language}
    return application_form(request, pages, caller.language, typed, {})


@router.get("/apply/check/{field}", response_class=HTMLResponse)
async def check_field(request: Request, field: str, pages: PagesDep) -> HTMLResponse:
    """The answer beside one field while the applicant types (htmx sends the field's value under its name)."""
    if field not in LIVE_CHECKS:
        raise HTTPException(404, "no such check")
    problem = field_problem(field, request.query_params.get(field, ""))
    return pages.render(request, "public/field_check.html.j2", field=field, problem=problem)


def field_problem(field: str, typed: str) -> str | None:
    if field == "partita_iva":
        return partita_iva_problem(typed)
    return ateco_problem(typed, required=field == "ateco_primary")


@router.post("/apply", response_class=HTMLResponse)
async def apply(request: Request, pages: PagesDep, api: GatewayDep, caller: CallerDep) -> HTMLResponse:
    form = await request.form()
    typed = {name: str(form.get(name, "")).strip() for name in TEXT_FIELDS}
    errors = form_problems(typed, str(form.get("applicant.password", "")))
    if errors:
        return application_form(request, pages, caller.language, typed, errors, form)
    try:
        created = await api.post("/members/companies/applications", caller, application_body(typed, form))
    except ApiError as error:
        return application_form(request, pages, caller.language, typed, api_problems(error), form)
    return pages.render(request, "public/applied.html.j2", company=created, email=typed["applicant.email"])


def application_form(
    request: Request,
    pages: Pages,
    language: str,
    typed: dict[str, str],
    errors: dict[str, str],
    form: FormData | None = None,
) -> HTMLResponse:
    """The form, empty or again with what was typed (never the password) and each message beside its field; 200
    either way (see web/routes/account.py)."""
    chosen = {name: form.getlist(name) if form else [] for name in ("capabilities", "export_markets", "languages")}
    return pages.render(
        request,
        "public/apply.html.j2",
        typed=typed,
        chosen=chosen,
        errors=errors,
        capabilities=CAPABILITIES,
        legal_forms=LEGAL_FORMS,
        working_languages=WORKING_LANGUAGES,
        countries=sorted(country_names(language).items(), key=lambda country: country[1]),
    )


def form_problems(typed: dict[str, str], password: str) -> dict[str, str]:
    """What can be said before asking the API: missing fields, the Partita IVA, ATECO codes, numbers."""
    errors = {name: N_("Please fill this in.") for name in REQUIRED if not typed[name]}
    if not password:
        errors["applicant.password"] = N_("Please fill this in.")
    elif len(password) < 12:
        errors["applicant.password"] = N_("At least 12 characters.")
    for field in LIVE_CHECKS:
        if typed[field] and (problem := field_problem(field, typed[field])):
            errors[field] = problem
    if typed["employees"] and whole_number(typed["employees"]) is None:
        errors["employees"] = N_("A whole number, e.g. 12.")
    if typed["turnover_eur"] and whole_number(typed["turnover_eur"]) is None:
        errors["turnover_eur"] = N_("An amount in euros, e.g. 1.250.000.")
    return errors


def application_body(typed: dict[str, str], form: FormData) -> dict[str, Any]:
    turnover = euros(typed["turnover_eur"])
    return {
        "legal_name": typed["legal_name"],
        "legal_form": typed["legal_form"] or "S.r.l.",
        "partita_iva": typed["partita_iva"].replace(" ", ""),
        "codice_fiscale": typed["codice_fiscale"].replace(" ", "") or None,
        "ateco_primary": typed["ateco_primary"],
        "ateco_secondary": comma_list(typed["ateco_secondary"]),
        "employees": whole_number(typed["employees"]),
        "turnover_eur": int(turnover) if turnover is not None else None,
        "street": typed["street"],
        "postal_code": typed["postal_code"],
        "comune": typed["comune"] or "Capannori",
        "frazione": typed["frazione"] or None,
        "province": (typed["province"] or "LU").upper(),
        "website": typed["website"] or None,
        "capabilities": [c for c in form.getlist("capabilities") if c in CAPABILITIES],
        "certifications": comma_list(typed["certifications"]),
        "export_markets": [str(code) for code in form.getlist("export_markets")],
        "languages": [str(code) for code in form.getlist("languages") if code in WORKING_LANGUAGES],
        "description_it": typed["description_it"],
        "description_en": typed["description_en"],
        "applicant": {
            "given_name": typed["applicant.given_name"],
            "family_name": typed["applicant.family_name"],
            "email": typed["applicant.email"],
            "password": str(form.get("applicant.password", "")),
            "language": typed["applicant.language"] if typed["applicant.language"] in LANGUAGES else "it",
        },
    }


def api_problems(error: ApiError) -> dict[str, str]:
    """The API's messages by field (list positions dropped: ateco_secondary.1 is said beside ateco_secondary)."""
    if error.fields:
        return {".".join(p for p in name.split(".") if not p.isdigit()): text for name, text in error.fields.items()}
    if error.status == 409:
        return {"partita_iva": error.message or N_("A company with this Partita IVA has already applied.")}
    if error.status < 500 and error.message:
        return {"form": error.message}
    return {"form": N_("The application could not be sent right now. Please try again in a few minutes.")}
