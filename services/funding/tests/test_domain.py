"""The funding rules without I/O: status from dates, what is news, what staff may edit, a call's consistency,
ATECO hierarchy, regions, reminders, and matching with its reasons and what of it is announced."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.funding.classifications import ateco_covers, canonical_region
from services.funding.domain import (
    AnnouncedMatch,
    CallFacts,
    CallRecord,
    CallStatus,
    CompanyProfile,
    Match,
    Matcher,
    SizeClass,
    Source,
    check_call_terms,
    eligibility_keys,
    ensure_edited_by_staff,
    last_of_each,
    match,
    match_is_news,
    news,
    next_deadline,
    reminder_due,
    reminder_horizon,
    search_text,
    status_on,
)
from shared.errors import Conflict, DomainError
from shared.text import fold

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def company(**overrides: object) -> CompanyProfile:
    values: dict[str, Any] = dict(
        id="c1",
        name="Calzaturificio",
        active=True,
        size_class=SizeClass.SMALL,
        region="Toscana",
        ateco_codes=("15.20.10",),
        interests=("finished_shoes", "sustainability"),
    )
    values.update(overrides)
    return CompanyProfile(**values)


def call(**overrides: object) -> CallFacts:
    values: dict[str, Any] = dict(source=Source.STAFF, external_id="x", title_it="Bando", summary="")
    values.update(overrides)
    return CallFacts.of("call-1", CallRecord(**values))


def test_status_follows_the_dates_unless_the_source_says_otherwise() -> None:
    day = timedelta(days=1)
    assert status_on(NOW, None, NOW + day, (NOW + 9 * day,)) == CallStatus.FORTHCOMING
    assert status_on(NOW, None, NOW - day, (NOW + 9 * day,)) == CallStatus.OPEN
    assert status_on(NOW, None, None, ()) == CallStatus.OPEN
    assert status_on(NOW, CallStatus.FORTHCOMING, NOW - day, (NOW + day,)) == CallStatus.FORTHCOMING
    # Two-stage: open until the last deadline; closed after it, whatever a lagging feed still says.
    assert status_on(NOW, None, None, (NOW - day, NOW + day)) == CallStatus.OPEN
    assert status_on(NOW, CallStatus.OPEN, None, (NOW - 2 * day, NOW - day)) == CallStatus.CLOSED


def test_the_next_deadline_is_the_first_still_ahead() -> None:
    day = timedelta(days=1)
    assert next_deadline(NOW, (NOW - day, NOW + day, NOW + 2 * day)) == NOW + day
    assert next_deadline(NOW, (NOW - day,)) is None
    assert next_deadline(NOW, ()) is None


def test_fields_derived_for_queries_are_not_news() -> None:
    assert news(["summary", "next_deadline", "budget_eur", "search_text", "eligibility", "stated_status"]) == [
        "budget_eur",
        "summary",
    ]
    assert news(["next_deadline"]) == []


def test_only_staff_entered_calls_are_edited_by_staff() -> None:
    ensure_edited_by_staff(Source.STAFF)
    for source in (Source.EU_FUNDING_TENDERS, Source.INCENTIVI_GOV_IT):
        with pytest.raises(Conflict, match="follows it"):
            ensure_edited_by_staff(source)


def test_a_call_must_say_its_amounts_and_dates_consistently() -> None:
    day = timedelta(days=1)
    check_call_terms(5_000, 50_000, NOW, [NOW + day])
    check_call_terms(None, None, None, [])
    with pytest.raises(DomainError, match="grant_min_eur is above grant_max_eur"):
        check_call_terms(60_000, 50_000, None, [])
    with pytest.raises(DomainError, match="dates need a time zone offset"):
        check_call_terms(None, None, None, [datetime(2027, 3, 31, 17)])
    with pytest.raises(DomainError, match="every deadline must come after the opening"):
        check_call_terms(None, None, NOW, [NOW + day, NOW])


def test_a_source_listing_a_call_twice_is_taken_at_its_last_word() -> None:
    first, other, last = (
        CallRecord(Source.STAFF, external_id, title_it=title)
        for external_id, title in [("a", "first"), ("b", "other"), ("a", "last")]
    )
    assert last_of_each([first, other, last]) == [last, other]


def test_search_reads_titles_summary_programme_identifier_keywords_and_tags_folded() -> None:
    record = CallRecord(
        Source.STAFF,
        "SMP-2026",
        title_it="Attività",
        title_en="Export",
        summary="Fiere",
        description="not searched",
        programme="FESR",
        keywords=("Pelle",),
        tags=("Voucher",),
    )
    assert search_text(record) == "attivita export fiere fesr smp-2026 pelle voucher"


def test_ateco_codes_cover_their_children_only() -> None:
    assert ateco_covers("15.20", "15.20.10")
    assert ateco_covers("15.2", "15.20.20")
    assert ateco_covers("15", "15.11.00")
    assert ateco_covers("15.20.10", "15.20.10")
    assert not ateco_covers("15.20.10", "15.20")  # a narrower call does not cover the wider class
    assert not ateco_covers("15.2", "15.30.00")
    assert not ateco_covers("15.20", "15.21.00")


def test_regions_are_recognised_however_they_are_spelt() -> None:
    assert canonical_region("Trentino-Alto Adige/Südtirol") == "Trentino-Alto Adige"
    assert canonical_region("TUSCANY") == "Toscana"
    assert canonical_region(" toscana ") == "Toscana"
    assert canonical_region("Estero") is None


def test_folding_ignores_accents_and_case() -> None:
    assert fold("Attività ÉCOLOGIQUE") == "attivita ecologique"


def test_the_shortest_lead_time_a_deadline_is_within_is_the_reminder_due() -> None:
    leads = (14, 3)
    assert reminder_due(NOW, NOW + timedelta(days=20), leads) is None
    assert reminder_due(NOW, NOW + timedelta(days=10), leads) == 14
    assert reminder_due(NOW, NOW + timedelta(days=2), leads) == 3  # never a late 14-day reminder
    assert reminder_due(NOW, NOW - timedelta(hours=1), leads) is None


def test_reminders_look_as_far_ahead_as_the_longest_lead_time() -> None:
    assert reminder_horizon(NOW, (14, 3)) == NOW + timedelta(days=14)


def test_eligibility_keys_spell_out_the_limits() -> None:
    assert eligibility_keys([SizeClass.SMALL], ["Toscana"], ["15.20"]) == "|size:small|region:Toscana|ateco:1520|"
    assert eligibility_keys([], [], []) == "||"


def test_a_call_for_the_companys_sector_matches_with_its_reasons() -> None:
    found = match(
        call(
            ateco_codes=("15.20",),
            regions=frozenset({"Toscana"}),
            sizes=frozenset({SizeClass.MICRO, SizeClass.SMALL}),
            keywords=("sustainability",),
        ),
        company(),
    )
    assert found is not None
    assert found.reasons == (
        "ATECO 15.20.10 eligible (call open to 15.20)",
        "open to companies in Toscana",
        "open to small companies",
        "keyword: sustainability",
    )
    assert found.score == 90


def test_hard_limits_exclude_whatever_the_relevance() -> None:
    relevant = dict(keywords=("sustainability",), ateco_codes=("15.20",))
    assert match(call(sizes=frozenset({SizeClass.MEDIUM}), **relevant), company()) is None
    assert match(call(regions=frozenset({"Veneto"}), **relevant), company()) is None
    assert match(call(ateco_codes=("14.11",), keywords=("sustainability",)), company()) is None
    assert match(call(**relevant), company(active=False)) is None


def test_a_region_or_a_size_alone_is_not_a_reason_to_write() -> None:
    assert match(call(regions=frozenset({"Toscana"}), sizes=frozenset({SizeClass.SMALL})), company()) is None
    # Words count: a call about the company's interests, open to everyone, matches on them.
    found = match(
        call(title_en="Sustainability and circularity in footwear", tags=("finished",)),
        company(interests=("sustainability", "finished shoes")),
    )
    assert found is not None and found.reasons == ("keyword: finished", "keyword: sustainability")


def test_the_matcher_finds_exactly_what_scoring_every_pair_finds() -> None:
    rng = random.Random(20261125)
    vocabulary = [
        "sustainability",
        "digitalisation",
        "export",
        "leather",
        "training",
        "energy",
        "design",
        "innovation",
        "circular",
        "robotics",
    ]
    codes = ["15.20.10", "15.20.20", "15.11.00", "14.19.10", "22.29.09"]
    regions = ["Toscana", "Veneto", "Marche", "Lombardia"]
    companies = [
        company(
            id=f"c{n}",
            size_class=rng.choice(list(SizeClass)),
            region=rng.choice(regions),
            ateco_codes=(rng.choice(codes),),
            interests=tuple(rng.sample(vocabulary, 2)),
            active=rng.random() > 0.1,
        )
        for n in range(300)
    ]
    calls = [
        call(
            ateco_codes=tuple(rng.sample(["15.20", "15", "14.19", "22"], rng.randint(0, 2))),
            regions=frozenset(rng.sample(regions, rng.randint(0, 2))),
            sizes=frozenset(rng.sample(list(SizeClass), rng.randint(0, 3))),
            keywords=tuple(rng.sample(vocabulary, rng.randint(0, 3))),
        )
        for _ in range(100)
    ]
    matcher = Matcher(companies)
    for facts in calls:
        expected = {c.id: m for c in companies if (m := match(facts, c)) is not None}
        assert matcher.matches(facts) == expected
    assert sum(len(matcher.matches(facts)) for facts in calls) > 100  # the sample does match, often


def test_a_match_is_announced_when_it_differs_from_what_was_announced() -> None:
    found = Match(75, ("ATECO 15.20.10 eligible (call open to 15.20)",))
    same = AnnouncedMatch(True, 75, found.reasons)
    assert match_is_news(found, None)  # found
    assert not match_is_news(found, same)
    assert match_is_news(Match(90, found.reasons), same)  # updated: another score
    assert match_is_news(Match(75, ("keyword: export",)), same)  # updated: other reasons
    assert match_is_news(found, AnnouncedMatch(False, 75, found.reasons))  # back after a withdrawal
    assert match_is_news(None, same)  # withdrawn
    assert not match_is_news(None, AnnouncedMatch(False, 75, found.reasons))  # withdrawn once only
    assert not match_is_news(None, None)


def test_a_match_back_after_a_withdrawal_moves_from_nothing() -> None:
    assert AnnouncedMatch(True, 75, ()).previous_score == 75
    assert AnnouncedMatch(False, 75, ()).previous_score == 0
