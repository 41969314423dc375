"""What people type into the members' area as they type it here, read for the APIs; the funding service's reasons
read back into their parts; the inbox's live stream read and written as server-sent events."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from web.routes.members_forms import Unreadable, country_codes, parse_count, parse_day, parse_whole_euros, split_list
from web.routes.members_funding import CallFilters, filters_of_saved, reason_parts
from web.routes.members_inbox import Frame, event_text, frames_of
from web.routes.members_preferences import changes, table_of


@pytest.mark.parametrize(
    ("typed", "language", "euros"),
    [
        ("1.250.000", "it", 1_250_000),
        ("1.250.000,00 €", "it", 1_250_000),
        ("1250000", "it", 1_250_000),
        ("1,250,000", "en", 1_250_000),
        ("€1,250,000.00", "en", 1_250_000),
        ("1.250", "en", 1_250),
        ("", "it", None),
    ],
)
def test_euros_as_people_write_them(typed: str, language: str, euros: int | None) -> None:
    assert parse_whole_euros(typed, language) == euros


@pytest.mark.parametrize(("typed", "code"), [("1,5", "whole_euros"), ("mille", "not_a_number"), ("-3", "negative")])
def test_euros_that_cannot_be_sent_are_named(typed: str, code: str) -> None:
    with pytest.raises(Unreadable) as refused:
        parse_whole_euros(typed, "it")
    assert refused.value.code == code


def test_counts_days_and_lists() -> None:
    assert parse_count("1.200") == 1200 and parse_count(" ") is None
    with pytest.raises(Unreadable):
        parse_count("dodici")
    assert parse_day("31/12/2026") == dt.date(2026, 12, 31) == parse_day("2026-12-31")
    assert parse_day("31/02/2026") is None and parse_day("domani") is None
    assert split_list("ISO 9001, ISO 14001;\nSA8000, ISO 9001") == ["ISO 9001", "ISO 14001", "SA8000"]


def test_countries_by_name_in_either_language_or_by_code() -> None:
    assert country_codes("Germania, France, jp, Stati Uniti", "it") == (["DE", "FR", "JP", "US"], [])
    assert country_codes("Germany, Atlantide", "en") == (["DE"], ["Atlantide"])


def test_the_funding_services_reasons_in_their_parts() -> None:
    assert reason_parts("ATECO 15.20.10 eligible (call open to 15.20)") == {
        "kind": "ateco",
        "company_code": "15.20.10",
        "call_code": "15.20",
    }
    assert reason_parts("open to companies in Toscana") == {"kind": "region", "region": "Toscana"}
    assert reason_parts("open to small companies") == {"kind": "size", "size": "small"}
    assert reason_parts("keyword: innovation") == {"kind": "keyword", "term": "innovation"}
    assert reason_parts("something new") == {"kind": "other", "text": "something new"}


def test_call_filters_become_the_apis_criteria_and_come_back_from_a_saved_search() -> None:
    filters = CallFilters.read("digitale", "open", "Toscana", "small", "15.20", "31/12/2026")
    assert filters.criteria == {
        "text": "digitale",
        "status": ["open"],
        "region": "Toscana",
        "size": "small",
        "ateco": "15.20",
        "deadline_before": "2026-12-31T23:59:59+01:00",
    }
    assert filters.search_params(2) == {
        "q": "digitale",
        "status": "open",
        "region": "Toscana",
        "size": "small",
        "ateco": "15.20",
        "deadline_before": "2026-12-31T23:59:59+01:00",
        "page": 2,
        "page_size": 10,
    }
    saved = filters_of_saved({"name": "x", **filters.criteria})
    assert saved.query() == filters.query()
    assert CallFilters.read("", "bogus", "Atlantide", "", "", "domani").problems == {"deadline_before"}


async def lines_of(text: str) -> AsyncIterator[str]:
    for line in text.split("\n"):
        yield line


async def test_server_sent_events_read_and_written() -> None:
    upstream = ': hello\n\nevent: message\nid: m1\ndata: {"a":\ndata: 1}\n\nretry: 5\n\n'
    found = [frame async for frame in frames_of(lines_of(upstream))]
    assert found == [Frame("message", "m1", ['{"a":', "1}"])]
    assert (
        event_text("message", "<li>\n  x\n</li>", "m1")
        == "event: message\nid: m1\ndata: <li>\ndata:   x\ndata: </li>\n\n"
    )


def test_preferences_as_one_table_and_only_what_changed_is_sent() -> None:
    current = [
        {"category": "funding_alerts", "channel": "email", "enabled": True, "frequency": "instant"},
        {"category": "funding_alerts", "channel": "in_app", "enabled": True, "frequency": "instant"},
        {"category": "membership", "channel": "email", "enabled": True, "frequency": "instant", "transactional": True},
    ]
    categories, channels, cells = table_of(current)
    assert categories == ["funding_alerts", "membership"] and channels == ["email", "in_app"]
    assert cells[("funding_alerts", "email")]["choice"] == "instant"
    form = {"funding_alerts.email": "weekly", "funding_alerts.in_app": "instant", "membership.email": "off"}
    assert changes(current, form) == [("funding_alerts", "email", {"enabled": True, "frequency": "weekly"})]
    assert changes(current, {"funding_alerts.in_app": "off"}) == [("funding_alerts", "in_app", {"enabled": False})]
