"""Connectors: each funding source's own format turned into `CallRecord`s, or `Quarantined` with a reason.

The parsers are pure (decoded JSON or CSV text in, records out) so tests run them on recorded responses; the fetchers
only add HTTP. HTTP errors propagate: the caller retries the whole source later, and keeps what it had meanwhile.

Sources:
- the EU Funding & Tenders Portal search API (English; topics and calls run by EU-funded projects);
- the incentivi.gov.it open-data catalogue (Italian national and regional incentives), as CSV or Solr-style JSON.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from services.funding.domain import (
    CallRecord,
    CallStatus,
    ParsedRecord,
    Quarantined,
    SizeClass,
    Source,
    canonical_region,
    fold,
    is_ateco_code,
)

ROME = ZoneInfo("Europe/Rome")
BRUSSELS = ZoneInfo("Europe/Brussels")


class _Unreadable(ValueError):
    """A field a person must look at; its message is the quarantine reason, so it names the field and the value."""


# ---- shared text helpers ---------------------------------------------------------------------------------------


class _TextExtractor(HTMLParser):
    """Collects an HTML fragment's text, with a line break where a block (paragraph, item, heading) ends."""

    _BLOCKS = frozenset(
        {
            "p",
            "div",
            "br",
            "li",
            "ul",
            "ol",
            "tr",
            "table",
            "section",
            "article",
            "blockquote",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
        }
    )
    _HIDDEN = frozenset({"script", "style"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)  # entities (&nbsp;, &#xa0;, &amp;) arrive already unescaped
        self.parts: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden_depth += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self.parts.append(re.sub(r"\s+", " ", data))  # newlines in HTML source are plain spaces


def _plain_text(markup: str) -> str:
    """Sources send HTML (or text that may hold some); only plain text, one paragraph a line, is passed on."""
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    lines = (" ".join(line.split()) for line in "".join(extractor.parts).split("\n"))
    return "\n".join(line for line in lines if line)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    """Whitespace normalised ('Green Deal  Industrial Plan' happens), empties and repeats dropped, order kept."""
    return tuple(dict.fromkeys(value for value in map(_one_line, values) if value))


# A sentence ends at . ! or ? before a capital, but not after a one-letter word ('D. P. C. M.', 'S.p.A.').
_SENTENCE_END = re.compile(r"(?<!\b[A-Za-z])[.!?](?=\s+[A-ZÀ-Ý])")


def _summary(text: str, limit: int = 200) -> str:
    """From `_plain_text`: the first sentence when it fits in `limit` characters, else as many cut at a word."""
    lines = text.split("\n")
    while len(lines) > 1 and len(lines[0]) < 60 and not lines[0].endswith("."):
        lines.pop(0)  # leading headings ('OVERVIEW', '1. Purpose of the call') say nothing about the call
    text = " ".join(lines)
    if len(text) <= limit:
        return text
    end = _SENTENCE_END.search(text)
    return text[: end.end()] if end and end.end() <= limit else text[:limit].rsplit(" ", 1)[0] + "…"


def _amount(field: str, value: Any) -> int | None:
    """Whole euros from a number or a string: Italian '1.000.000,00' and '15375383,50', plain '650000' and
    '39840.39' (all seen in the sources). Cents are rounded half up."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip().removeprefix("€").removesuffix("€").strip()
    if re.fullmatch(r"\d{1,3}(\.\d{3})+(,\d+)?|\d+,\d+", text):  # Italian: dots group thousands, comma decimals
        text = text.replace(".", "").replace(",", ".")
    elif not re.fullmatch(r"\d+(\.\d+)?", text):
        raise _Unreadable(f"{field} '{value}' is not an amount")
    return int(Decimal(text).quantize(Decimal(1), rounding=ROUND_HALF_UP))


# ---- EU Funding & Tenders Portal ---------------------------------------------------------------------------------

DEFAULT_EU_QUERY: dict[str, Any] = {
    "bool": {
        "must": [
            {"terms": {"type": ["1", "2", "8"]}},  # topics, calls for proposals, calls run by EU-funded projects
            {"terms": {"status": ["31094501", "31094502"]}},  # forthcoming, open
        ]
    }
}

_EU_STATUS = {"31094501": CallStatus.FORTHCOMING, "31094502": CallStatus.OPEN, "31094503": CallStatus.CLOSED}

_EU_PROGRAMMES = {
    "43108390": "Horizon Europe",
    "43252476": "Single Market Programme (SMP)",
    "43152860": "Digital Europe Programme",
    "43251567": "LIFE",
    "43298916": "Interreg",
}

# Where a result keeps its description: `descriptionByte` for topics; in the recorded calls run by EU-funded projects
# (type 8) it is `destinationDetails` (the same HTML as `beneficiaryAdministration`), with only extras in
# `description`.
_EU_DESCRIPTION_KEYS = ("descriptionByte", "destinationDetails", "beneficiaryAdministration", "description")

_MONTHS = {
    name: number
    for number, name in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ),
        start=1,
    )
}

_EU_DEADLINE_HOUR = time(17)  # the portal's standard cut-off, Brussels time, for dates given without a time


def _strings(meta: Mapping[str, Any], key: str) -> list[str]:
    """Every metadata value is a list of strings; tolerate a bare string or a missing key."""
    value = meta.get(key)
    values = value if isinstance(value, list) else [] if value is None else [value]
    return [text for item in values if (text := str(item).strip())]


def _first(meta: Mapping[str, Any], key: str) -> str | None:
    return next(iter(_strings(meta, key)), None)


def _embedded_json(meta: Mapping[str, Any], key: str) -> Any:
    """`budgetOverview` and `actions` are JSON inside a string. They detail what the metadata gives in short
    (`budget`, `deadlineDate`), so one that cannot be read is ignored rather than quarantining the call."""
    text = _first(meta, key)
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError:
        return None


def _eu_day(text: str) -> date | None:
    """A date without a time, as the `actions` JSON gives them: '16 September 2025' or '2025-09-16'."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return date.fromisoformat(text)
    if (match := re.fullmatch(r"(\d{1,2}) ([A-Za-z]+) (\d{4})", text)) and match[2].lower() in _MONTHS:
        return date(int(match[3]), _MONTHS[match[2].lower()], int(match[1]))
    return None


def _eu_moment(field: str, text: str, day_time: time) -> datetime:
    """A portal date as an aware UTC datetime. Metadata dates carry time and offset ('2026-07-13T17:00:00.000+0000');
    a bare day means `day_time` in Brussels."""
    try:
        if day := _eu_day(text):
            return datetime.combine(day, day_time, BRUSSELS).astimezone(UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _Unreadable(f"{field} '{text}' is not a date") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _eu_actions(meta: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    actions = _embedded_json(meta, "actions")
    return [action for action in actions if isinstance(action, dict)] if isinstance(actions, list) else []


def _eu_dates(meta: Mapping[str, Any]) -> tuple[datetime | None, tuple[datetime, ...]]:
    """Opening and deadlines from the metadata; from the `actions` JSON only when the metadata has none."""
    actions = _eu_actions(meta)
    openings = [("startDate", text) for text in _strings(meta, "startDate")] or [
        ("actions plannedOpeningDate", str(a["plannedOpeningDate"])) for a in actions if a.get("plannedOpeningDate")
    ]
    deadlines = [("deadlineDate", text) for text in _strings(meta, "deadlineDate")] or [
        ("actions deadlineDates", str(d)) for a in actions for d in a.get("deadlineDates") or []
    ]
    opens = [_eu_moment(field, text, time.min) for field, text in openings]
    return min(opens, default=None), tuple(sorted({_eu_moment(f, text, _EU_DEADLINE_HOUR) for f, text in deadlines}))


def _eu_budget(meta: Mapping[str, Any], identifier: str) -> tuple[int | None, int | None, int | None]:
    """Budget and the grant range from `budgetOverview`; the plain `budget` metadata when there is no overview."""
    overview = _embedded_json(meta, "budgetOverview")
    action_map = overview.get("budgetTopicActionMap") if isinstance(overview, dict) else None
    entries = (
        [
            entry
            for group in action_map.values()
            if isinstance(group, list)
            for entry in group
            if isinstance(entry, dict)
        ]
        if isinstance(action_map, dict)
        else []
    )
    # A call-wide overview lists every topic of the call; each line's "action" starts with its topic's identifier.
    entries = [e for e in entries if str(e.get("action", "")).startswith(identifier)] or entries

    def amounts(key: str) -> list[int]:
        # 0 is how the portal leaves a contribution unstated (seen in the topic documents), so it is not a limit
        return [amount for entry in entries if (amount := _lenient_amount(entry.get(key)))]

    yearly = [
        _lenient_amount(v) or 0
        for e in entries
        if isinstance(e.get("budgetYearMap"), dict)
        for v in e["budgetYearMap"].values()
    ]
    budget = sum(yearly) or _amount("budget", _first(meta, "budget"))
    return budget, min(amounts("minContribution"), default=None), max(amounts("maxContribution"), default=None)


def _lenient_amount(value: Any) -> int | None:
    try:
        return _amount("", value)
    except _Unreadable:
        return None


def _eu_description_html(meta: Mapping[str, Any]) -> str | None:
    return next((text for key in _EU_DESCRIPTION_KEYS if (text := _first(meta, key))), None)


def _eu_richness(result: Mapping[str, Any]) -> tuple[bool, bool, int]:
    """How much a result says: results sharing an identifier include empty stubs, and the fullest one is kept."""
    meta = result.get("metadata") or {}
    return (
        _first(meta, "status") is not None,
        _eu_description_html(meta) is not None,
        sum(1 for value in meta.values() if value),
    )


def _eu_title(result: Mapping[str, Any], meta: Mapping[str, Any]) -> str | None:
    # A type 8 result is a call run by an EU-funded project ("cascade funding"): its `title` is the EU topic that
    # funded the project, its `callTitle` the call a company actually applies to.
    keys = ("callTitle", "title") if _first(meta, "type") == "8" else ("title", "callTitle")
    title = next((text for key in keys if (text := _first(meta, key))), None) or result.get("summary")
    return _one_line(title) if title else None


def _eu_programme(meta: Mapping[str, Any]) -> str | None:
    programme = _first(meta, "frameworkProgramme")
    return _EU_PROGRAMMES.get(programme, f"EU programme {programme}") if programme else None


def _eu_call(result: Mapping[str, Any], external_id: str) -> CallRecord:
    meta = result.get("metadata") or {}
    opens_at, deadlines = _eu_dates(meta)
    budget, grant_min, grant_max = _eu_budget(meta, _first(meta, "identifier") or external_id)
    description = _plain_text(_eu_description_html(meta) or "")
    status = _first(meta, "status")
    return CallRecord(
        source=Source.EU_FUNDING_TENDERS,
        external_id=external_id,
        title_en=_eu_title(result, meta),
        summary=_summary(description),
        description=description,
        programme=_eu_programme(meta),
        status=_EU_STATUS.get(status) if status else None,  # an unknown code: the dates decide
        opens_at=opens_at,
        deadlines=deadlines,
        budget_eur=budget,
        grant_min_eur=grant_min,
        grant_max_eur=grant_max,
        keywords=_unique(_strings(meta, "keywords")),
        tags=_unique(_strings(meta, "tags")),
        url=_first(meta, "url") or result.get("url"),
    )  # sizes, regions and ATECO stay empty: the portal states no such limits


def parse_eu_results(results: Iterable[Mapping[str, Any]]) -> list[ParsedRecord]:
    """The search API's `results` (of every page, so that repeats across pages collapse too), one record per
    call in order of first appearance: of results that repeat a call the fullest is kept, and an empty stub
    is dropped when a full result carries its identifier."""
    chosen: dict[str, Mapping[str, Any]] = {}
    records: list[ParsedRecord | str] = []  # a key marks where its chosen result goes
    for result in results:
        meta = result.get("metadata") or {}
        identifier = _first(meta, "identifier")
        if identifier is None:
            records.append(_eu_quarantined(result, None, "the result has no identifier"))
            continue
        key = _eu_key(meta, identifier)
        if key not in chosen:
            chosen[key] = result
            records.append(key)
        elif _eu_richness(result) > _eu_richness(chosen[key]):
            chosen[key] = result
    described = {_first(r.get("metadata") or {}, "identifier") for r in chosen.values() if _eu_is_full(r)}
    return [
        item if not isinstance(item, str) else _eu_record(chosen[item], item)
        for item in records
        if not isinstance(item, str)
        or _eu_is_full(chosen[item])
        or _first(chosen[item].get("metadata") or {}, "identifier") not in described
    ]


def _eu_key(meta: Mapping[str, Any], identifier: str) -> str:
    """A call's own key. Calls run by EU-funded projects (type 8, cascade funding) carry the identifier of the
    topic that funded the project, so one project's several calls share it: their call id tells them apart."""
    if _first(meta, "type") == "8" and (call_id := _first(meta, "callccm2Id")):
        return f"{identifier}/{call_id}"
    return identifier


def _eu_is_full(result: Mapping[str, Any]) -> bool:
    has_status, has_description, _ = _eu_richness(result)
    return has_status and has_description


def _eu_record(result: Mapping[str, Any], external_id: str) -> ParsedRecord:
    try:
        return _eu_call(result, external_id)
    except _Unreadable as unreadable:
        return _eu_quarantined(result, external_id, str(unreadable))


def _eu_quarantined(result: Mapping[str, Any], identifier: str | None, reason: str) -> Quarantined:
    return Quarantined(Source.EU_FUNDING_TENDERS, identifier, reason, raw=json.dumps(result, ensure_ascii=False))


async def fetch_eu_calls(
    client: httpx.AsyncClient,
    search_url: str,
    text: str = "***",
    query: dict[str, Any] | None = None,
    page_size: int = 100,
) -> list[ParsedRecord]:
    """Every page of a portal search (by default: forthcoming and open topics and calls), parsed."""
    results: list[Mapping[str, Any]] = []
    page_number = 1
    while True:
        page = await _eu_page(client, search_url, text, query or DEFAULT_EU_QUERY, page_size, page_number)
        batch = page.get("results") or []
        results.extend(batch)
        # the server's own pageSize counts: it may serve fewer per page than asked
        if not batch or page_number * int(page.get("pageSize") or page_size) >= int(page.get("totalResults") or 0):
            return parse_eu_results(results)
        page_number += 1


async def _eu_page(
    client: httpx.AsyncClient, search_url: str, text: str, query: dict[str, Any], page_size: int, page_number: int
) -> dict[str, Any]:
    # The API reads `query` and `languages` only as JSON file parts of a multipart form.
    response = await client.post(
        search_url,
        params={"apiKey": "SEDIA", "text": text, "pageSize": page_size, "pageNumber": page_number},
        files={
            "query": ("blob", json.dumps(query), "application/json"),
            "languages": ("blob", json.dumps(["en"]), "application/json"),
        },
    )
    response.raise_for_status()
    return response.json()


# ---- incentivi.gov.it open data ----------------------------------------------------------------------------------

_SIZES = {
    "microimpresa": SizeClass.MICRO,
    "piccola impresa": SizeClass.SMALL,
    "media impresa": SizeClass.MEDIUM,
    "grande impresa": SizeClass.LARGE,
}  # "Non classificabile/classificato" says nothing about size

_IT_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2})[:.](\d{2})(?::(\d{2}))?)?")
_END_OF_DAY = time(23, 59, 59)


