"""Matching through Kafka and HTTP: member companies from members.companies.v1, each (call, company) match
announced once with its reasons, changes raising or dropping it; saved searches; deadline reminders once each."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from services.funding import store
from services.funding.app import follow_the_calendar
from services.funding.tests.conftest import STAFF, FakeSources, FundingApi, funding_service
from shared.membership import MembershipStatus, Role
from tests.support.facts import publish_fact, until_stored
from tests.support.infrastructure import KafkaReader
from tests.support.tokens import bearer

MATCHES = "funding.matches.v1"


def _for(facts: list[dict[str, Any]], company_id: str, call_id: str | None = None) -> list[dict[str, Any]]:
    return [f for f in facts if f["subject"] == company_id and (call_id is None or f["data"]["call_id"] == call_id)]


async def test_a_new_call_is_matched_to_the_companies_that_can_use_it_with_reasons(
    funding: FundingApi, kafka_reader: KafkaReader
) -> None:
    shoemaker = await funding.company()  # 15.20.10, small, Toscana, interested in digitalisation
    tannery_in_veneto = await funding.company(ateco_primary="15.11.00", region="Veneto")
    call = await funding.create_call()  # Tuscan SMEs in 15.20, about digitalisation

    facts = await kafka_reader.read(MATCHES, lambda fs: len(_for(fs, shoemaker, call["id"])) >= 1)
    found = _for(facts, shoemaker, call["id"])
    assert [f["type"] for f in found] == ["funding.match.found"]
    assert found[0]["_key"] == shoemaker
    assert found[0]["data"]["reasons"] == [
        "ATECO 15.20.10 eligible (call open to 15.20)",
        "open to companies in Toscana",
        "open to small companies",
        "keyword: digitalisation",
    ]
    assert found[0]["data"]["score"] == 90
    # Both companies were stored before the call came: the call was matched against both in the transaction that
    # announced the shoemaker's match, so had the tannery matched, its fact would be on Kafka by now too.
    assert not _for(facts, tannery_in_veneto)

    own = bearer(str(uuid.uuid4()), role=Role.COMPANY_MEMBER, company_id=shoemaker)
    listed = (await funding.client.get(f"/companies/{shoemaker}/matches", headers=own)).json()
    assert [(m["call_id"], m["call"]["title_it"]) for m in listed] == [(call["id"], call["title_it"])]
    other = bearer(str(uuid.uuid4()), role=Role.COMPANY_MEMBER, company_id=tannery_in_veneto)
    assert (await funding.client.get(f"/companies/{shoemaker}/matches", headers=other)).status_code == 403
    staff_view = (await funding.client.get(f"/calls/{call['id']}/matches", headers=STAFF)).json()
    assert [m["company_id"] for m in staff_view] == [shoemaker]


async def test_a_company_that_joins_or_changes_is_matched_against_the_open_calls(
    funding: FundingApi, kafka_reader: KafkaReader
) -> None:
    call = await funding.create_call()
    company_id = await funding.company(ateco_primary="14.11.00", interests=[])  # not a shoemaker (yet)
    assert await funding.matches_stored(company_id) == []

    await funding.tell_company(company_id, ateco_primary="15.20.10", interests=[])
    facts = await kafka_reader.read(MATCHES, lambda fs: len(_for(fs, company_id, call["id"])) >= 1)
    assert _for(facts, company_id, call["id"])[0]["data"]["score"] == 75

    await funding.tell_company(company_id, ateco_primary="15.20.10", interests=["digitalisation"])
    facts = await kafka_reader.read(MATCHES, lambda fs: len(_for(fs, company_id, call["id"])) >= 2)
    updated = _for(facts, company_id, call["id"])[1]
    assert updated["type"] == "funding.match.updated"
    assert (updated["data"]["previous_score"], updated["data"]["score"]) == (75, 90)

    await funding.tell_company(
        company_id, status=MembershipStatus.SUSPENDED, ateco_primary="15.20.10", interests=["digitalisation"]
    )
    facts = await kafka_reader.read(MATCHES, lambda fs: len(_for(fs, company_id, call["id"])) >= 3)
    assert [f["type"] for f in _for(facts, company_id, call["id"])] == [
        "funding.match.found",
        "funding.match.updated",
        "funding.match.withdrawn",
    ]
    assert [m.active for m in await funding.matches_stored(company_id)] == [False]


async def test_a_call_that_changes_raises_or_drops_its_matches_once(
    funding: FundingApi, kafka_reader: KafkaReader
) -> None:
    company_id = await funding.company(size_class="medium")
    call = await funding.create_call()
    await kafka_reader.read(MATCHES, lambda fs: len(_for(fs, company_id, call["id"])) == 1)

    narrowed = await funding.client.patch(f"/calls/{call['id']}", headers=STAFF, json={"sizes": ["micro", "small"]})
    assert narrowed.status_code == 200, narrowed.text
    facts = await kafka_reader.read(MATCHES, lambda fs: len(_for(fs, company_id, call["id"])) >= 2)
    assert _for(facts, company_id, call["id"])[1]["type"] == "funding.match.withdrawn"

    await funding.client.patch(f"/calls/{call['id']}", headers=STAFF, json={"summary": "Nuovo testo"})
    await funding.client.patch(f"/calls/{call['id']}", headers=STAFF, json={"sizes": []})  # any size again
    facts = await kafka_reader.read(MATCHES, lambda fs: len(_for(fs, company_id, call["id"])) >= 3)
    assert [f["type"] for f in _for(facts, company_id, call["id"])] == [
        "funding.match.found",
        "funding.match.withdrawn",
        "funding.match.updated",
    ]


async def test_a_saved_search_tells_its_owner_about_each_new_call_that_fits(
    funding: FundingApi, kafka_reader: KafkaReader
) -> None:
    giulia = str(uuid.uuid4())
    headers = bearer(giulia, role=Role.COMPANY_ADMIN, company_id=str(uuid.uuid4()))
    saved = await funding.client.post(
        "/searches",
        headers=headers,
        json={"name": "Voucher toscani", "text": "voucher", "region": "Toscana", "status": ["open"]},
    )
    assert saved.status_code == 201, saved.text
    search_id = saved.json()["id"]

    fits = await funding.create_call(title_it="Voucher fiere internazionali", tags=[])
    elsewhere = await funding.create_call(title_it="Voucher fiere internazionali", regions=["Lazio"], tags=[])
    facts = await kafka_reader.read("funding.searches.v1", lambda fs: any(f["subject"] == giulia for f in fs))
    told = [f for f in facts if f["subject"] == giulia]
    assert [(f["type"], f["data"]["call"]["id"], f["data"]["search_id"]) for f in told] == [
        ("funding.search.matched", fits["id"], search_id)
    ]
    assert elsewhere["id"] not in {f["data"]["call"]["id"] for f in told}

    mine = (await funding.client.get("/searches", headers=headers)).json()
    assert [s["name"] for s in mine] == ["Voucher toscani"]
    someone_else = bearer(str(uuid.uuid4()))
    assert (await funding.client.delete(f"/searches/{search_id}", headers=someone_else)).status_code == 404
    bad = await funding.client.post("/searches", headers=headers, json={"name": "x", "ateco": "quindici"})
    assert bad.status_code == 422 and "not an ATECO code" in bad.text


async def test_an_erased_person_s_saved_searches_are_forgotten(funding: FundingApi) -> None:
    person = str(uuid.uuid4())
    headers = bearer(person)
    await funding.client.post("/searches", headers=headers, json={"name": "Tutto", "text": "bando"})
    await publish_fact(
        funding.kafka_bootstrap, "members.people.v1", "members.person.erased", person, {"person_id": person}
    )

    async def forgotten(session: Any) -> bool:
        return await store.searches_of(session, person) == []

    await until_stored(funding.app.state.runtime.sessions, forgotten)
    assert (await funding.client.get("/searches", headers=headers)).json() == []


async def test_closing_soon_goes_to_matched_companies_14_and_3_days_before_once_across_restarts(
    database_url: str, kafka_bootstrap: str, fake_sources: tuple[FakeSources, str], kafka_reader: KafkaReader
) -> None:
    sources, url = fake_sources
    now = datetime.now(UTC)
    async with funding_service(database_url, kafka_bootstrap, sources, url) as funding:
        company_id = await funding.company()
        call = await funding.create_call(
            deadlines=[
                (now + timedelta(days=2)).isoformat(),
                (now + timedelta(days=10)).isoformat(),
                (now + timedelta(days=40)).isoformat(),
            ]
        )
        await kafka_reader.read(MATCHES, lambda fs: len(_for(fs, company_id, call["id"])) == 1)
    # Restarted twice with the reminder job running every half second: each reminder still goes out once.
    for _ in range(2):
        async with funding_service(
            database_url, kafka_bootstrap, sources, url, scheduler_interval_seconds=0.5
        ) as funding:
            facts = await kafka_reader.read(
                "funding.calls.v1",
                lambda fs: (
                    len([f for f in fs if f["subject"] == call["id"] and f["type"] == "funding.call.closing_soon"]) >= 2
                ),
            )
            for _ in range(3):  # several more passes of the job, each finished before the marker below is sent
                await follow_the_calendar(funding.app.state.runtime.unit_of_work)
    # Everything published before this marker is read before it: a duplicate reminder could not hide.
    marker = str(uuid.uuid4())
    await publish_fact(kafka_bootstrap, "funding.calls.v1", "test.marker", marker, {})
    facts = await kafka_reader.read("funding.calls.v1", lambda fs: any(f["subject"] == marker for f in fs))
    reminders = [f["data"] for f in facts if f["subject"] == call["id"] and f["type"] == "funding.call.closing_soon"]
    assert sorted((r["days_before"], r["deadline"][:10]) for r in reminders) == [
        (3, (now + timedelta(days=2)).date().isoformat()),
        (14, (now + timedelta(days=10)).date().isoformat()),
    ]
    assert all(r["company_ids"] == [company_id] for r in reminders)
