"""Demo data for `./filiera run`: the fictional district (deploy/local/district.py), seeded on the first start.

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
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from deploy.local.district import DemoCompany, District
from deploy.local.public_api import Api, SeedError
from shared.membership import MembershipStatus

MARKER_FILE = "demo-seeded.json"
ROME = ZoneInfo("Europe/Rome")
FUNDING_SOURCES = ("eu_funding_tenders", "incentivi_gov_it")
# How long a company's admin may have to wait for the events service to hear (through Kafka) of the approval.
EVENTS_LEARN_COMPANY_SECONDS = 60.0


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
        if record["status"] == MembershipStatus.APPLIED:
            api.call("POST", f"/members/companies/{record['id']}/approve", headers=staff)
        ids[company.key] = record["id"]
    return ids


def apply(api: Api, company: DemoCompany, password: str) -> dict[str, Any]:
    """The company applies to join, as anyone may (no token): staff see it as `applied`."""
    applied: dict[str, Any] = api.call(
        "POST", "/members/companies/applications", json=company.application_body(password)
    ).json()
    return applied


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
            created: dict[str, Any] = response.json()
            return created
        if time.monotonic() > deadline:
            raise SeedError(f"the events service did not learn of the organiser in time: {response.text[:300]}")
        time.sleep(0.5)


def load_funding_calls(api: Api, staff: dict[str, str]) -> None:
    """Staff read each source now rather than wait for its next poll (reading it again changes nothing)."""
    for source in FUNDING_SOURCES:
        api.call("POST", f"/funding/sources/{source}/runs", headers=staff)