def _values(value: Any) -> list[str]:
    """A multi-valued field: a JSON array, or a string joined with ';' (with or without spaces, often one at the end),
    as both forms carry `Codici_ATECO`, and the CSV export every list."""
    items = value if isinstance(value, list) else str(value).split(";") if value is not None else []
    return [text for item in items if (text := _one_line(str(item)))]


def _text(value: Any) -> str | None:
    return (_one_line(str(value)) or None) if value is not None else None


def _rome_local(field: str, text: str) -> datetime:
    """A catalogue date as Rome local time. 'dd/mm/yyyy' (optionally with a time) is Rome's; so is an ISO value at
    midnight ('2024-02-23T00:00:00'). Older records hold UTC instants without a zone: '2022-10-16T22:00:00' is
    Rome's midnight of 17 October and '2022-11-25T11:00:00' the noon deadline their notes announce."""
    try:
        if match := _IT_DATE.fullmatch(text):
            day, month, year, hour, minute, second = (int(part or 0) for part in match.groups())
            return datetime(year, month, day, hour, minute, second, tzinfo=ROME)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _Unreadable(f"{field} '{text}' is not a date") from None
    if moment.tzinfo is not None:
        return moment.astimezone(ROME)
    if moment.time() == time.min:
        return moment.replace(tzinfo=ROME)
    return moment.replace(tzinfo=UTC).astimezone(ROME)


