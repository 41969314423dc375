"""Demo data for `./filiera run`: the fictional district of deploy/demo/district.yaml, seeded on the first start.

The seed is a client of the platform like any other: it goes through the gateway's public API as the network's
staff and the companies' own people would (companies apply, staff approve them, company admins add colleagues and
organise their events), so every service learns the facts the way it always does, through Kafka. Funding calls
come from the funding service's real connectors reading the recorded responses of deploy/demo/feeds/, which the
runner serves on loopback.

A seed that was interrupted can run again: what exists already (a company's Partita IVA, a person's email, a term of
office, a published event's title) is found and skipped. Once it is done, a marker in the data dir says so, with
the demo partner client's secret (the API shows it only once), and later starts leave the data alone.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import yaml

from deploy.local.feeds import RecordedFeeds
from deploy.local.processes import ROOT

DEMO_DIR = ROOT / "deploy" / "demo"
DISTRICT_FILE = DEMO_DIR / "district.yaml"
FEEDS_DIR = DEMO_DIR / "feeds"
MARKER_FILE = "demo-seeded.json"
ROME = ZoneInfo("Europe/Rome")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
FUNDING_SOURCES = ("eu_funding_tenders", "incentivi_gov_it")
# The gateway lets one client log in 5 times a minute and answers 429 beyond that; a slot frees every 12 s.
LOGIN_RETRY_SECONDS = 12.5
LOGIN_ATTEMPTS = 6
# How long a company's admin may have to wait for the events service to hear (through Kafka) of the approval.
EVENTS_LEARN_COMPANY_SECONDS = 60.0


# ---- the dataset -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoPerson:
    given_name: str
    family_name: str
    email: str
    job_title: str | None = None
    role: str = "company_member"  # a colleague's; the first person of a company applies and becomes its admin

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def colleague_body(self, password: str) -> dict[str, Any]:
        """What a company's admin sends to add this person (the members API's PersonCreate)."""
        return {
            "given_name": self.given_name,
            "family_name": self.family_name,
            "email": self.email,
            "job_title": self.job_title,
            "role": self.role,
            "password": password,
        }


@dataclass(frozen=True)
class DemoCompany:
    key: str
    application: dict[str, Any]  # the members API's application body, without the applicant
    people: tuple[DemoPerson, ...]

    @property
    def admin(self) -> DemoPerson:
        return self.people[0]

    @property
    def colleagues(self) -> tuple[DemoPerson, ...]:
        return self.people[1:]

    def application_body(self, password: str) -> dict[str, Any]:
        """What the company sends to apply (the members API's CompanyApplication), its admin as the applicant."""
        applicant = {
            "given_name": self.admin.given_name,
            "family_name": self.admin.family_name,
            "email": self.admin.email,
            "password": password,
        }
        return {**self.application, "applicant": applicant}


@dataclass(frozen=True)
class Schedule:
    weekday: str
    days_ahead: int
    starts: str  # HH:MM, Europe/Rome
    ends: str

    def day_after(self, today: date) -> date:
        """The first `weekday` at least `days_ahead` days after `today`: the demo's events are always upcoming."""
        earliest = today + timedelta(days=self.days_ahead)
        return earliest + timedelta(days=(WEEKDAYS.index(self.weekday) - earliest.weekday()) % 7)


@dataclass(frozen=True)
class DemoEvent:
    body: dict[str, Any]  # the events API's body, without the times and the organiser
    schedule: Schedule
    organiser: str | None  # a company's key; None when the network organises it

    def request(self, today: date, organiser_id: str | None) -> dict[str, Any]:
        day = self.schedule.day_after(today).isoformat()
        # Times without an offset are read in the event's time zone.
        return {
            **self.body,
            "time_zone": "Europe/Rome",
            "starts_at": f"{day}T{self.schedule.starts}:00",
            "ends_at": f"{day}T{self.schedule.ends}:00",
            "organiser_company_id": organiser_id,
        }


@dataclass(frozen=True)
class Seat:
    office: str
    person: str  # email


@dataclass(frozen=True)
class District:
    password: str  # every demo person's
    logins: dict[str, str]  # printed by the runner: company_admin, company_member -> email
    partner_client: dict[str, Any]  # the partner-clients API's body
    term_starts: str  # MM-DD of last year
    term_years: int
    seats: tuple[Seat, ...]
    events: tuple[DemoEvent, ...]
    companies: tuple[DemoCompany, ...]

    def company(self, key: str) -> DemoCompany:
        return next(company for company in self.companies if company.key == key)

    def company_of(self, email: str) -> DemoCompany:
        return next(company for company in self.companies if email in {p.email for p in company.people})

    def person(self, email: str) -> DemoPerson:
        return next(person for person in self.company_of(email).people if person.email == email)

    def term_of_office(self, today: date) -> tuple[date, date]:
        """The governance's current term: it began on `term_starts` of last year and lasts `term_years`."""
        month, day = (int(part) for part in self.term_starts.split("-"))
        begins = date(today.year - 1, month, day)
        return begins, begins.replace(year=begins.year + self.term_years) - timedelta(days=1)


def load_district(path: Path = DISTRICT_FILE) -> District:
    raw = yaml.safe_load(path.read_text())
    governance = raw["governance"]
    return District(
        password=raw["password"],
        logins=raw["logins"],
        partner_client=raw["partner_client"],
        term_starts=governance["term_starts"],
        term_years=governance["term_years"],
        seats=tuple(Seat(**seat) for seat in governance["seats"]),
        events=tuple(_event(event) for event in raw["events"]),
        companies=tuple(_company(company) for company in raw["companies"]),
    )


def _company(raw: dict[str, Any]) -> DemoCompany:
    application = {name: value for name, value in raw.items() if name not in ("key", "people")}
    return DemoCompany(raw["key"], application, tuple(DemoPerson(**person) for person in raw["people"]))


def _event(raw: dict[str, Any]) -> DemoEvent:
    body = {name: value for name, value in raw.items() if name not in ("schedule", "organiser")}
    return DemoEvent(body, Schedule(**raw["schedule"]), raw.get("organiser"))


def recorded_feeds() -> RecordedFeeds:
    """The funding sources as recorded from the real ones (copies of the funding tests' fixtures)."""
    return RecordedFeeds(
        eu_pages=[(FEEDS_DIR / "search-open-sme-calls.json").read_bytes()],
        incentivi=("application/json", (FEEDS_DIR / "open-data-sample.json").read_bytes()),
    )


# ---- the marker ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Marker:
    seeded_at: str
    partner_client_id: str
    partner_client_secret: str


def load_marker(data_dir: Path) -> Marker | None:
    path = data_dir / MARKER_FILE
    return Marker(**json.loads(path.read_text())) if path.exists() else None


def write_marker(data_dir: Path, partner: dict[str, Any]) -> Marker:
    marker = Marker(datetime.now(ROME).isoformat(timespec="seconds"), partner["client_id"], partner["client_secret"])
    (data_dir / MARKER_FILE).write_text(json.dumps(asdict(marker), indent=2) + "\n")
    return marker


# ---- the platform, as a client sees it --------------------------------------------------------------------------


class SeedError(RuntimeError):
    """The platform refused a step: the message says which, and the answer."""


class Api:
    """The gateway's public API (`/api/<service>/...`), with the tokens of the people the seed acts as."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self._tokens: dict[str, dict[str, str]] = {}

    def call(self, method: str, path: str, expect: tuple[int, ...] = (200, 201), **request: Any) -> httpx.Response:
        response = self.http.request(method, path, **request)
        if response.status_code not in expect:
            raise SeedError(f"{method} /api{path} answered {response.status_code}: {response.text[:500]}")
        return response

    def login(self, email: str, password: str) -> dict[str, str]:
        """Authorization headers for a person; one login each (tokens last 15 minutes, the seed about one)."""
        if email not in self._tokens:
            form = {"grant_type": "password", "username": email, "password": password}
            for _ in range(LOGIN_ATTEMPTS):
                response = self.call("POST", "/members/auth/token", expect=(200, 429), data=form)
                if response.status_code == 200:
                    break
                time.sleep(LOGIN_RETRY_SECONDS)
            else:
                raise SeedError(f"the gateway kept refusing logins (429) for {email}")
            self._tokens[email] = {"Authorization": f"Bearer {response.json()['access_token']}"}
        return self._tokens[email]

    def every_page(self, path: str, headers: dict[str, str]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            page = self.call(
                "GET", path, headers=headers, params={"page": len(items) // 100 + 1, "page_size": 100}
            ).json()
            items.extend(page["items"])
            if not page["items"] or len(items) >= page["total"]:
                return items


# ---- the seed ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeedReport:
    """What the platform lists once the seed is done."""

    companies: int
    terms: int
    events: int
    calls: int
    seconds: float
    partner_client: dict[str, Any]  # client_id and client_secret

    def summary(self) -> str:
        return (
            f"demo data seeded in {self.seconds:.0f} s: {self.companies} companies in the directory, "
            f"{self.terms} terms of office, {self.events} events, {self.calls} funding calls"
        )


def seed(gateway_url: str, staff_email: str, staff_password: str, district: District) -> SeedReport:
    started = time.monotonic()
    today = datetime.now(ROME).date()
    with httpx.Client(base_url=f"{gateway_url}/api", timeout=60) as http:
        api = Api(http)
        staff = api.login(staff_email, staff_password)
        company_ids = admit_companies(api, staff, district)
        add_colleagues(api, staff, district, company_ids)
        elect_governance(api, staff, district, company_ids, today)
        publish_events(api, staff, district, company_ids, today)
        load_funding_calls(api, staff)
        partner = api.call("POST", "/members/partner-clients", headers=staff, json=district.partner_client).json()
        return SeedReport(
            companies=api.call("GET", "/members/directory", params={"page_size": 1}).json()["total"],
            terms=len(api.call("GET", "/members/governance").json()),
            events=len(api.call("GET", "/events/events").json()),
            calls=api.call("GET", "/funding/calls", params={"page_size": 1}).json()["total"],
            seconds=time.monotonic() - started,
            partner_client=partner,
        )


def admit_companies(api: Api, staff: dict[str, str], district: District) -> dict[str, str]:
    """Each company applies (unless its Partita IVA is known already) and staff approve it. Key -> company id."""
    known = {company["partita_iva"]: company for company in api.every_page("/members/companies", staff)}
    ids = {}
    for company in district.companies:
        record = known.get(company.application["partita_iva"]) or apply(api, company, district.password)
        if record["status"] == "applied":
            api.call("POST", f"/members/companies/{record['id']}/approve", headers=staff)
        ids[company.key] = record["id"]
    return ids


def apply(api: Api, company: DemoCompany, password: str) -> dict[str, Any]:
    """The company applies to join, as anyone may (no token): staff see it as `applied`."""
    return api.call("POST", "/members/companies/applications", json=company.application_body(password)).json()


def people_of(api: Api, staff: dict[str, str], company_id: str) -> dict[str, str]:
    """Email -> person id."""
    people = api.call("GET", f"/members/companies/{company_id}/people", headers=staff).json()
    return {person["email"]: person["id"] for person in people}


def add_colleagues(api: Api, staff: dict[str, str], district: District, company_ids: dict[str, str]) -> None:
    """Each company's admin adds the colleagues not there yet (possible once the company is approved: it is)."""
    for company in district.companies:
        present = people_of(api, staff, company_ids[company.key]) if company.colleagues else {}
        missing = [person for person in company.colleagues if person.email not in present]
        if not missing:
            continue
        admin = api.login(company.admin.email, district.password)
        for person in missing:
            api.call(
                "POST",
                f"/members/companies/{company_ids[company.key]}/people",
                headers=admin,
                json=person.colleague_body(district.password),
            )


def elect_governance(
    api: Api, staff: dict[str, str], district: District, company_ids: dict[str, str], today: date
) -> None:
    """Staff record the terms of office the assembly voted for, unless they are on record already."""
    term_from, term_to = district.term_of_office(today)
    serving = {
        (term["office"], term["person_name"])
        for term in api.call("GET", "/members/governance", params={"on": term_from.isoformat()}).json()
    }
    for seat in district.seats:
        if (seat.office, district.person(seat.person).name) in serving:
            continue
        person_ids = people_of(api, staff, company_ids[district.company_of(seat.person).key])
        api.call(
            "POST",
            "/members/governance",
            headers=staff,
            json={
                "person_id": person_ids[seat.person],
                "office": seat.office,
                "term_from": term_from.isoformat(),
                "term_to": term_to.isoformat(),
            },
        )


def publish_events(
    api: Api, staff: dict[str, str], district: District, company_ids: dict[str, str], today: date
) -> None:
    """Staff publish the network's events; a host company's admin its own. An event whose title is published
    already is skipped."""
    published = {event["title_it"] for event in api.call("GET", "/events/events").json()}
    for event in district.events:
        if event.body["title_it"] in published:
            continue
        if event.organiser is None:
            organiser_id, headers = None, staff
        else:
            organiser_id = company_ids[event.organiser]
            headers = api.login(district.company(event.organiser).admin.email, district.password)
        created = create_event(api, headers, event.request(today, organiser_id))
        api.call("POST", f"/events/events/{created['id']}/publish", headers=headers)


def create_event(api: Api, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    """The events service lets a company's admin organise once it knows, through Kafka, that the company is an
    active member: until then it answers 403, so the seed waits for the fact to arrive."""
    deadline = time.monotonic() + EVENTS_LEARN_COMPANY_SECONDS
    while True:
        response = api.call("POST", "/events/events", expect=(201, 403), headers=headers, json=body)
        if response.status_code == 201:
            return response.json()
        if time.monotonic() > deadline:
            raise SeedError(f"the events service did not learn of the organiser in time: {response.text[:300]}")
        time.sleep(0.5)


def load_funding_calls(api: Api, staff: dict[str, str]) -> None:
    """Staff read each source now rather than wait for its next poll (reading it again changes nothing)."""
    for source in FUNDING_SOURCES:
        api.call("POST", f"/funding/sources/{source}/runs", headers=staff)
