"""The demo district (deploy/demo/district.yaml): its rules, checked without starting anything, and the seed itself,
run by `./filiera run` on its first start and read back through the gateway as any client would."""

from __future__ import annotations

from collections import Counter
from datetime import date, time, timedelta
from pathlib import Path
from time import monotonic, sleep
from typing import Any

import httpx
import pytest
from stdnum.it import iva

from deploy.local import demo, run
from deploy.local.ports import free_port, free_ports
from services.events.domain import EventType
from services.events.models import EventCreate
from services.members.domain import Capability, GovernanceOffice, SizeClass, check_ateco, size_class
from services.members.models import CompanyApplication, PersonCreate
from tests.test_local_platform import LocalPlatform, local_platform

DISTRICT = demo.load_district()
FUNDING_FIXTURES = run.ROOT / "services" / "funding" / "tests" / "fixtures"

# The frazioni of the Comune di Capannori.
FRAZIONI = {
    "Badia di Cantignano",
    "Camigliano",
    "Capannori",
    "Carraia",
    "Castelvecchio di Compito",
    "Colle di Compito",
    "Colognora di Compito",
    "Coselli",
    "Gragnano",
    "Guamo",
    "Lammari",
    "Lappato",
    "Lunata",
    "Marlia",
    "Massa Macinaia",
    "Matraia",
    "Paganico",
    "Parezzana",
    "Petrognano",
    "Pieve di Compito",
    "Pieve San Paolo",
    "Ruota",
    "San Colombano",
    "San Gennaro",
    "San Giusto di Compito",
    "San Ginese di Compito",
    "San Leonardo in Treponzio",
    "Sant'Andrea di Compito",
    "Sant'Andrea in Caprile",
    "Santa Margherita",
    "Segromigno in Monte",
    "Segromigno in Piano",
    "Tassignano",
    "Tofori",
    "Toringo",
    "Valgiano",
    "Verciano",
    "Vorno",
    "Zone",
}
# Footwear and its parts, rubber and plastic parts for footwear, leather goods, design studios.
ATECO_OF_THE_CHAIN = ("15.20", "15.12", "22.19", "22.29", "74.10")


def applications() -> list[dict[str, Any]]:
    return [company.application for company in DISTRICT.companies]


def people() -> list[demo.DemoPerson]:
    return [person for company in DISTRICT.companies for person in company.people]


# ---- the dataset's rules ----------------------------------------------------------------------------------------


def test_about_65_companies_covering_the_district_s_trades() -> None:
    assert 60 <= len(DISTRICT.companies) <= 70
    capabilities = Counter(c for application in applications() for c in application["capabilities"])
    for trade in (
        Capability.FINISHED_SHOES,
        Capability.SOLES,
        Capability.UPPERS,
        Capability.PATTERN_MAKING,
        Capability.LEATHER_CUTTING,
    ):
        assert capabilities[trade] >= 5, trade
    assert sum(a["ateco_primary"] == "15.20.10" for a in applications()) >= 15  # shoe factories


def test_every_partita_iva_is_valid_and_belongs_to_one_company() -> None:
    numbers = [application["partita_iva"] for application in applications()]
    assert all(isinstance(number, str) and iva.is_valid(number) for number in numbers), numbers
    assert len(set(numbers)) == len(numbers)


def test_every_company_is_in_a_frazione_of_capannori() -> None:
    for application in applications():
        assert application["frazione"] in FRAZIONI, application["legal_name"]
        assert application.get("comune", "Capannori") == "Capannori"


def test_ateco_codes_are_well_formed_and_of_the_footwear_chain() -> None:
    for application in applications():
        for code in [application["ateco_primary"], *application["ateco_secondary"]]:
            assert check_ateco(code) == code
            assert code.startswith(ATECO_OF_THE_CHAIN), (application["legal_name"], code)


def test_companies_are_micro_small_and_medium() -> None:
    sizes = Counter(size_class(a["employees"], a["turnover_eur"]) for a in applications())
    assert set(sizes) == {SizeClass.MICRO, SizeClass.SMALL, SizeClass.MEDIUM}, sizes


def test_names_are_unique_and_every_address_is_an_example_one() -> None:
    names = [application["legal_name"] for application in applications()]
    assert len(set(names)) == len(names)
    assert len({person.name for person in people()}) == len(people())
    emails = [person.email for person in people()]
    assert len(set(emails)) == len(emails)
    assert all(email.endswith((".example", "@example.com")) for email in emails), emails
    websites = [str(application["website"]) for application in applications() if "website" in application]
    assert all(website.removesuffix("/").endswith(".example") for website in websites), websites


def test_the_members_api_accepts_every_application_and_colleague() -> None:
    for company in DISTRICT.companies:
        CompanyApplication.model_validate(company.application_body(DISTRICT.password))
        for colleague in company.colleagues:
            PersonCreate.model_validate(colleague.colleague_body(DISTRICT.password))