def _opening(record: Mapping[str, Any]) -> datetime | None:
    text = _text(record.get("Data_apertura"))
    return _rome_local("Data_apertura", text).astimezone(UTC) if text else None  # a date opens at Rome's midnight


def _closing(record: Mapping[str, Any]) -> tuple[datetime, ...]:
    text = _text(record.get("Data_chiusura"))
    if not text:
        return ()
    local = _rome_local("Data_chiusura", text)
    if local.time() == time.min:  # a bare date: applications are taken until the end of that day in Rome
        local = datetime.combine(local.date(), _END_OF_DAY, ROME)
    return (local.astimezone(UTC),)


def _ateco_codes(value: Any) -> tuple[str, ...]:
    """ATECO codes a call is limited to; () when open to every sector ('Tutti i settori economici ...')."""
    items = _values(value)
    if any(fold(item).startswith("tutti") for item in items):
        return ()
    for item in items:
        if not is_ateco_code(item):
            raise _Unreadable(f"Codici_ATECO '{item}' is neither an ATECO code nor 'Tutti i settori'")
    return _unique(map(_ateco_prefix, items))


def _ateco_prefix(code: str) -> str:
    """The catalogue pads a whole division or group with zeros ('55.00' for all of 55, '47.10' for group 47.1).
    ATECO ends a code in 0 only where that level is not subdivided, so dropping trailing zeros (below the division)
    never changes what a real code covers, and turns the padded ones into prefixes `ateco_covers` can match."""
    digits = code.replace(".", "")
    significant = digits[:2] + digits[2:].rstrip("0")
    return ".".join(part for part in (significant[:2], significant[2:4], significant[4:]) if part)


