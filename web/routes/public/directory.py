"""The directory for foreign buyers: free text and facets (capability, ATECO, certification, export market,
comune), pages of results, a page per company with a contact form.

The members API searches (text in both languages, capability, ATECO, certification, market). The facets' choices
and a company's own page come from the whole listing, read in one call of at most 100 entries a page and kept a
minute: the district has some 65 companies. The API has no comune filter, so a chosen comune joins the free text
(which matches a company's comune and frazione)."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse

from web.dependencies import CallerDep, GatewayDep, PagesDep
from web.gateway import ApiError, Caller, Gateway
from web.i18n import N_, country_names

router = APIRouter()
RESULTS_PER_PAGE = 12
LISTING_PAGE_SIZE = 100  # the API's largest page
LISTING_SECONDS = 60.0
SEARCH_PARAMETERS = ("q", "capability", "ateco", "certification", "market", "comune")


@dataclass
class Listing:
    """The whole directory in one language, as last read."""

    entries: list[dict[str, Any]]
    read_at: float

    def company(self, company_id: str) -> dict[str, Any] | None:
        return next((entry for entry in self.entries if entry["id"] == company_id), None)

    def facets(self, language: str) -> Facets:
        def counted(values: list[str]) -> list[tuple[str, int]]:
            return sorted(Counter(values).items())

        names = country_names(language)
        markets = Counter(code for entry in self.entries for code in entry["export_markets"])
        return Facets(
            capabilities=counted([c for entry in self.entries for c in entry["capabilities"]]),
            atecos=counted([entry["ateco_primary"] for entry in self.entries]),
            certifications=counted([c for entry in self.entries for c in entry["certifications"]]),
            markets=sorted(((code, names.get(code, code), n) for code, n in markets.items()), key=lambda m: m[1]),
            comuni=counted([place for entry in self.entries for place in places_of(entry)]),
        )


@dataclass
class Facets:
    capabilities: list[tuple[str, int]] = field(default_factory=list)
    atecos: list[tuple[str, int]] = field(default_factory=list)
    certifications: list[tuple[str, int]] = field(default_factory=list)
    markets: list[tuple[str, str, int]] = field(default_factory=list)  # code, name in the page's language, count
    comuni: list[tuple[str, int]] = field(default_factory=list)


def places_of(entry: dict[str, Any]) -> list[str]:
    """Where a company is, as buyers and the district name it: its comune and its frazione."""
    return [place for place in (entry.get("comune"), entry.get("frazione")) if place]


class Listings:
    """The listing per language, read again once it is a minute old."""

    def __init__(self) -> None:
        self._by_language: dict[str, Listing] = {}

    async def of(self, api: Gateway, caller: Caller) -> Listing:
        known = self._by_language.get(caller.language)
        now = time.monotonic()
        if known is None or now - known.read_at > LISTING_SECONDS:
            known = Listing(await whole_directory(api, caller), now)
            self._by_language[caller.language] = known
        return known


async def whole_directory(api: Gateway, caller: Caller) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    page = 1
    while True:
        answer = await api.get(
            "/members/directory", caller, {"lang": caller.language, "page": page, "page_size": LISTING_PAGE_SIZE}
        )
        entries += answer["items"]
        if len(entries) >= answer["total"] or not answer["items"]:
            return entries
        page += 1


def listings(request: Request) -> Listings:
    if not hasattr(request.app.state, "directory_listings"):
        request.app.state.directory_listings = Listings()
    found: Listings = request.app.state.directory_listings
    return found


def search_parameters(request: Request) -> dict[str, str]:
    return {name: request.query_params.get(name, "").strip()[:200] for name in SEARCH_PARAMETERS}


def api_query(asked: dict[str, str], language: str, page: int) -> dict[str, Any]:
    text = " ".join(part for part in (asked["q"], asked["comune"]) if part)
    query: dict[str, Any] = {"lang": language, "page": page, "page_size": RESULTS_PER_PAGE}
    if text:
        query["q"] = text
    for name in ("capability", "ateco", "certification", "market"):
        if asked[name]:
            query[name] = asked[name]
    return query


@router.get("/directory", response_class=HTMLResponse)
async def directory(
    request: Request, pages: PagesDep, api: GatewayDep, caller: CallerDep, page: int = 1
) -> HTMLResponse:
    asked = search_parameters(request)
    page = max(1, min(page, 1000))
    try:
        listing = await listings(request).of(api, caller)
        found = await api.get("/members/directory", caller, api_query(asked, caller.language, page))
    except ApiError as error:
        if error.status >= 500:
            raise HTTPException(503, "directory unavailable") from error
        # A search the API refuses (an ATECO code of the wrong form): said above the empty results.
        found, listing = {"items": [], "total": 0}, Listing([], 0)
        search_error: str | None = next(iter(error.fields.values()), error.message)
    else:
        search_error = None
    last_page = max(1, -(-found["total"] // RESULTS_PER_PAGE))
    return pages.render(
        request,
        "public/directory.html.j2",
        asked=asked,
        facets=listing.facets(caller.language),
        results=found["items"],
        total=found["total"],
        page=page,
        last_page=last_page,
        searched=any(asked.values()),
        search_error=search_error,
    )


@router.get("/directory/{company_id}", response_class=HTMLResponse)
async def company_page(
    request: Request, company_id: str, pages: PagesDep, api: GatewayDep, caller: CallerDep
) -> HTMLResponse:
    company = await listed_company(request, api, caller, company_id)
    return pages.render(
        request,
        "public/company.html.j2",
        company=company,
        countries=countries_by_name(caller.language),
        sent=False,
        form={},
        errors={},
    )


async def listed_company(request: Request, api: Gateway, caller: Caller, company_id: str) -> dict[str, Any]:
    try:
        company = (await listings(request).of(api, caller)).company(company_id)
    except ApiError as error:
        raise HTTPException(503, "directory unavailable") from error
    if company is None:
        raise HTTPException(404, "no such company in the directory")
    return company


@router.post("/directory/{company_id}/inquiry", response_class=HTMLResponse)
async def send_inquiry(
    request: Request,
    company_id: str,
    pages: PagesDep,
    api: GatewayDep,
    caller: CallerDep,
    name: Annotated[str, Form(max_length=200)] = "",
    email: Annotated[str, Form(max_length=320)] = "",
    company: Annotated[str, Form(max_length=200)] = "",
    country: Annotated[str, Form(max_length=2)] = "",
    message: Annotated[str, Form(max_length=5000)] = "",
    website: Annotated[str, Form(max_length=300)] = "",
) -> HTMLResponse:
    """The buyer's message to the company's people, through notifications (which also sends the buyer a copy).
    `website` is the spam trap: hidden from people, filled by bots, passed on for notifications to drop."""
    listed = await listed_company(request, api, caller, company_id)
    form = {
        "name": name.strip(),
        "email": email.strip(),
        "company": company.strip(),
        "country": country.upper(),
        "message": message.strip(),
    }
    errors = missing_fields(form, ("name", "email", "message"))
    if not errors:
        inquiry = {
            "company_id": company_id,
            **form,
            "company": form["company"] or None,
            "country": form["country"] or None,
            "language": caller.language,
            "website": website,
        }
        try:
            await api.post("/notifications/inquiries", caller, inquiry)
        except ApiError as error:
            errors = inquiry_errors(error)
    return pages.render(
        request,
        "public/company.html.j2",
        company=listed,
        countries=countries_by_name(caller.language),
        sent=not errors,
        form=form,
        errors=errors,
    )


def countries_by_name(language: str) -> list[tuple[str, str]]:
    return sorted(country_names(language).items(), key=lambda country: country[1])


TOO_MANY = N_("You have sent several messages in a short time. Please wait a while before sending another.")
REQUIRED = N_("Please fill this in.")


def missing_fields(form: dict[str, str], required: tuple[str, ...]) -> dict[str, str]:
    return {name: REQUIRED for name in required if not form.get(name)}


def inquiry_errors(error: ApiError) -> dict[str, str]:
    """Field messages beside their fields (as the API wrote them, in the page's language); the rest for the form."""
    if error.status == 429:
        return {"form": TOO_MANY}
    if error.status == 422 and error.fields:
        return {name.split(".")[-1]: message for name, message in error.fields.items()}
    if error.status < 500 and error.message:
        return {"form": error.message}
    return {"form": N_("The message could not be sent right now. Please try again in a few minutes.")}
