"""The connectors read each funding source's real format: recorded responses in, `CallRecord`s or reasons out."""

from __future__ import annotations

import copy
import csv
import email.parser
import email.policy
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.funding.connectors import (
    fetch_eu_calls,
    fetch_incentivi,
    parse_eu_results,
    parse_incentivi_csv,
    parse_incentivi_json,
)
from services.funding.domain import (
    ITALIAN_REGIONS,
    CallRecord,
    CallStatus,
    ParsedRecord,
    Quarantined,
    SizeClass,
    Source,
    ateco_covers,
)

FIXTURES = Path(__file__).parent / "fixtures"
EU_SEARCH = json.loads((FIXTURES / "search-open-sme-calls.json").read_text(encoding="utf-8"))
EU_TOPIC = json.loads((FIXTURES / "topic-details-smp-cosme-2024-cluster-01.json").read_text(encoding="utf-8"))
INCENTIVI = json.loads((FIXTURES / "open-data-sample.json").read_text(encoding="utf-8"))

SEARCH_URL = "https://api.tech.ec.europa.eu/search-api/prod/rest/search"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def calls(records: list[ParsedRecord]) -> dict[str, CallRecord]:
    return {record.external_id: record for record in records if isinstance(record, CallRecord)}


def quarantined(records: list[ParsedRecord]) -> list[Quarantined]:
    return [record for record in records if isinstance(record, Quarantined)]


def assert_all_datetimes_utc(records: list[CallRecord]) -> None:
    for record in records:
        for moment in (record.opens_at, *record.deadlines):
            if moment is not None:
                assert moment.utcoffset() is not None and moment.utcoffset().total_seconds() == 0, record.external_id


# ---- EU Funding & Tenders Portal: the recorded search ------------------------------------------------------------


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
        [record] = parse_eu_results(order)
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


