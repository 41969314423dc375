"""The gateway (nginx, configured from deploy/gateway/) in front of stand-ins for the four services and the web
client: it routes each API prefix to its service and everything else to the web client, carries the correlation id
both ways, tells each service the client's address (the person's, for the calls the web client makes on their
behalf), limits bodies and login attempts per client, answers CORS for the web client's origin only, passes
server-sent events through as they are written, and logs JSON."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from deploy.local.gateway import Gateway
from deploy.local.ports import free_port

pytestmark = pytest.mark.integration

WEB_ORIGIN = "https://app.filiera.example"
SERVICES = ("members", "events", "funding", "notifications")
UPSTREAMS = (*SERVICES, "web")
# The web client's calls come from this loopback address, anyone else's from another (Linux answers all of 127/8).
WEB_CLIENT_ADDRESS = "127.0.0.1"
STRANGER_ADDRESS = "127.0.0.2"
# Longer than any wait that succeeds: only a gateway that buffers the stream makes the stand-in wait this long.
STREAM_TIMEOUT = 10.0


@dataclass
class StreamSteps:
    """What the stand-in's event stream and its reader tell each other: the second event is written only once the
    reader has the first, so the first can only arrive in time if the gateway passes it on as it is written."""

    first_read: threading.Event = field(default_factory=threading.Event)
    second_written: threading.Event = field(default_factory=threading.Event)


def stand_in(name: str, steps: StreamSteps) -> tuple[ThreadingHTTPServer, str]:
    """A service that answers with what it was asked (its name, the path, the request id it was given), and, on
    /inbox/stream, two server-sent events, the second once the reader has the first (`steps`)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            if self.path == "/inbox/stream":
                self._stream()
                return
            body = json.dumps(
                {
                    "service": name,
                    "path": self.path,
                    "request_id": self.headers.get("X-Request-ID"),
                    "client": self.headers.get("X-Real-IP"),
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Request-ID", self.headers.get("X-Request-ID") or "none")  # as our services echo it
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _stream(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self._event(0)
            steps.first_read.wait(timeout=STREAM_TIMEOUT)
            steps.second_written.set()
            self._event(1)
            self.wfile.write(b"0\r\n\r\n")

        def _event(self, number: int) -> None:
            event = f"event: message\ndata: {number}\n\n".encode()
            self.wfile.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
            self.wfile.flush()

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"127.0.0.1:{server.server_port}"


@pytest.fixture(scope="module")
def stream_steps() -> StreamSteps:
    return StreamSteps()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, stream_steps: StreamSteps) -> Iterator[Gateway]:
    servers = {name: stand_in(name, stream_steps) for name in UPSTREAMS}
    running = Gateway(
        tmp_path_factory.mktemp("gateway"),
        free_port(),
        {name: address for name, (_, address) in servers.items()},
        WEB_ORIGIN,
        web_client_address=WEB_CLIENT_ADDRESS,
    )
    running.start()
    try:
        yield running
    finally:
        running.stop()
        for server, _ in servers.values():
            server.shutdown()
            server.server_close()  # shutdown() alone leaves the port bound


@pytest.mark.parametrize("service", SERVICES)
def test_each_prefix_reaches_its_service_without_the_prefix(gateway: Gateway, service: str) -> None:
    answer = httpx.get(f"{gateway.url}/api/{service}/some/path?page=2")
    assert answer.status_code == 200
    assert answer.json()["service"] == service
    assert answer.json()["path"] == "/some/path?page=2"


@pytest.mark.parametrize("path", ["/", "/directory?q=suola", "/events/42", "/static/vendor/htmx.min.js"])
def test_everything_outside_the_apis_and_the_docs_is_the_web_clients(gateway: Gateway, path: str) -> None:
    answer = httpx.get(f"{gateway.url}{path}")
    assert answer.status_code == 200
    assert answer.json()["service"] == "web" and answer.json()["path"] == path


def test_answers_travel_compressed(gateway: Gateway) -> None:
    long_path = "/" + "calzature-" * 120  # the stand-in echoes it: a JSON answer over gzip's 1 KB threshold
    answer = httpx.get(f"{gateway.url}/api/members{long_path}", headers={"Accept-Encoding": "gzip"})
    assert answer.headers["content-encoding"] == "gzip"
    assert answer.json()["path"] == long_path


def from_address(address: str) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address))


def test_each_service_is_told_the_clients_address(gateway: Gateway) -> None:
    with from_address(STRANGER_ADDRESS) as stranger:
        page = stranger.get(f"{gateway.url}/directory")
        call = stranger.get(f"{gateway.url}/api/members/directory")
    assert page.json()["client"] == STRANGER_ADDRESS, "the web client learns the browser's address"
    assert call.json()["client"] == STRANGER_ADDRESS


def test_the_person_a_web_client_call_is_for_is_believed_from_the_web_client_only(gateway: Gateway) -> None:
    forwarded = {"X-Forwarded-For": "203.0.113.7"}
    with from_address(WEB_CLIENT_ADDRESS) as web_client, from_address(STRANGER_ADDRESS) as stranger:
        on_behalf = web_client.get(f"{gateway.url}/api/members/people/me", headers=forwarded)
        spoofed = stranger.get(f"{gateway.url}/api/members/people/me", headers=forwarded)
    assert on_behalf.json()["client"] == "203.0.113.7"
    assert spoofed.json()["client"] == STRANGER_ADDRESS


