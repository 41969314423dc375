"""The public B2B directory: what a buyer asks of it, and the words a company is found by, in Italian and English
(its name, descriptions and place, what it does, where it exports, its certifications)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from babel import Locale

from services.members.domain.companies import Capability
from shared.text import fold

# What buyers and the district call each capability, Italian then English: the trade's own names too (a
# "suolificio" makes soles), so a buyer finds a sole maker by typing either.
CAPABILITY_NAMES: dict[Capability, tuple[str, ...]] = {
    Capability.FINISHED_SHOES: ("calzature", "scarpe", "calzaturificio", "finished shoes", "footwear", "shoe maker"),
    Capability.SOLES: ("suole", "suolificio", "fondi", "soles", "outsoles", "sole maker"),
    Capability.UPPERS: ("tomaie", "tomaificio", "uppers", "upper maker"),
    Capability.PATTERN_MAKING: ("modelleria", "modellista", "modelli", "pattern making", "pattern maker"),
    Capability.LEATHER_CUTTING: ("taglio pelle", "tranceria", "leather cutting", "die cutting"),
    Capability.COMPONENTS: ("componenti", "accessori", "components", "accessories", "trims"),
    Capability.LASTS: ("forme", "formificio", "lasts", "last maker"),
    Capability.HEELS: ("tacchi", "tacchificio", "heels", "heel maker"),
    Capability.STITCHING: ("orlatura", "cucitura", "giunteria", "stitching", "sewing", "closing"),
    Capability.FINISHING: ("finissaggio", "rifinitura", "finishing"),
    Capability.DESIGN: ("design", "progettazione", "stile", "styling"),
    Capability.PROTOTYPING: ("prototipi", "prototipia", "campionatura", "prototyping", "prototypes", "sampling"),
    Capability.LEATHER_GOODS: ("pelletteria", "borse", "leather goods", "bags"),
    Capability.MACHINERY: ("macchinari", "macchine", "machinery", "machines"),
    Capability.LOGISTICS: ("logistica", "spedizioni", "trasporti", "logistics", "shipping"),
}

# Names people use beside the official ones (Babel gives those: "Stati Uniti", "United Kingdom").
_COUNTRY_ALIASES: dict[str, tuple[str, ...]] = {"US": ("USA", "America"), "GB": ("UK", "Inghilterra", "England")}

# Words that join a buyer's request ("soles in Germany", "suole per la Germania") without narrowing it.
_JOINING_WORDS = frozenset(
    {"a", "an", "the", "of", "in", "to", "from", "for", "and", "with", "by", "that"}
    | {"export", "exports", "exporting", "exporter", "exporters", "esporta", "esportano", "esportazione", "verso"}
    | {"di", "del", "della", "dei", "degli", "delle", "da", "dal", "al", "alla", "ai", "per", "con", "e", "ed"}
    | {"il", "lo", "la", "i", "gli", "le", "un", "una", "che"}
)


@cache
def _country_names(code: str) -> tuple[str, ...]:
    """A country's names in Italian and English, from its ISO 3166 code (CLDR's data, through Babel)."""
    names = [Locale.parse(language).territories.get(code) for language in ("it", "en")]
    return (*(name for name in names if name), *_COUNTRY_ALIASES.get(code, ()))


def country_names(codes: Iterable[str]) -> list[str]:
    return [name for code in codes for name in _country_names(code.upper())]


def capability_names(capabilities: Iterable[str]) -> list[str]:
    return [name for capability in capabilities for name in CAPABILITY_NAMES.get(Capability(capability), ())]


class Listed(Protocol):
    """What the directory reads of a company (read-only, so a company's lists of narrower types fit)."""

    @property
    def legal_name(self) -> str: ...
    @property
    def description_it(self) -> str: ...
    @property
    def description_en(self) -> str: ...
    @property
    def comune(self) -> str: ...
    @property
    def frazione(self) -> str | None: ...
    @property
    def ateco_primary(self) -> str: ...
    @property
    def ateco_secondary(self) -> Sequence[str]: ...
    @property
    def capabilities(self) -> Sequence[str]: ...
    @property
    def certifications(self) -> Sequence[str]: ...
    @property
    def export_markets(self) -> Sequence[str]: ...


def searchable_text(company: Listed) -> str:
    """Every word a company is found by, folded (no case, no accents)."""
    return fold(
        " ".join(
            [
                company.legal_name,
                company.description_it,
                company.description_en,
                company.comune,
                company.frazione or "",
                *company.capabilities,
                *capability_names(company.capabilities),
                *country_names(company.export_markets),
                *company.certifications,
            ]
        )
    )


def _found(word: str, text: str) -> bool:
    """A word is found as typed or, for an English plural ("makers"), as its singular."""
    return word in text or (len(word) > 3 and word.endswith("s") and word[:-1] in text)


def searched_words(text: str) -> list[str]:
    """The words of a search that must each be found: all but those that only join the others."""
    return [word for word in fold(text).split() if word not in _JOINING_WORDS]


@dataclass(frozen=True)
class DirectoryQuery:
    """What a buyer asks the directory; every criterion given must hold. Text is matched without case or accents,
    in both languages, word by word."""

    text: str | None = None
    capability: str | None = None
    ateco: str | None = None  # a code or a prefix: 15.20 finds 15.20.10
    certification: str | None = None
    market: str | None = None  # ISO country code

    def admits(self, company: Listed) -> bool:
        codes = [company.ateco_primary, *company.ateco_secondary]
        if self.capability and self.capability not in company.capabilities:
            return False
        if self.ateco and not any(code == self.ateco or code.startswith(self.ateco + ".") for code in codes):
            return False
        if self.certification and fold(self.certification) not in [fold(c) for c in company.certifications]:
            return False
        if self.market and self.market.upper() not in company.export_markets:
            return False
        if self.text:
            text = searchable_text(company)
            return all(_found(word, text) for word in searched_words(self.text))
        return True
