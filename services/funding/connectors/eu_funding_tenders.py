"""The EU Funding & Tenders Portal search API: topics and calls (English), including calls run by EU-funded
projects, turned into `CallRecord`s, or `Quarantined` with a reason.

`parse_eu_results` is pure (decoded JSON in, records out) so tests run it on recorded responses; `fetch_eu_calls`
only adds HTTP. HTTP errors propagate: the caller retries the whole source later, and keeps what it had meanwhile.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from services.funding.connectors.fields import Unreadable, amount, one_line, plain_text, summary, unique
from services.funding.domain import CallRecord, CallStatus, ParsedRecord, Quarantined, Source

BRUSSELS = ZoneInfo("Europe/Brussels")

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
        raise Unreadable(f"{field} '{text}' is not a date") from None
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
    budget = sum(yearly) or amount("budget", _first(meta, "budget"))
    return budget, min(amounts("minContribution"), default=None), max(amounts("maxContribution"), default=None)


def _lenient_amount(value: Any) -> int | None:
    try:
        return amount("", value)
    except Unreadable:
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
    return one_line(title) if title else None


def _eu_programme(meta: Mapping[str, Any]) -> str | None:
    programme = _first(meta, "frameworkProgramme")
    return _EU_PROGRAMMES.get(programme, f"EU programme {programme}") if programme else None


def _eu_call(result: Mapping[str, Any], external_id: str) -> CallRecord:
    meta = result.get("metadata") or {}
    opens_at, deadlines = _eu_dates(meta)
    budget, grant_min, grant_max = _eu_budget(meta, _first(meta, "identifier") or external_id)
    description = plain_text(_eu_description_html(meta) or "")
    status = _first(meta, "status")
    return CallRecord(
        source=Source.EU_FUNDING_TENDERS,
        external_id=external_id,
        title_en=_eu_title(result, meta),
        summary=summary(description),
        description=description,
        programme=_eu_programme(meta),
        status=_EU_STATUS.get(status) if status else None,  # an unknown code: the dates decide
        opens_at=opens_at,
        deadlines=deadlines,
        budget_eur=budget,
        grant_min_eur=grant_min,
        grant_max_eur=grant_max,
        keywords=unique(_strings(meta, "keywords")),
        tags=unique(_strings(meta, "tags")),
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
    except Unreadable as unreadable:
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
    page: dict[str, Any] = response.json()
    return page
