"""Calls from the feeds and from staff: read on start, published once, updated with what changed, searchable;
unreadable records quarantined, feeds that are down reported and retried."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from services.funding.app import follow_the_calendar
from services.funding.tests.conftest import (
    STAFF,
    FakeSources,
    FundingApi,
    StoppedClock,
    call_body,
    fixture,
    funding_service,
)
from shared.membership import Role
from tests.support.infrastructure import KafkaReader
from tests.support.tokens import bearer

EU = "eu_funding_tenders"
INCENTIVI = "incentivi_gov_it"


def _calls_of(facts: list[dict[str, Any]], source: str, event_type: str) -> list[dict[str, Any]]:
    return [f for f in facts if f.get("type") == event_type and f["data"]["call"]["source"] == source]


async def test_the_eu_feed_is_read_on_start_and_each_call_published_once(
    funding: FundingApi, kafka_reader: KafkaReader
) -> None:
    listed = (await funding.client.get("/calls", params={"source": EU, "page_size": 100})).json()
    # Five calls, two of them run by one project under one funding topic (SMP-COSME-2024-CLUSTER-01).
    assert listed["total"] == 5
    cluster = next(c for c in listed["items"] if c["external_id"] == "SMP-COSME-2024-CLUSTER-01/14063")
    assert cluster["status"] == "open"
    assert cluster["deadlines"] == ["2026-07-13T17:00:00Z", "2027-07-13T17:00:00Z"]

    again = await funding.run(EU)
    assert again.status_code == 200, again.text
    assert again.json() == {"source": EU, "records_read": 5, "published": 0, "updated": 0, "quarantined": 0}

    ids = {c["id"] for c in listed["items"]}
    facts = await kafka_reader.read("funding.calls.v1", lambda fs: ids <= {f["subject"] for f in fs})
    published = [f for f in facts if f["subject"] in ids and f["type"] == "funding.call.published"]
    assert sorted(f["subject"] for f in published) == sorted(ids)  # once each, though the feed was read twice
    assert all(f["_key"] == f["subject"] for f in published)


async def test_a_call_that_changes_at_the_source_is_announced_with_what_changed(
    funding: FundingApi, kafka_reader: KafkaReader
) -> None:
    page = json.loads(fixture("search-open-sme-calls.json"))
    for result in page["results"]:
        if result["metadata"]["identifier"] == ["DIGITAL-ECCC-2024-DEPLOY-NCC-06-MS-COORDINATION"]:
            result["metadata"]["deadlineDate"] = ["2026-09-30T22:59:00.000+0000"]  # extended
    funding.sources.eu_pages = [json.dumps(page).encode()]

    run = (await funding.run(EU)).json()
    assert (run["published"], run["updated"]) == (0, 1)

    listed = (await funding.client.get("/calls", params={"q": "DIGITAL-ECCC-2024"})).json()
    call = listed["items"][0]
    assert call["deadlines"] == ["2026-09-30T22:59:00Z"]
    facts = await kafka_reader.read(
        "funding.calls.v1",
        lambda fs: any(f["subject"] == call["id"] and f["type"] == "funding.call.updated" for f in fs),
    )
    updated = next(f for f in facts if f["subject"] == call["id"] and f["type"] == "funding.call.updated")
    assert updated["data"]["changed"] == ["deadlines"]


async def test_the_national_catalogue_is_read_with_its_italian_fields(funding: FundingApi) -> None:
    listed = (await funding.client.get("/calls", params={"source": INCENTIVI, "page_size": 100})).json()
    assert listed["total"] == 24
    # The 25th gives its budget as prose, which no amount can stand for: staff see it and why.
    quarantine = (await funding.client.get("/sources/quarantine", headers=STAFF, params={"source": INCENTIVI})).json()
    assert [(r["external_id"], r["reason"]) for r in quarantine["items"]] == [
        ("137", "Stanziamento_incentivo '163000000 (con dm 29/7), 161800000 (con dm 09/08)' is not an amount")
    ]
    interreg = next(c for c in listed["items"] if c["external_id"] == "1170")
    assert interreg["title_it"].startswith("Interreg VI-A Italia - Austria 2021-2027")
    assert interreg["regions"] == ["Friuli-Venezia Giulia", "Trentino-Alto Adige", "Veneto"]  # "Estero" is not one
    assert interreg["ateco_codes"] == []  # "Tutti i settori economici ammissibili": no limit
    assert interreg["status"] == "closed"  # closed on 23 May 2024
    assert interreg["grant_max_eur"] == 1_000_000


async def test_search_ignores_accents_and_case_and_filters_by_what_companies_are(funding: FundingApi) -> None:
    voucher = await funding.create_call(
        title_it="Contributi per l'attività di internazionalizzazione", deadlines=["2030-01-31T17:00:00+01:00"]
    )

    async def found(**params: Any) -> set[str]:
        response = await funding.client.get("/calls", params={"page_size": 100, **params})
        assert response.status_code == 200, response.text
        return {c["id"] for c in response.json()["items"]}

    assert voucher["id"] in await found(q="ATTIVITA internazionalizzazione")
    assert voucher["id"] in await found(q="attività", region="Toscana", size="small", ateco="15.20.10")
    assert voucher["id"] not in await found(q="attività", region="Lazio")
    assert voucher["id"] not in await found(q="attività", size="large")
    assert voucher["id"] not in await found(q="attività", ateco="14.11")
    assert voucher["id"] in await found(
        q="attività", deadline_after="2029-12-01T00:00:00Z", deadline_before="2030-02-01T00:00:00Z"
    )
    assert voucher["id"] not in await found(q="attività", deadline_before="2029-12-01T00:00:00Z")
    assert voucher["id"] in await found(status="open", programme="fesr")
    # A call that sets no limit (the EU ones) fits every region and size.
    eu_calls = await found(source=EU, region="Toscana", size="micro")
    assert len(eu_calls) == 5


async def test_staff_enter_and_edit_calls_that_no_feed_carries(funding: FundingApi, kafka_reader: KafkaReader) -> None:
    call = await funding.create_call()
    assert call["source"] == "staff" and call["status"] == "open"
    assert call["next_deadline"] == "2027-03-31T15:00:00Z"

    edited = await funding.client.patch(
        f"/calls/{call['id']}",
        headers=STAFF,
        json={"deadlines": ["2027-04-30T17:00:00+02:00"], "budget_eur": 3_000_000},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["budget_eur"] == 3_000_000
    facts = await kafka_reader.read(
        "funding.calls.v1",
        lambda fs: any(f["subject"] == call["id"] and f["type"] == "funding.call.updated" for f in fs),
    )
    updated = next(f for f in facts if f["subject"] == call["id"] and f["type"] == "funding.call.updated")
    assert updated["data"]["changed"] == ["budget_eur", "deadlines"]


async def test_calls_refuse_what_cannot_be_true(funding: FundingApi) -> None:
    member = bearer(
        "c0ffee00-0000-4000-8000-000000000001",
        role=Role.COMPANY_ADMIN,
        company_id="c0ffee00-0000-4000-8000-000000000002",
    )
    assert (await funding.client.post("/calls", headers=member, json=call_body())).status_code == 403
    assert (await funding.client.post("/calls", json=call_body())).status_code == 401
    wrong: dict[str, tuple[dict[str, Any], str]] = {
        "grant_min_eur": (dict(grant_min_eur=60_000, grant_max_eur=50_000), "grant_min_eur is above grant_max_eur"),
        "ateco": (dict(ateco_codes=["15-20"]), "'15-20' is not an ATECO code"),
        "region": (dict(regions=["Atlantide"]), "Input should be 'Abruzzo'"),
        "opening": (dict(opens_at="2027-05-01T00:00:00+02:00"), "every deadline must come after the opening"),
        "naive": (dict(deadlines=["2027-03-31T17:00:00"]), "dates need a time zone offset"),
    }
    for name, (overrides, message) in wrong.items():
        response = await funding.client.post("/calls", headers=STAFF, json=call_body(**overrides))
        assert response.status_code == 422, name
        assert message in response.text, (name, response.text)

    eu_call = (await funding.client.get("/calls", params={"source": EU})).json()["items"][0]
    refused = await funding.client.patch(f"/calls/{eu_call['id']}", headers=STAFF, json={"budget_eur": 1})
    assert refused.status_code == 409
    assert "follows it" in refused.json()["detail"]


async def test_unreadable_records_are_quarantined_with_their_reason_and_the_rest_goes_on(
    funding: FundingApi,
) -> None:
    page = json.loads(fixture("search-open-sme-calls.json"))
    broken = page["results"][1]
    broken["metadata"]["identifier"] = ["SMP-BROKEN-2026-01"]
    broken["metadata"]["deadlineDate"] = ["31/13/2026"]
    endless = page["results"][0]
    endless["metadata"]["identifier"] = ["SMP-ENDLESS-2026-01"]
    endless["metadata"]["callTitle"] = ["Scarpe " * 100]  # readable, but longer than any call may be
    funding.sources.eu_pages = [json.dumps(page).encode()]

    run = (await funding.run(EU)).json()
    assert run["quarantined"] == 2
    quarantine = (await funding.client.get("/sources/quarantine", headers=STAFF)).json()
    record = next(r for r in quarantine["items"] if r["external_id"] == "SMP-BROKEN-2026-01/13882")
    assert "31/13/2026" in record["reason"]
    assert json.loads(record["raw"])["metadata"]["identifier"] == ["SMP-BROKEN-2026-01"]
    too_long = next(r for r in quarantine["items"] if r["external_id"] == "SMP-ENDLESS-2026-01/11321")
    assert too_long["reason"] == "title_en: String should have at most 500 characters"
    assert (await funding.client.get("/calls", params={"source": EU})).json()["total"] == 5  # nothing else lost

    await funding.run(EU)  # the same bad record again is not news
    quarantine = (await funding.client.get("/sources/quarantine", headers=STAFF)).json()
    assert [r["external_id"] for r in quarantine["items"]].count("SMP-BROKEN-2026-01/13882") == 1


async def test_a_source_that_is_down_is_reported_and_nothing_already_read_is_lost(funding: FundingApi) -> None:
    funding.sources.down = True
    response = await funding.run(EU)
    assert response.status_code == 502
    assert "503" in response.json()["detail"]

    ready = (await funding.client.get("/readyz")).json()
    assert ready["status"] == "ready", ready  # the service still serves what it has
    assert ready["details"]["sources"][EU]["ok"] is False
    assert ready["details"]["sources"][EU]["consecutive_failures"] == 1
    states = {s["source"]: s for s in (await funding.client.get("/sources", headers=STAFF)).json()}
    assert "503" in states[EU]["last_error"]
    metrics = (await funding.client.get("/metrics")).text
    assert 'filiera_funding_source_up{source="eu_funding_tenders"} 0.0' in metrics
    assert (await funding.client.get("/calls", params={"source": EU})).json()["total"] == 5

    funding.sources.down = False
    assert (await funding.run(EU)).status_code == 200
    ready = (await funding.client.get("/readyz")).json()
    assert ready["details"]["sources"][EU]["ok"] is True


async def test_a_call_closes_when_the_service_s_clock_passes_its_last_deadline(
    database_url: str, kafka_bootstrap: str, fake_sources: tuple[FakeSources, str], kafka_reader: KafkaReader
) -> None:
    sources, url = fake_sources
    clock = StoppedClock(datetime(2027, 3, 1, tzinfo=UTC))
    async with funding_service(database_url, kafka_bootstrap, sources, url, clock=clock) as funding:
        call = await funding.create_call()  # its deadline: 31 March 2027
        assert call["status"] == "open"

        clock.now = datetime(2027, 4, 1, tzinfo=UTC)
        await follow_the_calendar(funding.app.state.runtime.unit_of_work)

        closed = (await funding.client.get(f"/calls/{call['id']}")).json()
        assert (closed["status"], closed["next_deadline"]) == ("closed", None)
        facts = await kafka_reader.read(
            "funding.calls.v1",
            lambda fs: any(f["subject"] == call["id"] and f["type"] == "funding.call.updated" for f in fs),
        )
        updated = next(f for f in facts if f["subject"] == call["id"] and f["type"] == "funding.call.updated")
        assert updated["data"]["changed"] == ["status"]
