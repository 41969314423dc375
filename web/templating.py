"""Pages from Jinja2 templates (templates/<area>/*.html.j2), one environment per language with that language's
catalogs installed, and Babel's ways of writing dates, times, money and countries as filters."""

from __future__ import annotations

import gettext
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from web.i18n import LANGUAGES, Formats
from web.session import CSRF_FIELD, Session

TEMPLATES = Path(__file__).resolve().parent / "templates"
LANGUAGE_NAMES = {"it": "Italiano", "en": "English"}


class Pages:
    def __init__(self, translations: dict[str, gettext.NullTranslations], folder: Path = TEMPLATES) -> None:
        self._environments = {language: environment(language, translations[language], folder) for language in LANGUAGES}

    def render(self, request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        """A whole page, or (for htmx) a fragment: any template, with what every page needs in its context."""
        language: str = request.state.language
        page = self._environments[language].get_template(template)
        return HTMLResponse(page.render(page_context(request) | context), status_code=status_code)

    def text(self, language: str, message: str) -> str:
        """One message translated outside a template (a notice after a redirect, an error's words)."""
        translate: Callable[[str], str] = self._environments[language].globals["gettext"]  # type: ignore[assignment]  # installed by the i18n extension
        return str(translate(message))


def environment(language: str, translations: gettext.NullTranslations, folder: Path) -> Environment:
    env = Environment(
        loader=FileSystemLoader(folder),
        autoescape=select_autoescape(["html", "html.j2"]),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]  # added by the i18n extension
    formats = Formats(language)
    env.filters.update(
        date=formats.date,
        weekday_date=formats.weekday_date,
        time=formats.time,
        money=formats.money,
        number=formats.number,
        country=formats.country,
        language_name=formats.language_name,
        localized=lambda item, name: in_language(item, name, language),
    )
    env.globals.update(language=language, language_names=LANGUAGE_NAMES, csrf_field=CSRF_FIELD)
    return env


def in_language(item: dict[str, Any], name: str, language: str) -> str:
    """An API's text given in both languages (title_it, title_en): the page's, or the Italian when there is none."""
    return str(item.get(f"{name}_{language}") or item.get(f"{name}_it") or "")


def page_context(request: Request) -> dict[str, Any]:
    session: Session = request.state.session
    return {
        "request": request,
        "path": request.url.path,
        "session": session,
        "person": session.person if session.signed_in else None,
        "csrf_token": session.csrf_token,
        "notice": session.take_notice(),
        "language_links": language_links(request),
        "query_with": lambda **changes: query_with(request, **changes),
    }


def language_links(request: Request) -> dict[str, str]:
    """The same page in each language: ?lang= switches, and the choice is remembered in a cookie."""
    return {language: query_with(request, lang=language) for language in LANGUAGES}


def query_with(request: Request, **changes: str | int | None) -> str:
    """This page's address with some query parameters changed (None removes one): pages of results, facets."""
    kept = [(key, value) for key, value in request.query_params.multi_items() if key not in changes]
    added = [(key, str(value)) for key, value in changes.items() if value is not None and value != ""]
    query = urlencode(kept + added)
    return f"{request.url.path}?{query}" if query else request.url.path
