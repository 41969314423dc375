"""Messages written from templates: templates/<language>/<kind>.j2 hold a `subject` and a `body` block (plain
text, paragraphs separated by blank lines) and may hold `action` (the label of the message's link) and `ticket`
(the words standing for the ticket's QR code, when the email shows one). The HTML part of an email is the same
text in templates/layout.html.j2, so each message is written once per language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.notifications.domain import DISTRICT_TIME, Kind

TEMPLATES = Path(__file__).parent / "templates"
# The Content-ID by which an email's HTML shows the ticket's QR code, attached beside it (RFC 2392).
TICKET_CONTENT_ID = "ticket@filiera"
LANGUAGES = ("it", "en")
MONTHS = {
    "it": [
        "gennaio",
        "febbraio",
        "marzo",
        "aprile",
        "maggio",
        "giugno",
        "luglio",
        "agosto",
        "settembre",
        "ottobre",
        "novembre",
        "dicembre",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}


@dataclass(frozen=True)
class Rendered:
    title: str
    body: str  # what the inbox shows beside the link
    text: str  # the plain-text part of an email: the body and the link spelled out
    html: str


def one_line(text: str) -> str:
    """Text for a title or a header: its whitespace, line breaks included, collapsed to single spaces."""
    return " ".join(text.split())


def language_of(preferred: str | None) -> str:
    return preferred if preferred in LANGUAGES else "it"


def _when(moment: datetime | str | None, language: str, zone: str = "Europe/Rome") -> str:
    """A moment as people of the district read it, in the event's own time zone."""
    if moment is None:
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    local = moment.astimezone(ZoneInfo(zone) if zone else DISTRICT_TIME)
    month = MONTHS[language][local.month - 1]
    if language == "it":
        return f"{local.day} {month} {local.year}, ore {local:%H:%M}"
    return f"{local.day} {month} {local.year}, {local:%H:%M}"


def _euros(amount_cents: int | None, language: str) -> str:
    if amount_cents is None:
        return ""
    whole = f"{amount_cents // 100:,}".replace(",", "." if language == "it" else ",")
    cents = amount_cents % 100
    return f"€ {whole},{cents:02d}" if language == "it" else f"€{whole}.{cents:02d}"


class Templates:
    """The message templates, each rendered as a subject, a body, and an email's plain-text and HTML parts."""

    def __init__(self) -> None:
        self._text = Environment(
            loader=FileSystemLoader(TEMPLATES),
            undefined=StrictUndefined,
            autoescape=False,
            keep_trailing_newline=False,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._html = Environment(
            loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined, autoescape=select_autoescape(["html.j2"])
        )
        self._text.filters["when"] = _when
        self._text.filters["euros"] = _euros

    def render(
        self, kind: Kind, language: str, context: dict[str, Any], link: str | None = None, ticket: bool = False
    ) -> Rendered:
        """`ticket`: the email shows the ticket's QR code, described by the template's `ticket` block."""
        template = self._text.get_template(f"{language}/{kind.value}.j2")
        variables = {**context, "language": language}

        def block(name: str) -> str | None:
            if name not in template.blocks:
                return None
            return "".join(template.blocks[name](template.new_context(variables))).strip()

        subject = one_line(block("subject") or "")
        body = block("body") or ""
        action = block("action")
        html = self._html.get_template("layout.html.j2").render(
            subject=subject,
            paragraphs=[part.strip() for part in body.split("\n\n") if part.strip()],
            link=link,
            action=action,
            ticket=(TICKET_CONTENT_ID, one_line(block("ticket") or "")) if ticket else None,
            language=language,
        )
        text = f"{body}\n\n{action or link}: {link}" if link else body
        return Rendered(title=subject, body=body, text=text, html=html)