def test_login_limits_count_each_person_behind_the_web_client(gateway: Gateway) -> None:
    """Five logins a minute per person: one person's typos through the web client do not lock out the next."""

    def login(person: str) -> int:
        headers = {"X-Forwarded-For": person}
        form = {"username": "a", "password": "b"}
        return web_client.post(f"{gateway.url}/api/members/auth/token", data=form, headers=headers).status_code

    with from_address(WEB_CLIENT_ADDRESS) as web_client:
        first = [login("198.51.100.1") for _ in range(6)]
        second = [login("198.51.100.2") for _ in range(5)]
    assert first == [200] * 5 + [429]
    assert second == [200] * 5


def test_metrics_and_health_stay_inside_the_network(gateway: Gateway) -> None:
    for service in SERVICES:
        for path in ("metrics", "readyz", "healthz"):
            answer = httpx.get(f"{gateway.url}/api/{service}/{path}")
            assert answer.status_code == 404 and "not served through the gateway" in answer.json()["detail"]
    assert httpx.get(f"{gateway.url}/api/members/metrics-report").json()["service"] == "members"  # only those


def test_the_correlation_id_is_kept_or_made_and_returned(gateway: Gateway) -> None:
    given = httpx.get(f"{gateway.url}/api/events/events", headers={"X-Request-ID": "abc-123"})
    assert given.json()["request_id"] == "abc-123" and given.headers.get_list("X-Request-ID") == ["abc-123"]
    made = httpx.get(f"{gateway.url}/api/events/events")
    assert len(made.json()["request_id"]) == 32 and made.headers["X-Request-ID"] == made.json()["request_id"]


def test_bodies_over_one_megabyte_are_refused(gateway: Gateway) -> None:
    assert httpx.post(f"{gateway.url}/api/members/companies/applications", content=b"x" * 1_000_000).status_code == 200
    assert httpx.post(f"{gateway.url}/api/members/companies/applications", content=b"x" * 1_100_000).status_code == 413


def test_logins_are_limited_to_five_a_minute_per_client(gateway: Gateway) -> None:
    statuses = [
        httpx.post(f"{gateway.url}/api/members/auth/token", data={"username": "a", "password": "b"}).status_code
        for _ in range(7)
    ]
    assert statuses[:5] == [200] * 5
    assert statuses[5:] == [429, 429]
    assert httpx.get(f"{gateway.url}/api/members/directory").status_code == 200, "other routes are not limited so"


def test_cors_answers_the_web_client_only(gateway: Gateway) -> None:
    preflight = httpx.options(
        f"{gateway.url}/api/events/events",
        headers={
            "Origin": WEB_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == WEB_ORIGIN
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    simple = httpx.get(f"{gateway.url}/api/events/events", headers={"Origin": WEB_ORIGIN})
    assert simple.headers["Access-Control-Allow-Origin"] == WEB_ORIGIN
    stranger = httpx.get(f"{gateway.url}/api/events/events", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in stranger.headers


async def test_server_sent_events_pass_through_as_they_are_written(gateway: Gateway, stream_steps: StreamSteps) -> None:
    arrivals: list[str] = []
    second_written_before_first_arrived = None
    async with (
        httpx.AsyncClient(timeout=2 * STREAM_TIMEOUT) as client,
        client.stream("GET", f"{gateway.url}/api/notifications/inbox/stream") as stream,
    ):
        assert "content-encoding" not in stream.headers, "a compressed stream would be held back"
        async for line in stream.aiter_lines():
            if line.startswith("data: "):
                arrivals.append(line)
                if len(arrivals) == 1:
                    second_written_before_first_arrived = stream_steps.second_written.is_set()
                    stream_steps.first_read.set()
    assert arrivals == ["data: 0", "data: 1"]
    assert second_written_before_first_arrived is False, "the first event arrives before the next: nothing is buffered"


def test_the_combined_docs_page_links_every_service_document(gateway: Gateway) -> None:
    page = httpx.get(f"{gateway.url}/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for service in SERVICES:
        assert f'href="/api/{service}/openapi.json"' in page.text
        assert f'href="/api/{service}/asyncapi.json"' in page.text
    unknown = httpx.get(f"{gateway.url}/api/nowhere")
    assert unknown.status_code == 404 and "/api/members/" in unknown.json()["detail"]


def test_access_logs_are_json_lines_without_query_strings(gateway: Gateway) -> None:
    httpx.get(f"{gateway.url}/api/funding/calls?token=secret", headers={"X-Request-ID": "log-me"})
    [entry] = logged(gateway, "log-me")
    assert entry["path"] == "/api/funding/calls" and entry["status"] == 200 and entry["method"] == "GET"
    assert "secret" not in json.dumps(entry)


def logged(gateway: Gateway, request_id: str, timeout: float = 10) -> list[dict[str, object]]:
    """The access log's entries for `request_id`, once nginx has written any."""
    deadline = time.monotonic() + timeout
    while True:
        lines = Path(gateway.access_log).read_text().splitlines()
        entries = [entry for entry in map(json.loads, lines) if entry["request_id"] == request_id]
        if entries or time.monotonic() > deadline:
            return entries
        time.sleep(0.05)
