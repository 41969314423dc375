"""The demo district's seed, run by `./filiera run` on its first start and read back through the gateway as any
client would (the dataset's own rules: tests/test_demo_data.py)."""

from __future__ import annotations

from pathlib import Path
from time import monotonic, sleep

import httpx
import pytest

from deploy.local import demo, run
from deploy.local.district import load_district
from deploy.local.ports import free_ports
from shared.membership import Role
from tests.test_local_platform import LocalPlatform, local_platform

# It starts the whole platform, Kafka and nginx included.
pytestmark = pytest.mark.integration

DISTRICT = load_district()


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
    assert (me["company_id"], me["role"]) == (ids[host.application["legal_name"]], Role.COMPANY_MEMBER)
