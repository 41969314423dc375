"""Keeping the catalogs in step with the code: `python -m web.catalogs update` adds the words of each area's
templates (templates/<area>/) and routes (routes/<area>*.py or the package routes/<area>/, words marked with N_)
to translations/<lang>/LC_MESSAGES/<area>.po, keeping what is translated and dropping what nothing says any more;
`check` lists what is still untranslated in Italian (a unit test runs it).
English is the source language, so the English catalogs only hold what English says differently."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from web.i18n import LANGUAGES, TRANSLATIONS
from web.templating import TEMPLATES

ROUTES = Path(__file__).resolve().parent / "routes"
JINJA = [("**.html.j2", "jinja2.ext:babel_extract")]
PYTHON = [("**.py", "python")]
KEYWORDS = {"N_": None}
JINJA_OPTIONS = {"**.html.j2": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}}


def areas(templates: Path = TEMPLATES) -> list[str]:
    return sorted(folder.name for folder in templates.iterdir() if folder.is_dir())


def said_in(area: str, templates: Path = TEMPLATES) -> Iterator[tuple[str | tuple[str, ...], str | None]]:
    """Every message the area's templates and routes say: (msgid, or (singular, plural), and its context)."""
    found = list(extract_from_dir(templates / area, JINJA, options_map=JINJA_OPTIONS))
    if (package := ROUTES / area).is_dir():
        found += extract_from_dir(package, PYTHON, keywords=KEYWORDS)
    # routes/<area>.py and routes/<area>_<part>.py (members_area.py, members_funding.py for templates/members/).
    for module in sorted(ROUTES.glob(f"{area}*.py")):
        found += extract_from_dir(ROUTES, [(module.name, "python")], keywords=KEYWORDS)
    if area == "base":  # the words of the modules every area uses (web/forms.py...)
        found += extract_from_dir(ROUTES.parent, [("*.py", "python")], keywords=KEYWORDS)
    for _file, _line, message, _comments, context in found:
        yield message, context


def catalog_path(language: str, area: str, folder: Path = TRANSLATIONS) -> Path:
    return folder / language / "LC_MESSAGES" / f"{area}.po"


def read_catalog(path: Path, language: str) -> Catalog:
    if not path.exists():
        return Catalog(locale=language, project="Filiera", domain=path.stem)
    with path.open("rb") as source:
        return read_po(source, locale=language)


def update(area: str, language: str) -> None:
    path = catalog_path(language, area)
    known = read_catalog(path, language)
    # The header's dates stay as they were, so an update changes only the lines whose words changed.
    fresh = Catalog(locale=language, project="Filiera", domain=area, creation_date=known.creation_date)
    for message, context in said_in(area):
        old = known.get(message, context)
        fresh.add(message, old.string if old else ("", "") if isinstance(message, tuple) else "", context=context)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as target:
        write_po(target, fresh, width=120, omit_header=False, sort_output=True)


def untranslated(language: str = "it") -> list[str]:
    missing = []
    for area in areas():
        catalog = read_catalog(catalog_path(language, area), language)
        for message, context in said_in(area):
            found = catalog.get(message, context)
            strings = found.string if found else ""
            if not found or not all(strings if isinstance(strings, tuple) else [strings]):
                missing.append(f"{area}: {message!r}")
    return missing


def main(arguments: list[str]) -> int:
    if arguments[:1] == ["update"]:
        for area in arguments[1:] or areas():
            for language in LANGUAGES:
                update(area, language)
        return 0
    missing = untranslated()
    print("\n".join(missing) or "every message has its Italian")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
