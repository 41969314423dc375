"""What a page weighs: its HTML and every stylesheet, script, icon, image and font it references (and the fonts and
images its stylesheets reference), in bytes as the gateway serves them and as gzip would compress them."""

from __future__ import annotations

import gzip
import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import httpx

# nginx's `gzip on` compresses at level 1 unless told otherwise; 6 is zlib's (and most servers') usual choice.
GZIP_LEVELS = (1, 6)
# What a browser fetches to show a page: stylesheets and icons (not alternates, which are other pages), scripts,
# images.
FETCHED_LINKS = {"stylesheet", "icon", "preload", "modulepreload", "apple-touch-icon"}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)""")


class References(HTMLParser):
    """The addresses a page makes the browser fetch, in the order they appear."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        rel = set((attributes.get("rel") or "").lower().split())
        if tag == "link" and rel & FETCHED_LINKS and attributes.get("href"):
            self.found.append(str(attributes["href"]))
        elif tag in ("script", "img", "source", "iframe") and attributes.get("src"):
            self.found.append(str(attributes["src"]))


def references(html: str) -> list[str]:
    parser = References()
    parser.feed(html)
    return list(dict.fromkeys(parser.found))


def css_references(css: str) -> list[str]:
    return [url for url in CSS_URL.findall(css) if not url.startswith("data:")]


def is_own(address: str) -> bool:
    """A path of the site itself; anything else (another host, a protocol-relative address) is an outside request."""
    return address.startswith("/") and not address.startswith("//")


async def served(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> dict[str, Any]:
    """One file as the gateway serves it to a browser that accepts gzip."""
    answer = await client.get(path, headers={"Accept-Encoding": "gzip, deflate, br", **headers})
    answer.raise_for_status()
    body = answer.content  # decoded, if it was compressed
    kind = answer.headers.get("content-type", "")
    return {
        "path": path,
        "content_type": answer.headers.get("content-type", "").split(";")[0],
        "content_encoding": answer.headers.get("content-encoding", "identity"),
        "bytes_served": answer.num_bytes_downloaded,
        "bytes": len(body),
        **{f"gzip_level_{level}_bytes": len(gzip.compress(body, compresslevel=level)) for level in GZIP_LEVELS},
        "text": answer.text if kind.startswith(("text/css", "text/html")) else None,
    }


async def page_weight(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], target_bytes: int
) -> dict[str, Any]:
    """The page at `path` and everything it makes a browser fetch, summed, against `target_bytes`."""
    page = await served(client, path, headers)
    files, queue, seen, outside = [page], references(page["text"]), {path}, []
    while queue:
        address = queue.pop(0).split("#")[0]
        if not is_own(address):
            outside.append(address)
            continue
        if address in seen:
            continue
        seen.add(address)
        file = await served(client, address, {})
        if file["text"] is not None:  # a stylesheet: its fonts and images are fetched too
            queue.extend(urljoin(address, url) for url in css_references(file["text"]))
        files.append(file)
    for file in files:
        del file["text"]
    totals = {
        key: sum(file[key] for file in files)
        for key in ("bytes_served", "bytes", *(f"gzip_level_{level}_bytes" for level in GZIP_LEVELS))
    }
    return {
        "files": files,
        "total": totals,
        "target_bytes": target_bytes,
        "served_within_target": totals["bytes_served"] <= target_bytes,
        "gzip_level_1_within_target": totals["gzip_level_1_bytes"] <= target_bytes,
        "outside_requests": outside,
    }
