"""The demo district (deploy/demo/district.yaml): its rules, checked without starting anything. The seed itself, run
by `./filiera run` on its first start, is tests/test_demo_seed.py."""

from __future__ import annotations

from collections import Counter
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from stdnum.it import iva

from deploy.local import demo, run
from deploy.local.district import FEEDS_DIR, WEEKDAYS, DemoPerson, load_district
from deploy.local.ports import free_port
from deploy.local.processes import ROOT
from services.events.domain import EventType
from services.events.models import EventCreate
from services.members.domain import Capability, GovernanceOffice, SizeClass, check_ateco, size_class
from services.members.models import CompanyApplication, PersonCreate
from shared.membership import Role

DISTRICT = load_district()
FUNDING_FIXTURES = ROOT / "services" / "funding" / "tests" / "fixtures"

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


def people() -> list[DemoPerson]:
    return [person for company in DISTRICT.companies for person in company.people]


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
        assert WEEKDAYS[day.weekday()] == event.schedule.weekday
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
    assert DISTRICT.person(DISTRICT.logins["company_member"]).role == Role.COMPANY_MEMBER


def test_the_demo_feeds_are_the_recorded_responses_unchanged() -> None:
    for feed in FEEDS_DIR.iterdir():
        assert feed.read_bytes() == (FUNDING_FIXTURES / feed.name).read_bytes(), feed.name


def test_a_data_dir_seeded_once_is_not_seeded_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run, "DATA", tmp_path)
    marker = demo.write_marker(tmp_path, {"client_id": "c1", "client_secret": "s1"})
    # No gateway listens there: seeding would fail.
    assert run.seed_demo_data_once(f"http://127.0.0.1:{free_port()}") == marker
