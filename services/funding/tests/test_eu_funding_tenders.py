"""The EU Funding & Tenders Portal connector reads the search API's real format: recorded responses (and a topic
written to the documented format, for what the recording lacks) in, `CallRecord`s or reasons out."""

from __future__ import annotations

import copy
import email.parser
import email.policy
import json
from typing import Any

import httpx
import pytest

from services.funding.connectors.eu_funding_tenders import fetch_eu_calls, parse_eu_results
from services.funding.domain import CallRecord, CallStatus, Quarantined, Source
from services.funding.tests.parsed_records import (
    FIXTURES,
    assert_all_datetimes_utc,
    calls,
    one_call,
    quarantined,
    utc,
)

EU_SEARCH = json.loads((FIXTURES / "search-open-sme-calls.json").read_text(encoding="utf-8"))
EU_TOPIC = json.loads((FIXTURES / "topic-details-smp-cosme-2024-cluster-01.json").read_text(encoding="utf-8"))

SEARCH_URL = "https://api.tech.ec.europa.eu/search-api/prod/rest/search"


def test_the_recorded_search_gives_each_call_once_even_when_two_share_a_funding_topic() -> None:
    records = parse_eu_results(EU_SEARCH["results"])

    # All five are calls run by EU-funded projects (type 8): keyed by the funding topic and their own call id.
    assert [record.external_id for record in records] == [
        "DIGITAL-2021-SKILLS-01-SPECIALISED/11321",
        "DIGITAL-ECCC-2024-DEPLOY-NCC-06-MS-COORDINATION/13882",
        "DIGITAL-2022-SKILLS-03-SPECIALISED-EDU/12447",
        "SMP-COSME-2024-CLUSTER-01/14063",  # one project, two calls, one funding topic: both kept
        "SMP-COSME-2024-CLUSTER-01/14062",
    ]
    assert all(isinstance(record, CallRecord) for record in records)
    assert calls(records)["SMP-COSME-2024-CLUSTER-01/14063"].title_en == "RESIST II PROCESS INNOVATION OPEN CALL"
    assert calls(records)["SMP-COSME-2024-CLUSTER-01/14062"].title_en == "RESIST II PRODUCT INNOVATION OPEN CALL"


def test_a_result_repeated_across_pages_is_one_call() -> None:
    repeated = EU_SEARCH["results"][:2] + EU_SEARCH["results"][:1]
    assert len(parse_eu_results(repeated)) == 2


def test_of_results_sharing_an_identifier_the_fullest_is_kept_wherever_it_comes() -> None:
    full = EU_SEARCH["results"][4]  # RESIST II PRODUCT INNOVATION OPEN CALL
    stub = copy.deepcopy(full)
    stub["metadata"] = {"identifier": ["SMP-COSME-2024-CLUSTER-01"], "title": ["Joint Cluster Initiatives"]}

    for order in ([stub, full], [full, stub]):
        record = one_call(parse_eu_results(order))
        assert record.title_en == "RESIST II PRODUCT INNOVATION OPEN CALL"
        assert record.status is CallStatus.OPEN
        assert record.description.startswith("This open call aims to support European SMEs")


def test_recorded_calls_keep_every_deadline_in_order_as_utc() -> None:
    records = calls(parse_eu_results(EU_SEARCH["results"]))

    assert records["DIGITAL-2022-SKILLS-03-SPECIALISED-EDU/12447"].deadlines == (
        utc(2026, 2, 15, 23, 59),
        utc(2026, 7, 1, 23, 59),
        utc(2027, 2, 14, 23, 59),
        utc(2027, 6, 1, 23, 59),
    )
    assert records["SMP-COSME-2024-CLUSTER-01/14063"].deadlines == (utc(2026, 7, 13, 17), utc(2027, 7, 13, 17))
    assert records["DIGITAL-ECCC-2024-DEPLOY-NCC-06-MS-COORDINATION/13882"].deadlines == (utc(2026, 6, 28, 22, 59),)
    assert records["SMP-COSME-2024-CLUSTER-01/14063"].opens_at == utc(2026, 5, 13)
    assert_all_datetimes_utc(list(records.values()))