def _incentivo_call(record: Mapping[str, Any]) -> CallRecord:
    external_id, title = _text(record.get("ID_Incentivo")), _text(record.get("Titolo"))
    if external_id is None or title is None:
        raise _Unreadable(f"the record has no {'ID_Incentivo' if external_id is None else 'Titolo'}")
    description = _plain_text(str(record.get("Descrizione") or ""))
    return CallRecord(
        source=Source.INCENTIVI_GOV_IT,
        external_id=external_id,
        title_it=title,
        # descriptions open with the catalogue's heading "Cos'è" ("What it is"), which says nothing on its own
        summary=_summary(re.sub(r"^Cos['’]è\s*", "", description)),
        description=description,
        programme=_text(record.get("Soggetto_Concedente")),
        opens_at=_opening(record),
        deadlines=_closing(record),
        budget_eur=_amount("Stanziamento_incentivo", record.get("Stanziamento_incentivo")),
        grant_min_eur=_amount("Agevolazione_Concedibile_min", record.get("Agevolazione_Concedibile_min")),
        grant_max_eur=_amount("Agevolazione_Concedibile_max", record.get("Agevolazione_Concedibile_max")),
        sizes=frozenset(size for name in _values(record.get("Dimensioni")) if (size := _SIZES.get(fold(name)))),
        # 'Estero' (abroad) and other non-regions are dropped; every region listed means nationwide, kept as is
        regions=frozenset(region for name in _values(record.get("Regioni")) if (region := canonical_region(name))),
        ateco_codes=_ateco_codes(record.get("Codici_ATECO")),
        keywords=_unique(_values(record.get("Obiettivo_Finalita")) + _values(record.get("Settore_Attivita"))),
        tags=_unique(_values(record.get("Forma_agevolazione"))),
        url=_text(record.get("Link_istituzionale")),
    )  # status stays None: the catalogue's dates decide


