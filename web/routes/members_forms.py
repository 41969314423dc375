"""Reading what people type into the members' area's forms, as they type it here: euros with Italian thousands
dots or English commas ("1.250.000", "1,250,000", "1.250.000,00 €"), Italian dates ("31/12/2026") and the ISO
ones a date field sends, lists separated by commas, countries by their name in either language. The APIs keep
their exact types; what cannot be read is named, and the page says so beside its field."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from web.i18n import country_names

ITALIAN_DAY = re.compile(r"^(?P<day>\d{1,2})[/.-](?P<month>\d{1,2})[/.-](?P<year>\d{4})$")


class Unreadable(ValueError):
    """A value that does not say what its field asks for; `code` is the message the page shows."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def parse_day(text: str) -> dt.date | None:
    """2026-12-31 or 31/12/2026 (also 31.12.2026, 31-12-2026); None when it is neither."""
    text = text.strip()
    if not text:
        return None
    try:
        if found := ITALIAN_DAY.match(text):
            return dt.date(int(found["year"]), int(found["month"]), int(found["day"]))
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def parse_whole_euros(text: str, language: str) -> int | None:
    """An amount in whole euros: empty is None; cents other than ,00 are refused (the API counts whole euros)."""
    cleaned = text.replace("€", "").replace("EUR", "").replace(" ", "").replace("\u00a0", "").strip()
    if not cleaned:
        return None
    amount = decimal_of(cleaned, language)
    if amount < 0:
        raise Unreadable("negative")
    if amount != amount.to_integral_value():
        raise Unreadable("whole_euros")
    return int(amount)


def decimal_of(text: str, language: str) -> Decimal:
    """Thousands and decimals as the language writes them; a lone separator followed by three digits is a
    thousands separator either way ("1.250" and "1,250" are one thousand two hundred and fifty)."""
    thousands, decimals = (".", ",") if language == "it" else (",", ".")
    if re.fullmatch(r"\d{1,3}([.,]\d{3})+", text):
        normal = text.replace(".", "").replace(",", "")
    else:
        normal = text.replace(thousands, "").replace(decimals, ".")
    try:
        return Decimal(normal)
    except InvalidOperation as error:
        raise Unreadable("not_a_number") from error


def parse_count(text: str) -> int | None:
    """A whole number of things (employees): digits, with or without thousands separators."""
    cleaned = text.replace(".", "").replace(",", "").replace(" ", "").strip()
    if not cleaned:
        return None
    if not cleaned.isdigit():
        raise Unreadable("not_a_number")
    return int(cleaned)


def split_list(text: str) -> list[str]:
    """ "a, b; c" or one per line -> ["a", "b", "c"], without blanks or repeats."""
    found: list[str] = []
    for part in re.split(r"[,;\n]", text):
        if (item := part.strip()) and item not in found:
            found.append(item)
    return found


def country_codes(text: str, language: str) -> tuple[list[str], list[str]]:
    """Countries typed by ISO code or by name in Italian or English -> (their codes, what was not a country)."""
    by_name: dict[str, str] = {}
    for spoken in ("it", "en", language):
        by_name |= {name.casefold(): code for code, name in country_names(spoken).items()}
    codes, unknown = [], []
    for item in split_list(text):
        code = (
            item.upper() if len(item) == 2 and item.upper() in country_names(language) else by_name.get(item.casefold())
        )
        if code is None:
            unknown.append(item)
        elif code not in codes:
            codes.append(code)
    return codes, unknown
