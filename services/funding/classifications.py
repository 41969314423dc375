"""The Italian classifications calls and companies are described in: ATECO codes (sectors) and regions.

Rules only, no I/O: what an ATECO code looks like and which codes a call's code covers; the regions' names
however a source or a company spells them.
"""

from __future__ import annotations

import re
from typing import get_args

from shared.italy import ItalianRegion
from shared.text import fold

ATECO_PATTERN = r"^\d{2}(\.\d{1,2}){0,2}$"
_ATECO = re.compile(ATECO_PATTERN)


def is_ateco_code(code: str) -> bool:
    return bool(_ATECO.match(code))


def ateco_covers(call_code: str, company_code: str) -> bool:
    """Each digit of an ATECO code is one level down (15 → 15.2 → 15.20 → 15.20.1 → 15.20.10), so a call open
    to 15.20 covers a company in 15.20.10, and 15.2 covers 15.20 but not 15.30."""
    return company_code.replace(".", "").startswith(call_code.replace(".", ""))


def ateco_prefixes(code: str) -> list[str]:
    """Every level above and including the code, as digits: 15.20.10 → 15, 152, 1520, 15201, 152010."""
    digits = code.replace(".", "")
    return [digits[:length] for length in range(2, len(digits) + 1)]


# Every spelling seen in the sources and companies' profiles, folded, to the region's name.
_REGIONS: dict[str, ItalianRegion] = {
    "abruzzo": "Abruzzo",
    "basilicata": "Basilicata",
    "calabria": "Calabria",
    "campania": "Campania",
    "emilia-romagna": "Emilia-Romagna",
    "emilia romagna": "Emilia-Romagna",
    "friuli-venezia giulia": "Friuli-Venezia Giulia",
    "friuli venezia giulia": "Friuli-Venezia Giulia",
    "lazio": "Lazio",
    "liguria": "Liguria",
    "lombardia": "Lombardia",
    "marche": "Marche",
    "molise": "Molise",
    "piemonte": "Piemonte",
    "puglia": "Puglia",
    "sardegna": "Sardegna",
    "sicilia": "Sicilia",
    "toscana": "Toscana",
    "tuscany": "Toscana",
    "trentino-alto adige": "Trentino-Alto Adige",
    "trentino-alto adige/sudtirol": "Trentino-Alto Adige",
    "trentino alto adige": "Trentino-Alto Adige",
    "umbria": "Umbria",
    "valle d'aosta": "Valle d'Aosta",
    "valle d'aosta/vallee d'aoste": "Valle d'Aosta",
    "veneto": "Veneto",
}
ITALIAN_REGIONS: frozenset[str] = frozenset(get_args(ItalianRegion))
ALL_OF_ITALY = len(ITALIAN_REGIONS)


def canonical_region(name: str) -> ItalianRegion | None:
    """The region's usual Italian name, whatever the spelling ('Trentino-Alto Adige/Südtirol', 'Tuscany');
    None for what is not an Italian region ('Estero', a typo)."""
    return _REGIONS.get(fold(name).strip())
