"""The funding sources answered from their recorded responses, by a small HTTP server on loopback.

`./filiera run` serves the demo's recordings (deploy/demo/feeds/) this way, so the funding service's real connectors
read real formats without anything leaving this machine; the funding tests serve theirs the same way. `serving`
also stands in for other outside endpoints in tests (the JWKS of `tests.support.tokens.serving_jwks`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

EU_SEARCH_PATH = "/eu/search"
INCENTIVI_PATH = "/incentivi/export"

# method, path with query, body -> status, content type, body
Responder = Callable[[str, str, bytes], tuple[int, str, bytes]]


@contextmanager
def serving(respond: Responder) -> Iterator[str]:
    """A local HTTP server answering every request with `respond(...)`; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, content_type, payload = respond(self.command, self.path, body)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _answer

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()  # shutdown() alone leaves the port bound


@dataclass
class RecordedFeeds:
    """What the EU search API and the incentivi.gov.it export answer: recorded bodies, served as the sources serve
    them (the EU search is a POST, paged by `pageNumber`)."""

    eu_pages: list[bytes]
    incentivi: tuple[str, bytes]  # content type, body

    def respond(self, method: str, path: str, body: bytes) -> tuple[int, str, bytes]:
        url = urlsplit(path)
        if url.path == EU_SEARCH_PATH:
            page = int(parse_qs(url.query)["pageNumber"][0])
            return 200, "application/json", self._eu_page(page)
        if url.path == INCENTIVI_PATH:
            return 200, *self.incentivi
        return 404, "text/plain", b"not found"

    def _eu_page(self, number: int) -> bytes:
        # A recording holds the first pages of a search whose `totalResults` says more: the pages after them come
        # back empty, which is how the connector learns the search is over.
        if number <= len(self.eu_pages):
            return self.eu_pages[number - 1]
        last = json.loads(self.eu_pages[-1])
        return json.dumps({**last, "pageNumber": number, "results": []}).encode()


def feed_settings(base_url: str) -> dict[str, str]:
    """The funding service's settings (FundingSettings fields) that point its connectors at feeds served here."""
    return {"eu_search_url": f"{base_url}{EU_SEARCH_PATH}", "incentivi_url": f"{base_url}{INCENTIVI_PATH}"}


def feed_environment(base_url: str) -> dict[str, str]:
    """The same, as the environment of a funding process."""
    return {f"FUNDING_{name.upper()}": url for name, url in feed_settings(base_url).items()}