def test_recorded_calls_say_status_programme_link_and_budget() -> None:
    records = calls(parse_eu_results(EU_SEARCH["results"]))
    cluster = records["SMP-COSME-2024-CLUSTER-01/14063"]

    assert {record.status for record in records.values()} == {CallStatus.OPEN}
    assert cluster.programme == "Single Market Programme (SMP)"
    assert records["DIGITAL-2021-SKILLS-01-SPECIALISED/11321"].programme == "Digital Europe Programme"
    assert cluster.url == (
        "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/"
        "competitive-calls-cs/47108154"
    )
    assert cluster.budget_eur == 800000
    assert (cluster.grant_min_eur, cluster.grant_max_eur) == (None, None)
    assert (cluster.title_en, cluster.title_it) == ("RESIST II PROCESS INNOVATION OPEN CALL", None)
    # the EU portal states no size, region or sector limits
    assert (cluster.sizes, cluster.regions, cluster.ateco_codes) == (frozenset(), frozenset(), ())


def test_a_call_run_by_an_eu_funded_project_is_titled_by_its_own_call_not_the_funding_topic() -> None:
    records = calls(parse_eu_results(EU_SEARCH["results"]))

    # metadata title: "Specialised education programmes in key capacity areas" (the topic that funded the project)
    assert records["DIGITAL-2021-SKILLS-01-SPECIALISED/11321"].title_en == "DIGITWIN4CIUE Reduction-Fees Scholarships"


def test_recorded_html_becomes_plain_text_one_paragraph_a_line() -> None:
    scholarship = calls(parse_eu_results(EU_SEARCH["results"]))["DIGITAL-2021-SKILLS-01-SPECIALISED/11321"]

    assert "<" not in scholarship.description and "&nbsp;" not in scholarship.description
    assert scholarship.description.startswith(
        "OVERVIEW\nThe DIGITWIN4CIUE Reduction-Fees Scholarships program provides financial support"
    )
    assert "Be a national of an eligible country, including:\n" in scholarship.description  # &nbsp; and <li> gone
    assert scholarship.summary.startswith("The DIGITWIN4CIUE Reduction-Fees Scholarships program")  # heading skipped
    assert len(scholarship.summary) <= 201


# CONSTRUCTED, not recorded: a topic result written to the search API's documented format (every metadata value a
# list of strings; budgetOverview and actions as JSON inside a string), because the recorded search has no
# budgetOverview, actions, keywords or descriptionByte.
CONSTRUCTED_TOPIC: dict[str, Any] = {
    "reference": "HORIZON-CL4-2026-TWIN-TRANSITION-01-07en",
    "url": "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/topic-details/"
    "horizon-cl4-2026-twin-transition-01-07",
    "summary": "Circular footwear: digital product passports for leather goods",
    "metadata": {
        "identifier": ["HORIZON-CL4-2026-TWIN-TRANSITION-01-07"],
        "callIdentifier": ["HORIZON-CL4-2026-TWIN-TRANSITION-01"],
        "callTitle": ["TWIN GREEN AND DIGITAL TRANSITION 2026"],
        "title": ["Circular footwear: digital product passports for leather goods"],
        "type": ["1"],
        "status": ["31094501"],
        "startDate": ["2026-05-12T00:00:00.000+0200"],
        "deadlineDate": ["2027-02-04T17:00:00.000+0100", "2026-09-23T17:00:00.000+0200"],  # two-stage, unordered
        "deadlineModel": ["two-stage"],
        "frameworkProgramme": ["43108390"],
        "programmePeriod": ["2021 - 2027"],
        "typesOfAction": ["HORIZON Innovation Actions"],
        "keywords": ["Circular economy", "Leather  goods", "Circular economy", "Digital product passport"],
        "tags": ["Green Deal  Industrial Plan for the Net-Zero Age", " SMEs "],
        "crossCuttingPriorities": ["DigitalAgenda"],
        "descriptionByte": [
            '<span class="topicdescriptionkind">Expected Outcome:</span><p>Projects help '
            "<strong>footwear &amp; leather</strong> SMEs trace materials.&nbsp;</p>"
            "<ul><li>Passports for 50&#xa0;000 pairs;</li><li>Less waste</li></ul>"
            "<script>track()</script>"
        ],
        "budget": ["12000000"],
        "budgetOverview": [
            json.dumps(
                {
                    "budgetTopicActionMap": {
                        "112233": [
                            {
                                "action": "HORIZON-CL4-2026-TWIN-TRANSITION-01-07 - HORIZON-IA "
                                "HORIZON Innovation Actions",
                                "plannedOpeningDate": "12 May 2026",
                                "deadlineModel": "two-stage",
                                "deadlineDates": ["23 September 2026", "04 February 2027"],
                                "budgetYearMap": {"2026": 8000000, "2027": "4000000"},
                                "minContribution": 3000000,
                                "maxContribution": 4000000,
                            },
                            # the same call's other topic: not this topic's money
                            {
                                "action": "HORIZON-CL4-2026-TWIN-TRANSITION-01-08 - HORIZON-RIA "
                                "HORIZON Research and Innovation",
                                "budgetYearMap": {"2026": 20000000},
                                "minContribution": 1000,
                                "maxContribution": 9000000,
                            },
                        ]
                    },
                    "budgetYearsColumns": ["2026", "2027"],
                }
            )
        ],
        "actions": [
            json.dumps(
                [
                    {
                        "status": {"id": 31094501, "abbreviation": "Forthcoming"},
                        "plannedOpeningDate": "12 May 2026",
                        "deadlineDates": ["23 September 2026", "04 February 2027"],
                    }
                ]
            )
        ],
    },
}


