"""The incentivi.gov.it open-data catalogue: Italian national and regional incentives, as CSV or Solr-style JSON,
turned into `CallRecord`s, or `Quarantined` with a reason.

The parsers are pure (decoded JSON or CSV text in, records out) so tests run them on recorded responses;
`fetch_incentivi` only adds HTTP. HTTP errors propagate: the caller retries the whole source later.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, time
from typing import Any

import httpx

from services.funding.classifications import canonical_region, is_ateco_code
from services.funding.connectors.fields import Unreadable, amount, one_line, plain_text, summary, unique
from services.funding.domain import CallRecord, ParsedRecord, Quarantined, SizeClass, Source
from shared.clock import ROME
from shared.text import fold

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
    return [text for item in items if (text := one_line(str(item)))]


def _text(value: Any) -> str | None:
    return (one_line(str(value)) or None) if value is not None else None


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
        raise Unreadable(f"{field} '{text}' is not a date") from None
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
            raise Unreadable(f"Codici_ATECO '{item}' is neither an ATECO code nor 'Tutti i settori'")
    return unique(map(_ateco_prefix, items))


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
        raise Unreadable(f"the record has no {'ID_Incentivo' if external_id is None else 'Titolo'}")
    description = plain_text(str(record.get("Descrizione") or ""))
    return CallRecord(
        source=Source.INCENTIVI_GOV_IT,
        external_id=external_id,
        title_it=title,
        # descriptions open with the catalogue's heading "Cos'è" ("What it is"), which says nothing on its own
        summary=summary(re.sub(r"^Cos['’]è\s*", "", description)),
        description=description,
        programme=_text(record.get("Soggetto_Concedente")),
        opens_at=_opening(record),
        deadlines=_closing(record),
        budget_eur=amount("Stanziamento_incentivo", record.get("Stanziamento_incentivo")),
        grant_min_eur=amount("Agevolazione_Concedibile_min", record.get("Agevolazione_Concedibile_min")),
        grant_max_eur=amount("Agevolazione_Concedibile_max", record.get("Agevolazione_Concedibile_max")),
        sizes=frozenset(size for name in _values(record.get("Dimensioni")) if (size := _SIZES.get(fold(name)))),
        # 'Estero' (abroad) and other non-regions are dropped; every region listed means nationwide, kept as is
        regions=frozenset(region for name in _values(record.get("Regioni")) if (region := canonical_region(name))),
        ateco_codes=_ateco_codes(record.get("Codici_ATECO")),
        keywords=unique(_values(record.get("Obiettivo_Finalita")) + _values(record.get("Settore_Attivita"))),
        tags=unique(_values(record.get("Forma_agevolazione"))),
        url=_text(record.get("Link_istituzionale")),
    )  # status stays None: the catalogue's dates decide


def _incentivo(record: Mapping[str, Any], raw: str) -> ParsedRecord:
    try:
        return _incentivo_call(record)
    except Unreadable as unreadable:
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