def _incentivo(record: Mapping[str, Any], raw: str) -> ParsedRecord:
    try:
        return _incentivo_call(record)
    except _Unreadable as unreadable:
        return Quarantined(Source.INCENTIVI_GOV_IT, _text(record.get("ID_Incentivo")), str(unreadable), raw)


def parse_incentivi_json(document: Mapping[str, Any]) -> list[ParsedRecord]:
    """The catalogue's Solr-style JSON: `{"response": {"numFound": N, "docs": [...]}}`, lists as JSON arrays.
    Other JSON (an error object, say) raises ValueError: the source failed, no record is at fault."""
    docs = (document.get("response") or {}).get("docs")
    if not isinstance(docs, list):
        raise ValueError(f"not the catalogue's JSON (no response.docs): {json.dumps(document)[:80]}")
    return [_incentivo(doc, json.dumps(doc, ensure_ascii=False)) for doc in docs]


def parse_incentivi_csv(text: str) -> list[ParsedRecord]:
    """The catalogue's CSV export: UTF-8 with a byte-order mark, ',' or ';' between columns, lists joined by ';'."""
    text = text.removeprefix("\ufeff")
    header = text.partition("\n")[0]
    delimiter = ";" if header.count(";") > header.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    columns = next(reader, [])
    return [_incentivo(dict(zip(columns, row, strict=False)), _csv_line(row, delimiter)) for row in reader if any(row)]


def _csv_line(row: list[str], delimiter: str) -> str:
    """A quarantined row kept as a CSV line, as the export had it."""
    line = io.StringIO()
    csv.writer(line, delimiter=delimiter, lineterminator="").writerow(row)
    return line.getvalue()


async def fetch_incentivi(client: httpx.AsyncClient, url: str) -> list[ParsedRecord]:
    """The catalogue from `url` as JSON or CSV, told apart by the body itself (its first character after the BOM,
    or the CSV header) rather than by a content type. Anything else, such as an error page served with 200, raises
    ValueError instead of becoming a page of quarantined rows."""
    response = await client.get(url)
    response.raise_for_status()
    text = response.content.decode("utf-8-sig")
    if text.lstrip().startswith("{"):
        return parse_incentivi_json(json.loads(text))
    if "ID_Incentivo" in text.partition("\n")[0]:
        return parse_incentivi_csv(text)
    content_type = response.headers.get("content-type", "no content type")
    raise ValueError(f"{url} served neither the catalogue's JSON nor its CSV ({content_type}): {text[:80]!r}")
