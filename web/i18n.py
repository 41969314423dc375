"""Languages: which one a page speaks, its words from the gettext catalogs, and dates, times and money written as
people write them here (4 dicembre 2026, 09:30, 1.250,00 €), always in Italy's time.

Each area keeps its own catalog (translations/<lang>/LC_MESSAGES/<area>.po), so two people never edit the same
file; at start-up every catalog of a language is read and merged, and compiled in memory (no .mo is committed)."""

from __future__ import annotations

import datetime as dt
import gettext
from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import Translations

LANGUAGES = ("it", "en")
DEFAULT_LANGUAGE = "it"
# The regional conventions each language is written with here: Italian as in Italy, English as in Europe.
LOCALES = {"it": "it_IT", "en": "en_GB"}
ROME = ZoneInfo("Europe/Rome")
LANGUAGE_COOKIE = "filiera-lang"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def N_(message: str) -> str:
    """Marks words in Python code for the catalogs (`python -m web.catalogs update` finds them); the page that
    shows them translates them."""
    return message


class CatalogConflict(ValueError):
    """Two areas translate the same words differently: the site would say one or the other by chance."""


def merged_catalog(language: str, folder: Path = TRANSLATIONS) -> Catalog:
    merged = Catalog(locale=language)
    for path in sorted((folder / language / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as source:
            catalog = read_po(source, locale=language)
        for message in catalog:
            if not message.id or not message.string or message.fuzzy:
                continue
            known = merged.get(message.id, message.context)
            if known is not None and known.string != message.string:
                raise CatalogConflict(f"{path.name} translates {message.id!r} unlike another catalog of {language}")
            merged.add(message.id, message.string, context=message.context)
    return merged


def load_translations(language: str, folder: Path = TRANSLATIONS) -> Translations:
    compiled = BytesIO()
    write_mo(compiled, merged_catalog(language, folder))
    compiled.seek(0)
    return Translations(compiled)


def load_all_translations(folder: Path = TRANSLATIONS) -> dict[str, gettext.NullTranslations]:
    return {language: load_translations(language, folder) for language in LANGUAGES}


def choose_language(asked: str | None, remembered: str | None, accept_language: str | None) -> str:
    """?lang= first (a switch), then the cookie (the last switch), then what the browser prefers, then Italian."""
    for candidate in (asked, remembered):
        if candidate in LANGUAGES:
            return candidate
    return preferred_language(accept_language or "")


def preferred_language(accept_language: str) -> str:
    """The first of our languages in an Accept-Language header, by its quality (RFC 9110 §12.5.4)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, parameters = part.strip().partition(";")
        quality = 1.0
        if parameters.strip().startswith("q="):
            try:
                quality = float(parameters.strip()[2:])
            except ValueError:
                continue
        primary = tag.split("-")[0].lower()
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Formats:
    """How a page in `language` writes dates, times, money and country names."""

    language: str

    @property
    def locale(self) -> str:
        return LOCALES[self.language]

    def date(self, value: dt.date | dt.datetime | str | None) -> str:
        """4 dicembre 2026 / 4 December 2026; a moment is dated as the day it is in Italy."""
        moment = as_date_or_moment(value)
        if moment is None:
            return ""
        day = moment.astimezone(ROME).date() if isinstance(moment, dt.datetime) else moment
        return format_date(day, "long", locale=self.locale)

    def weekday_date(self, value: dt.date | dt.datetime | str | None) -> str:
        moment = as_date_or_moment(value)
        if moment is None:
            return ""
        day = moment.astimezone(ROME).date() if isinstance(moment, dt.datetime) else moment
        return format_date(day, "EEEE d MMMM y", locale=self.locale)

    def time(self, value: dt.datetime | str | None) -> str:
        """09:30, in Italy's time whatever the zone the API answered in."""
        moment = as_date_or_moment(value)
        if not isinstance(moment, dt.datetime):
            return ""
        return format_time(moment.astimezone(ROME), "HH:mm", locale=self.locale)

    def money(self, amount: Decimal | float | int | str | None, currency: str = "EUR") -> str:
        """1.250,00 € / €1,250.00"""
        if amount is None or amount == "":
            return ""
        return format_currency(Decimal(str(amount)), currency, locale=self.locale)

    def number(self, value: Decimal | float | int | str) -> str:
        return format_decimal(Decimal(str(value)), locale=self.locale)

    def country(self, code: str | None) -> str:
        """A country's name from its ISO code: DE is Germania in Italian and Germany in English."""
        if not code:
            return ""
        name: str = Locale.parse(self.locale).territories.get(code.upper(), code)
        return name

    def language_name(self, code: str | None) -> str:
        """A language's name from its ISO 639-1 code: de is tedesco in Italian and German in English."""
        if not code:
            return ""
        name: str = Locale.parse(self.locale).languages.get(code.lower(), code)
        return name


def as_date_or_moment(value: dt.date | dt.datetime | str | None) -> dt.date | dt.datetime | None:
    """The API's ISO-8601 strings as Python values (a bare date stays a date)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    if "T" in value or " " in value:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=ROME)
    return dt.date.fromisoformat(value)


def country_names(language: str) -> dict[str, str]:
    """ISO code -> name in `language`, for the two-letter territories only (not continents)."""
    territories = Locale.parse(LOCALES[language]).territories
    return {code: name for code, name in territories.items() if len(code) == 2 and code.isalpha()}