def constructed(**metadata: list[str]) -> dict[str, Any]:
    result = copy.deepcopy(CONSTRUCTED_TOPIC)
    result["metadata"].update(metadata)
    return result


def without(*keys: str) -> dict[str, Any]:
    result = copy.deepcopy(CONSTRUCTED_TOPIC)
    for key in keys:
        del result["metadata"][key]
    return result


def test_a_topic_reads_its_budget_and_grant_range_from_the_json_in_budget_overview() -> None:
    topic = one_call(parse_eu_results([CONSTRUCTED_TOPIC]))

    assert topic.budget_eur == 12000000  # 8M + 4M of this topic's line; the other topic's 20M left out
    assert (topic.grant_min_eur, topic.grant_max_eur) == (3000000, 4000000)


def test_the_budget_overview_of_the_recorded_topic_document_sums_its_years() -> None:
    # the real topicDetails document of SMP-COSME-2024-CLUSTER-01 carries the same JSON: years as strings, and 0 for
    # the contributions it leaves unstated
    overview = json.dumps(EU_TOPIC["TopicDetails"]["budgetOverviewJSONItem"])
    topic = one_call(
        parse_eu_results([constructed(identifier=["SMP-COSME-2024-CLUSTER-01"], budgetOverview=[overview])])
    )

    assert topic.budget_eur == 10000000 + 11000000 + 12000000 + 9000000
    assert (topic.grant_min_eur, topic.grant_max_eur) == (None, None)


def test_a_budget_overview_that_is_not_json_leaves_the_plain_budget() -> None:
    topic = one_call(parse_eu_results([constructed(budgetOverview=['{"budgetTopicActionMap": {'])]))

    assert (topic.budget_eur, topic.grant_max_eur) == (12000000, None)


def test_a_topic_gives_title_status_deadlines_keywords_tags_and_text() -> None:
    topic = one_call(parse_eu_results([CONSTRUCTED_TOPIC]))

    assert topic.source is Source.EU_FUNDING_TENDERS
    assert topic.title_en == "Circular footwear: digital product passports for leather goods"
    assert topic.programme == "Horizon Europe"
    assert topic.status is CallStatus.FORTHCOMING
    assert topic.opens_at == utc(2026, 5, 11, 22)
    assert topic.deadlines == (utc(2026, 9, 23, 15), utc(2027, 2, 4, 16))
    assert topic.keywords == ("Circular economy", "Leather goods", "Digital product passport")
    assert topic.tags == ("Green Deal Industrial Plan for the Net-Zero Age", "SMEs")
    assert topic.description == (
        "Expected Outcome:\nProjects help footwear & leather SMEs trace materials.\n"
        "Passports for 50 000 pairs;\nLess waste"
    )
    assert topic.summary == (
        "Projects help footwear & leather SMEs trace materials. Passports for 50 000 pairs; Less waste"
    )  # the heading left out
    assert topic.url == CONSTRUCTED_TOPIC["url"]


def test_without_dates_in_the_metadata_the_actions_json_gives_them_at_the_portals_usual_hours() -> None:
    topic = one_call(parse_eu_results([without("startDate", "deadlineDate")]))

    assert topic.opens_at == utc(2026, 5, 11, 22)  # 12 May 2026, 00:00 in Brussels
    assert topic.deadlines == (utc(2026, 9, 23, 15), utc(2027, 2, 4, 16))  # 17:00 in Brussels, summer and winter


def test_an_unknown_programme_is_named_by_its_id_and_an_unknown_status_is_left_to_the_dates() -> None:
    topic = one_call(parse_eu_results([constructed(frameworkProgramme=["99999999"], status=["31094599"])]))

    assert topic.programme == "EU programme 99999999"
    assert topic.status is None


