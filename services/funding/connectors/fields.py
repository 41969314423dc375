"""Reading what every source writes in its own way: HTML descriptions, summaries, lists of words, amounts.

The connectors of each source (`eu_funding_tenders`, `incentivi_gov_it`) use these, and raise `Unreadable` for a
field a person must look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser
from typing import Any


class Unreadable(ValueError):
    """A field a person must look at; its message is the quarantine reason, so it names the field and the value."""


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


def plain_text(markup: str) -> str:
    """Sources send HTML (or text that may hold some); only plain text, one paragraph a line, is passed on."""
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    lines = (" ".join(line.split()) for line in "".join(extractor.parts).split("\n"))
    return "\n".join(line for line in lines if line)


def one_line(text: str) -> str:
    return " ".join(text.split())


def unique(values: Iterable[str]) -> tuple[str, ...]:
    """Whitespace normalised ('Green Deal  Industrial Plan' happens), empties and repeats dropped, order kept."""
    return tuple(dict.fromkeys(value for value in map(one_line, values) if value))


# A sentence ends at . ! or ? before a capital, but not after a one-letter word ('D. P. C. M.', 'S.p.A.').
_SENTENCE_END = re.compile(r"(?<!\b[A-Za-z])[.!?](?=\s+[A-ZÀ-Ý])")


def summary(text: str, limit: int = 200) -> str:
    """From `plain_text`: the first sentence when it fits in `limit` characters, else as many cut at a word."""
    lines = text.split("\n")
    while len(lines) > 1 and len(lines[0]) < 60 and not lines[0].endswith("."):
        lines.pop(0)  # leading headings ('OVERVIEW', '1. Purpose of the call') say nothing about the call
    text = " ".join(lines)
    if len(text) <= limit:
        return text
    end = _SENTENCE_END.search(text)
    return text[: end.end()] if end and end.end() <= limit else text[:limit].rsplit(" ", 1)[0] + "…"


def amount(field: str, value: Any) -> int | None:
    """Whole euros from a number or a string: Italian '1.000.000,00' and '15375383,50', plain '650000' and
    '39840.39' (all seen in the sources). Cents are rounded half up."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip().removeprefix("€").removesuffix("€").strip()
    if re.fullmatch(r"\d{1,3}(\.\d{3})+(,\d+)?|\d+,\d+", text):  # Italian: dots group thousands, comma decimals
        text = text.replace(".", "").replace(",", ".")
    elif not re.fullmatch(r"\d+(\.\d+)?", text):
        raise Unreadable(f"{field} '{value}' is not an amount")
    return int(Decimal(text).quantize(Decimal(1), rounding=ROUND_HALF_UP))