def test_four_upcoming_events_a_fair_visit_a_sustainability_course_a_b2b_evening_and_an_open_factory() -> None:
    today = date(2026, 12, 28)  # near the year's end: the events move into the next year
    by_type = {event.body["event_type"]: event for event in DISTRICT.events}
    assert len(DISTRICT.events) == 4
    assert set(by_type) == {EventType.TRADE_FAIR, EventType.TRAINING, EventType.B2B_MEETING, EventType.COMPANY_EVENT}
    assert "sostenibilità" in by_type["training"].body["title_it"].lower()
    assert "buyer esteri" in by_type["b2b_meeting"].body["title_it"]
    assert time.fromisoformat(by_type["b2b_meeting"].schedule.starts) >= time(18)  # an evening
    host = by_type["company_event"].organiser  # a member company opens its doors
    assert host is not None and DISTRICT.company(host).application["legal_name"].startswith("Calzaturificio")
    for event in DISTRICT.events:
        day = event.schedule.day_after(today)
        assert today < day <= today + timedelta(days=35)
        assert demo.WEEKDAYS[day.weekday()] == event.schedule.weekday
        created = EventCreate.model_validate(event.request(today, None))  # as the events API reads it
        assert created.starts_at.utcoffset() == timedelta(hours=1)  # Europe/Rome in winter
        assert created.starts_at < created.ends_at
    for network_event in (by_type["training"], by_type["b2b_meeting"]):
        assert network_event.body["venue"].startswith("Polo Tecnologico di Capannori")


def test_the_governance_seats_are_held_by_the_people_of_member_companies() -> None:
    offices = Counter(seat.office for seat in DISTRICT.seats)
    assert set(offices) <= set(GovernanceOffice)
    assert offices["president"] == 1 and offices["council_member"] >= 3
    for seat in DISTRICT.seats:
        assert DISTRICT.company_of(seat.person).admin.email == seat.person  # the companies' own representatives
    begins, ends = DISTRICT.term_of_office(date(2026, 11, 25))
    assert begins < date(2026, 11, 25) < ends


def test_the_printed_logins_are_an_admin_and_a_colleague_of_one_company() -> None:
    company = DISTRICT.company_of(DISTRICT.logins["company_admin"])
    assert company.admin.email == DISTRICT.logins["company_admin"]
    assert DISTRICT.person(DISTRICT.logins["company_member"]) in company.colleagues
    assert DISTRICT.person(DISTRICT.logins["company_member"]).role == "company_member"


def test_the_demo_feeds_are_the_recorded_responses_unchanged() -> None:
    for feed in demo.FEEDS_DIR.iterdir():
        assert feed.read_bytes() == (FUNDING_FIXTURES / feed.name).read_bytes(), feed.name


def test_a_data_dir_seeded_once_is_not_seeded_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run, "DATA", tmp_path)
    marker = demo.write_marker(tmp_path, {"client_id": "c1", "client_secret": "s1"})
    # No gateway listens there: seeding would fail.
    assert run.seed_demo_data_once(f"http://127.0.0.1:{free_port()}") == marker


# ---- the seed, through a running platform ----------------------------------------------------------------------


def test_the_first_start_seeds_the_demo_district_through_the_gateway(tmp_path: Path) -> None:
    with local_platform(tmp_path, free_ports(len(run.SERVICES)), demo=True) as platform:
        platform.wait_until_running()
        output = printed(platform, "partner client")  # the last line, after the Kafka line it waits for
        assert "demo data seeded" in output, output
        assert f"company member {DISTRICT.logins['company_member']} / {DISTRICT.password}" in output
        assert (tmp_path / demo.MARKER_FILE).exists()
        with httpx.Client(base_url=f"{platform.gateway_url}/api", timeout=30) as api:
            check_the_district_is_listed(api)
            # Seeding again, as after an interruption, finds everything in place and adds nothing.
            again = demo.seed(platform.gateway_url, run.DEMO_ADMIN_EMAIL, run.DEMO_ADMIN_PASSWORD, DISTRICT)
            assert (again.companies, again.terms, again.events) == (len(DISTRICT.companies), len(DISTRICT.seats), 4)
        assert platform.interrupt() == 0


def printed(platform: LocalPlatform, text: str, timeout: float = 10) -> str:
    """The runner's output once it shows `text`."""
    deadline = monotonic() + timeout
    while text not in (output := "".join(platform.output)):
        assert monotonic() < deadline, output
        sleep(0.1)
    return output


def check_the_district_is_listed(api: httpx.Client) -> None:
    directory = api.get("/members/directory", params={"page_size": 100}).json()
    ids = {entry["legal_name"]: entry["id"] for entry in directory["items"]}
    assert set(ids) == {company.application["legal_name"] for company in DISTRICT.companies}

    host = DISTRICT.company_of(DISTRICT.logins["company_admin"])
    events = {event["title_it"]: event for event in api.get("/events/events").json()}
    assert set(events) == {event.body["title_it"] for event in DISTRICT.events}
    open_factory = next(event for event in events.values() if event["event_type"] == "company_event")
    assert open_factory["organiser_company_id"] == ids[host.application["legal_name"]]

    for source in demo.FUNDING_SOURCES:
        assert api.get("/funding/calls", params={"source": source}).json()["total"] > 0, source

    governance = {
        (term["office"], term["person_name"], term["company_name"]) for term in api.get("/members/governance").json()
    }
    assert governance == {
        (seat.office, DISTRICT.person(seat.person).name, DISTRICT.company_of(seat.person).application["legal_name"])
        for seat in DISTRICT.seats
    }

    login = api.post(
        "/members/auth/token",
        data={"grant_type": "password", "password": DISTRICT.password, "username": DISTRICT.logins["company_member"]},
    )
    assert login.status_code == 200, login.text
    me = api.get("/members/people/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"}).json()
    assert (me["company_id"], me["role"]) == (ids[host.application["legal_name"]], "company_member")