def test_unreadable_results_are_quarantined_with_a_reason_and_the_rest_kept() -> None:
    bad_date = constructed(identifier=["HORIZON-BAD-DATE"], deadlineDate=["31/13/2026"])
    bad_budget = without("budgetOverview")
    bad_budget["metadata"].update(identifier=["HORIZON-BAD-BUDGET"], budget=["a lot"])
    no_identifier = without("identifier")

    records = parse_eu_results([bad_date, CONSTRUCTED_TOPIC, no_identifier, bad_budget])

    assert [type(record) for record in records] == [Quarantined, CallRecord, Quarantined, Quarantined]
    assert [(q.source, q.external_id, q.reason) for q in quarantined(records)] == [
        (Source.EU_FUNDING_TENDERS, "HORIZON-BAD-DATE", "deadlineDate '31/13/2026' is not a date"),
        (Source.EU_FUNDING_TENDERS, None, "the result has no identifier"),
        (Source.EU_FUNDING_TENDERS, "HORIZON-BAD-BUDGET", "budget 'a lot' is not an amount"),
    ]
    assert json.loads(quarantined(records)[0].raw) == bad_date


def multipart_parts(request: httpx.Request) -> dict[str, tuple[str, Any]]:
    """The request's multipart parts by name: (content type, decoded JSON body)."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.default).parsebytes(head + request.content)
    parts: dict[str, tuple[str, Any]] = {}
    for part in message.iter_parts():
        name, payload = part.get_param("name", header="content-disposition"), part.get_payload(decode=True)
        assert isinstance(name, str) and isinstance(payload, bytes), part
        parts[name] = (part.get_content_type(), json.loads(payload))
    return parts


def eu_server(pages: list[list[dict[str, Any]]], total: int, seen: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        number = int(request.url.params["pageNumber"])
        results = pages[number - 1] if number <= len(pages) else []
        return httpx.Response(
            200,
            json={
                "totalResults": total,
                "pageNumber": number,
                "pageSize": int(request.url.params["pageSize"]),
                "results": results,
            },
        )

    return httpx.MockTransport(handle)


async def test_fetching_eu_calls_asks_page_after_page_with_the_query_as_json_parts() -> None:
    results = EU_SEARCH["results"]
    seen: list[httpx.Request] = []
    transport = eu_server([results[0:2], results[2:4], results[4:5]], total=5, seen=seen)

    async with httpx.AsyncClient(transport=transport) as client:
        records = await fetch_eu_calls(client, SEARCH_URL, page_size=2)

    assert [request.url.params["pageNumber"] for request in seen] == ["1", "2", "3"]
    for request in seen:
        assert request.method == "POST"
        assert request.url.copy_with(query=None) == SEARCH_URL
        assert dict(request.url.params) | {"pageNumber": "n"} == {
            "apiKey": "SEDIA",
            "text": "***",
            "pageSize": "2",
            "pageNumber": "n",
        }
        assert multipart_parts(request) == {
            "query": (
                "application/json",
                {
                    "bool": {
                        "must": [{"terms": {"type": ["1", "2", "8"]}}, {"terms": {"status": ["31094501", "31094502"]}}]
                    }
                },
            ),
            "languages": ("application/json", ["en"]),
        }
    # every page is read; the two calls sharing a funding topic stay two
    assert [record.external_id for record in records] == [
        "DIGITAL-2021-SKILLS-01-SPECIALISED/11321",
        "DIGITAL-ECCC-2024-DEPLOY-NCC-06-MS-COORDINATION/13882",
        "DIGITAL-2022-SKILLS-03-SPECIALISED-EDU/12447",
        "SMP-COSME-2024-CLUSTER-01/14063",
        "SMP-COSME-2024-CLUSTER-01/14062",
    ]


async def test_fetching_eu_calls_sends_a_given_text_and_query_and_stops_at_an_empty_page() -> None:
    seen: list[httpx.Request] = []
    query = {"bool": {"must": [{"terms": {"type": ["8"]}}]}}
    transport = eu_server([EU_SEARCH["results"][:1]], total=1000, seen=seen)  # says 1000, serves one

    async with httpx.AsyncClient(transport=transport) as client:
        records = await fetch_eu_calls(client, SEARCH_URL, text="SME", query=query)

    assert [request.url.params["pageNumber"] for request in seen] == ["1", "2"]
    assert seen[0].url.params["text"] == "SME" and seen[0].url.params["pageSize"] == "100"
    assert multipart_parts(seen[0])["query"] == ("application/json", query)
    assert [record.external_id for record in records] == ["DIGITAL-2021-SKILLS-01-SPECIALISED/11321"]


async def test_an_eu_http_error_reaches_the_caller() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(503, text="maintenance"))

    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(httpx.HTTPStatusError):
            await fetch_eu_calls(client, SEARCH_URL)
