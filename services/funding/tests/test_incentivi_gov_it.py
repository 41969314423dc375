"""The incentivi.gov.it connector reads the open-data catalogue's real formats: the recorded JSON, and the CSV
export written from it as the daily export writes it, in; `CallRecord`s or reasons out."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from services.funding.classifications import ITALIAN_REGIONS, ateco_covers
from services.funding.connectors.incentivi_gov_it import fetch_incentivi, parse_incentivi_csv, parse_incentivi_json
from services.funding.domain import SizeClass, Source
from services.funding.tests.parsed_records import FIXTURES, assert_all_datetimes_utc, calls, quarantined, utc

INCENTIVI = json.loads((FIXTURES / "open-data-sample.json").read_text(encoding="utf-8"))


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
    return str(value)


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
