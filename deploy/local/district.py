"""The fictional district of the demo (deploy/demo/district.yaml): its companies and their people, its events, the
network's governance, and the funding feeds recorded for it (deploy/demo/feeds/). Data only: demo.py seeds it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from deploy.local.feeds import RecordedFeeds
from deploy.local.processes import ROOT
from shared.membership import Role

DEMO_DIR = ROOT / "deploy" / "demo"
DISTRICT_FILE = DEMO_DIR / "district.yaml"
FEEDS_DIR = DEMO_DIR / "feeds"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class DemoPerson:
    given_name: str
    family_name: str
    email: str
    job_title: str | None = None
    role: str = Role.COMPANY_MEMBER  # a colleague's; the first person of a company applies and becomes its admin

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