# ---- EU: what the recording lacks, in the documented format ------------------------------------------------------

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
                                "action": "HORIZON-CL4-2026-TWIN-TRANSITION-01-07 - HORIZON-IA HORIZON Innovation Actions",
                                "plannedOpeningDate": "12 May 2026",
                                "deadlineModel": "two-stage",
                                "deadlineDates": ["23 September 2026", "04 February 2027"],
                                "budgetYearMap": {"2026": 8000000, "2027": "4000000"},
                                "minContribution": 3000000,
                                "maxContribution": 4000000,
                            },
                            # the same call's other topic: not this topic's money
                            {
                                "action": "HORIZON-CL4-2026-TWIN-TRANSITION-01-08 - HORIZON-RIA HORIZON Research and Innovation",
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
    [topic] = parse_eu_results([CONSTRUCTED_TOPIC])

    assert topic.budget_eur == 12000000  # 8M + 4M of this topic's line; the other topic's 20M left out
    assert (topic.grant_min_eur, topic.grant_max_eur) == (3000000, 4000000)


def test_the_budget_overview_of_the_recorded_topic_document_sums_its_years() -> None:
    # the real topicDetails document of SMP-COSME-2024-CLUSTER-01 carries the same JSON: years as strings, and 0 for
    # the contributions it leaves unstated
    overview = json.dumps(EU_TOPIC["TopicDetails"]["budgetOverviewJSONItem"])
    [topic] = parse_eu_results([constructed(identifier=["SMP-COSME-2024-CLUSTER-01"], budgetOverview=[overview])])

    assert topic.budget_eur == 10000000 + 11000000 + 12000000 + 9000000
    assert (topic.grant_min_eur, topic.grant_max_eur) == (None, None)


def test_a_budget_overview_that_is_not_json_leaves_the_plain_budget() -> None:
    [topic] = parse_eu_results([constructed(budgetOverview=['{"budgetTopicActionMap": {'])])

    assert (topic.budget_eur, topic.grant_max_eur) == (12000000, None)


def test_a_topic_gives_title_status_deadlines_keywords_tags_and_text() -> None:
    [topic] = parse_eu_results([CONSTRUCTED_TOPIC])

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
    [topic] = parse_eu_results([without("startDate", "deadlineDate")])

    assert topic.opens_at == utc(2026, 5, 11, 22)  # 12 May 2026, 00:00 in Brussels
    assert topic.deadlines == (utc(2026, 9, 23, 15), utc(2027, 2, 4, 16))  # 17:00 in Brussels, summer and winter


def test_an_unknown_programme_is_named_by_its_id_and_an_unknown_status_is_left_to_the_dates() -> None:
    [topic] = parse_eu_results([constructed(frameworkProgramme=["99999999"], status=["31094599"])])

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
    assert json.loads(records[0].raw) == bad_date


# ---- EU: fetching every page ---------------------------------------------------------------------------------------


def multipart_parts(request: httpx.Request) -> dict[str, tuple[str, Any]]:
    """The request's multipart parts by name: (content type, decoded JSON body)."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.default).parsebytes(head + request.content)
    return {
        part.get_param("name", header="content-disposition"): (
            part.get_content_type(),
            json.loads(part.get_payload(decode=True)),
        )
        for part in message.iter_parts()
    }


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


# ---- incentivi.gov.it: the recorded JSON ---------------------------------------------------------------------------


def test_the_recorded_catalogue_gives_24_calls_and_quarantines_one_with_its_reason() -> None:
    records = parse_incentivi_json(INCENTIVI)

    assert len(records) == 25
    assert len(calls(records)) == 24
    [held] = quarantined(records)
    assert (held.source, held.external_id) == (Source.INCENTIVI_GOV_IT, "137")
    assert held.reason == (
        "Stanziamento_incentivo '163000000 (con dm 29/7), 161800000 (con dm 09/08)' is not an amount"
    )
    assert json.loads(held.raw)["Titolo"].startswith("Credito di imposta per gli investimenti nel Mezzogiorno")
    assert all(call.source is Source.INCENTIVI_GOV_IT and call.status is None for call in calls(records).values())


def test_a_catalogue_record_maps_title_text_programme_amounts_and_link() -> None:
    interreg = calls(parse_incentivi_json(INCENTIVI))["1170"]

    assert interreg.title_it == (
        "Interreg VI-A Italia - Austria 2021-2027 - Secondo avviso per la presentazione di proposte progettuali"
    )
    assert interreg.title_en is None
    assert interreg.description.startswith("Cos'è Avviso per proposte progettuali nell'ambito del PC Interreg")
    assert interreg.summary == (
        "Avviso per proposte progettuali nell'ambito del PC Interreg VI-A Italia-Austria 2021-2027."
    )
    assert interreg.programme == "Provincia autonoma di Bolzano - Ripartizione Europa"
    assert (interreg.budget_eur, interreg.grant_min_eur, interreg.grant_max_eur) == (18000000, 0, 1000000)
    assert interreg.keywords == (
        "Innovazione e ricerca",
        "Internazionalizzazione",
        "Sostegno investimenti",
        "Start up/Sviluppo d'impresa",
        "Alberghiero",
        "Altri servizi",
        "Cultura",
        "ICT",
        "Ristorazione",
        "Turismo",
    )
    assert interreg.tags == ("Contributo/Fondo perduto",)
    assert interreg.url == "https://www.interreg.net/it/2014-2020/news.asp?news_action=4&news_article_id=681567"


def test_a_long_description_is_summed_up_by_its_first_sentence_or_its_first_200_characters() -> None:
    records = calls(parse_incentivi_json(INCENTIVI))

    assert records["1520"].summary == (
        "Contributi per l’avvio di nuove attività economiche commerciali, "
        "artigianali ed agricole attraverso un’unità operativa ubicata nel territorio "
        "del Comune di Celenza."
    )
    # no sentence ends at the one-letter abbreviations of 'della L. 178 del 30.12.2020 e del D. P. C. M. 30.09.2021'
    assert records["1519"].summary.endswith("D. P. C. M. 30.09.2021, relativamente al Comune di San Gregorio Matese…")
    assert len(records["1519"].summary) <= 201


def test_catalogue_dates_are_days_in_rome_open_from_midnight_to_the_end_of_the_closing_day() -> None:
    records = calls(parse_incentivi_json(INCENTIVI))

    assert records["1170"].opens_at == utc(2024, 2, 22, 23)  # 23/02/2024 00:00 in Rome, winter
    assert records["1170"].deadlines == (utc(2024, 5, 23, 21, 59, 59),)  # 23/05/2024 23:59:59 in Rome, summer
    assert_all_datetimes_utc(list(records.values()))


def test_older_catalogue_records_hold_utc_instants_which_are_kept_as_such() -> None:
    records = calls(parse_incentivi_json(INCENTIVI))

    # '2022-10-16T22:00:00' is Rome's midnight of 17 October; '2022-11-25T11:00:00' is the deadline "alle ore 12 del
    # 25 novembre 2022" that the record's own note announces
    assert records["175"].opens_at == utc(2022, 10, 16, 22)
    assert records["175"].deadlines == (utc(2022, 11, 25, 11),)
    # '2021-09-07T22:00:00' is Rome's midnight of 8 September: a closing day, open until its end
    assert records["144"].deadlines == (utc(2021, 9, 8, 21, 59, 59),)


def test_catalogue_amounts_in_either_decimal_notation_round_to_whole_euros() -> None:
    records = calls(parse_incentivi_json(INCENTIVI))

    assert records["1653"].budget_eur == 39840  # '39840.39'
    assert records["185"].budget_eur == 15375384  # '15375383,50'
    assert (records["1433"].grant_min_eur, records["1433"].grant_max_eur) == (1950, 100000)


def test_all_sectors_means_no_ateco_limit_and_listed_codes_become_prefixes() -> None:
    records = calls(parse_incentivi_json(INCENTIVI))

    # 'Tutti i settori economici ammissibili a ricevere aiuti;', without ';', 'Tutti i codici ...', 'Tutti i settori'
    for external_id in ("1170", "1428", "144", "143"):
        assert records[external_id].ateco_codes == ()
    # '55.00; 55.10; 55.20; 55.30; 55.90; 56.00; 56.10; 56.20; 56.21; 56.29; 56.30;'
    hotels = records["1434"].ateco_codes
    assert hotels == ("55", "55.1", "55.2", "55.3", "55.9", "56", "56.1", "56.2", "56.21", "56.29", "56.3")
    assert any(ateco_covers(code, "55.10.00") for code in hotels)  # a hotel: '55.00' means all of 55
    assert any(ateco_covers(code, "56.29.20") for code in hotels)  # a catering company
    assert not any(ateco_covers(code, "15.20.10") for code in hotels)  # a shoe factory


def test_regions_are_canonical_abroad_is_dropped_and_every_region_means_nationwide() -> None:
    records = calls(parse_incentivi_json(INCENTIVI))

    # ['Friuli-Venezia Giulia', 'Trentino-Alto Adige/Südtirol', 'Veneto', 'Estero']
    assert records["1170"].regions == {"Friuli-Venezia Giulia", "Trentino-Alto Adige", "Veneto"}
    assert records["1426"].regions == ITALIAN_REGIONS  # incl. "Valle d'Aosta/Vallée d'Aoste"
    assert records["1427"].regions == {"Toscana"}


def test_company_sizes_are_mapped_and_unclassifiable_says_nothing() -> None:
    records = calls(parse_incentivi_json(INCENTIVI))

    assert records["1426"].sizes == {SizeClass.LARGE, SizeClass.MEDIUM, SizeClass.SMALL}
    assert records["1553"].sizes == {SizeClass.MICRO}
    assert records["1519"].sizes == {SizeClass.MICRO, SizeClass.SMALL}  # plus 'Non classificabile/classificato'
    assert records["1653"].sizes == frozenset()  # only 'Non classificabile/classificato': no size limit


def test_missing_fields_are_tolerated() -> None:
    records = calls(parse_incentivi_json(INCENTIVI))

    credit = records["143"]  # no Data_chiusura, amounts or Stanziamento_incentivo
    assert credit.opens_at == utc(2019, 12, 31, 23)
    assert credit.deadlines == ()
    assert (credit.budget_eur, credit.grant_min_eur, credit.grant_max_eur) == (None, None, None)
    assert records["790"].keywords == (
        "Innovazione e ricerca",
        "Internazionalizzazione",
        "Sostegno investimenti",
        "Start up/Sviluppo d'impresa",
    )  # no Settore_Attivita
    assert records["1440"].tags == (
        "Agevolazione fiscale",
        "Capitale di rischio",
        "Contributo/Fondo perduto",
        "Interventi a garanzia",
        "Prestito/Anticipo rimborsabile",
        "Riduzione dei contributi di previdenza sociale",
    )  # listed twice in the record


def test_a_record_without_id_or_title_is_quarantined() -> None:
    doc = INCENTIVI["response"]["docs"][0]
    no_title = {key: value for key, value in doc.items() if key != "Titolo"}
    no_id = {key: value for key, value in doc.items() if key != "ID_Incentivo"}

    records = parse_incentivi_json({"response": {"numFound": 2, "docs": [no_title, no_id]}})

    assert [(q.external_id, q.reason) for q in quarantined(records)] == [
        ("1170", "the record has no Titolo"),
        (None, "the record has no ID_Incentivo"),
    ]


# ---- incentivi.gov.it: the CSV export ----------------------------------------------------------------------------

AMOUNT_FIELDS = (
    "Spesa_Ammessa_min",
    "Spesa_Ammessa_max",
    "Agevolazione_Concedibile_min",
    "Agevolazione_Concedibile_max",
    "Stanziamento_incentivo",
)


def italian_amount(value: str) -> str:
    """'18000000' → '18.000.000,00', as the export writes amounts; other text ('15375383,50', notes) unchanged."""
    try:
        number = Decimal(value)
    except ArithmeticError:
        return value
    return f"{number:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")


def italian_date(value: str) -> str:
    """'2024-02-23T00:00:00' → '23/02/2024'; the older records' UTC instants stay ISO, which the export also has."""
    moment = datetime.fromisoformat(value)
    return moment.strftime("%d/%m/%Y") if moment.time() == datetime.min.time() else value


def export_cell(field: str, value: Any) -> str:
    if isinstance(value, list):
        return ";".join(value) + ";"
    if field in AMOUNT_FIELDS:
        return italian_amount(value)
    if field in ("Data_apertura", "Data_chiusura"):
        return italian_date(value)
    return value


def csv_export(docs: list[dict[str, Any]], delimiter: str, extra_rows: tuple[dict[str, str], ...] = ()) -> str:
    """The recorded records written the way the daily export writes them: BOM, lists joined with ';', Italian dates
    and amounts, empty cells for missing fields."""
    columns = list(dict.fromkeys(key for doc in docs for key in doc))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(columns)
    for doc in docs:
        writer.writerow([export_cell(column, doc[column]) if column in doc else "" for column in columns])
    for row in extra_rows:
        writer.writerow([row.get(column, "") for column in columns])
    return "\ufeff" + out.getvalue()


@pytest.mark.parametrize("delimiter", [";", ","])
def test_the_csv_export_gives_the_same_calls_as_the_json(delimiter: str) -> None:
    export = csv_export(INCENTIVI["response"]["docs"], delimiter)
    assert export.startswith("\ufeffID_Incentivo" + delimiter + "Titolo")
    assert "23/02/2024" in export and "18.000.000,00" in export

    from_csv, from_json = parse_incentivi_csv(export), parse_incentivi_json(INCENTIVI)

    assert calls(from_csv) == calls(from_json)
    assert len(calls(from_csv)) == 24
    assert calls(from_csv)["1170"].deadlines == (utc(2024, 5, 23, 21, 59, 59),)
    assert [(q.external_id, q.reason) for q in quarantined(from_csv)] == [
        (q.external_id, q.reason) for q in quarantined(from_json)
    ]
    [held] = quarantined(from_csv)
    assert held.raw.startswith("137" + delimiter) and "(con dm 29/7)" in held.raw  # the CSV line, not JSON


def test_awkward_csv_rows_are_read_or_quarantined_one_by_one() -> None:
    base = {
        "Titolo": "Bando calzaturiero",
        "Data_apertura": "01/03/2026",
        "Regioni": "Toscana; Estero;",
        "Dimensioni": "Microimpresa;Piccola Impresa",
        "Codici_ATECO": "15.20.10;15.20.20; 15.20.10;",
    }
    rows = (
        {**base, "ID_Incentivo": "9001", "Stanziamento_incentivo": "1.234.567,89", "Data_chiusura": "30/6/2026"},
        {**base, "ID_Incentivo": "9002", "Data_chiusura": "31/02/2026"},
        {**base, "ID_Incentivo": "9003", "Agevolazione_Concedibile_max": "circa 50 mila"},
        {**base, "ID_Incentivo": "9004", "Codici_ATECO": "Calzature"},
        {**base, "ID_Incentivo": "9005", "Data_apertura": "2026-03-01T00:00:00", "Data_chiusura": "15/07/2026 12:00"},
    )
    records = parse_incentivi_csv(csv_export(INCENTIVI["response"]["docs"][:2], ";", rows))

    assert list(calls(records)) == ["1170", "790", "9001", "9005"]
    shoes = calls(records)["9001"]
    assert shoes.budget_eur == 1234568
    assert shoes.opens_at == utc(2026, 2, 28, 23)
    assert shoes.deadlines == (utc(2026, 6, 30, 21, 59, 59),)
    assert shoes.regions == {"Toscana"}
    assert shoes.sizes == {SizeClass.MICRO, SizeClass.SMALL}
    assert shoes.ateco_codes == ("15.20.1", "15.20.2")
    assert calls(records)["9005"].opens_at == shoes.opens_at  # ISO and Italian dates alike
    assert calls(records)["9005"].deadlines == (utc(2026, 7, 15, 10),)  # noon in Rome
    assert [(q.external_id, q.reason) for q in quarantined(records)] == [
        ("9002", "Data_chiusura '31/02/2026' is not a date"),
        ("9003", "Agevolazione_Concedibile_max 'circa 50 mila' is not an amount"),
        ("9004", "Codici_ATECO 'Calzature' is neither an ATECO code nor 'Tutti i settori'"),
    ]


# ---- incentivi.gov.it: fetching ------------------------------------------------------------------------------------


def serving(content: bytes, content_type: str) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(200, content=content, headers={"content-type": content_type})


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (json.dumps(INCENTIVI).encode(), "application/json"),
        (json.dumps(INCENTIVI).encode(), "text/plain"),  # told apart by its first character
        (csv_export(INCENTIVI["response"]["docs"], ";").encode("utf-8"), "text/csv; charset=utf-8"),
        (csv_export(INCENTIVI["response"]["docs"], ",").encode("utf-8"), "application/octet-stream"),
    ],
    ids=["json", "json-as-text", "csv-semicolons", "csv-commas-untyped"],
)
async def test_fetching_the_catalogue_reads_json_or_csv(content: bytes, content_type: str) -> None:
    assert content.startswith(b"\xef\xbb\xbf") == content_type.startswith(("text/csv", "application/octet"))
    async with httpx.AsyncClient(transport=httpx.MockTransport(serving(content, content_type))) as client:
        records = await fetch_incentivi(client, "https://www.incentivi.gov.it/open-data/export")

    assert calls(records) == calls(parse_incentivi_json(INCENTIVI))
    assert [q.external_id for q in quarantined(records)] == ["137"]


async def test_a_page_that_is_neither_json_nor_the_csv_export_is_an_error_not_a_list_of_quarantined_rows() -> None:
    page = b"<!DOCTYPE html><html><body>Servizio temporaneamente non disponibile</body></html>"
    transport = httpx.MockTransport(serving(page, "text/html"))

    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(ValueError, match="served neither the catalogue's JSON nor its CSV"):
            await fetch_incentivi(client, "https://www.incentivi.gov.it/open-data/export")


async def test_json_that_is_not_the_catalogue_is_an_error() -> None:
    transport = httpx.MockTransport(serving(b'{"error": "quota exceeded"}', "application/json"))

    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(ValueError, match="not the catalogue's JSON"):
            await fetch_incentivi(client, "https://www.incentivi.gov.it/open-data/export")


async def test_a_catalogue_http_error_reaches_the_caller() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(404))

    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(httpx.HTTPStatusError):
            await fetch_incentivi(client, "https://www.incentivi.gov.it/open-data/export")
