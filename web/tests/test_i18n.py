"""Dates, times and money as people write them here; the language a page speaks; the catalogs merged per language."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from web.catalogs import untranslated
from web.i18n import CatalogConflict, Formats, choose_language, load_translations, merged_catalog, preferred_language


def test_italian_dates_times_and_money() -> None:
    italian = Formats("it")
    assert italian.date(date(2026, 12, 4)) == "4 dicembre 2026"
    assert italian.time("2026-12-04T08:30:00Z") == "09:30", "in Italy's time"
    assert italian.money(1250) == "1.250,00\u00a0€", "a no-break space before the sign"
    assert italian.country("DE") == "Germania"


def test_english_dates_times_and_money() -> None:
    english = Formats("en")
    assert english.date("2026-12-04") == "4 December 2026"
    assert english.time(datetime(2026, 7, 1, 7, 0, tzinfo=UTC)) == "09:00", "summer time in Italy"
    assert english.money("1250.5") == "€1,250.50"
    assert english.country("de") == "Germany"


def test_a_moment_is_dated_as_the_day_it_is_in_italy() -> None:
    assert Formats("it").date("2026-12-04T23:30:00Z") == "5 dicembre 2026"


@pytest.mark.parametrize(
    ("asked", "remembered", "accept", "spoken"),
    [
        ("en", "it", "it", "en"),
        (None, "en", "it-IT,it;q=0.9", "en"),
        (None, None, "de-DE,en;q=0.8,it;q=0.5", "en"),
        (None, None, "fr-FR, it;q=0.3, en;q=0.2", "it"),
        (None, None, "en;q=0, fr", "it"),
        ("xx", "yy", "", "it"),
        (None, None, None, "it"),
    ],
)
def test_the_language_a_page_speaks(asked: str | None, remembered: str | None, accept: str | None, spoken: str) -> None:
    assert choose_language(asked, remembered, accept) == spoken


def test_a_malformed_quality_is_skipped() -> None:
    assert preferred_language("en;q=abc, it") == "it"


def write_po(folder: Path, area: str, pairs: dict[str, str]) -> None:
    path = folder / "it" / "LC_MESSAGES" / f"{area}.po"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f'msgid "{key}"\nmsgstr "{value}"\n\n' for key, value in pairs.items()), encoding="utf-8")


def test_every_area_catalog_of_a_language_is_merged(tmp_path: Path) -> None:
    write_po(tmp_path, "public", {"Events": "Eventi"})
    write_po(tmp_path, "members_area", {"Inbox": "Messaggi", "Events": "Eventi"})
    translations = load_translations("it", tmp_path)
    assert translations.gettext("Events") == "Eventi" and translations.gettext("Inbox") == "Messaggi"
    assert translations.gettext("Untranslated") == "Untranslated"


def test_two_areas_translating_the_same_words_differently_stop_the_start(tmp_path: Path) -> None:
    write_po(tmp_path, "public", {"Events": "Eventi"})
    write_po(tmp_path, "members_area", {"Events": "Manifestazioni"})
    with pytest.raises(CatalogConflict, match="Events"):
        merged_catalog("it", tmp_path)


def test_every_word_of_every_template_has_its_italian() -> None:
    assert untranslated("it") == []
