"""The web client's unit tests: the app in process, its gateway replaced by a function answering as the APIs do."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from web.app import create_app
from web.settings import WebSettings

Answers = dict[tuple[str, str], Any]


class FakeGateway:
    """Answers by (method, path under /api), records every request; an answer may be an httpx.Response."""

    def __init__(self) -> None:
        self.answers: Answers = {}
        self.requests: list[httpx.Request] = []

    def answer(self, method: str, path: str, body: Any, status: int = 200) -> None:
        self.answers[(method, path)] = (
            httpx.Response(status, json=body) if not isinstance(body, httpx.Response) else body
        )

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        key = (request.method, request.url.path.removeprefix("/api"))
        found = self.answers.get(key)
        if found is None:
            return httpx.Response(404, json={"detail": f"no stand-in answer for {key}"})
        answer: httpx.Response = found(request) if callable(found) else found
        return answer

    def sent(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == f"/api{path}"]

    @staticmethod
    def form_of(request: httpx.Request) -> dict[str, str]:
        return dict(httpx.QueryParams(request.content.decode()))

    @staticmethod
    def json_of(request: httpx.Request) -> Any:
        return json.loads(request.content)


@pytest.fixture
def fake_gateway() -> FakeGateway:
    gateway = FakeGateway()
    gateway.answer("GET", "/events/events", [])
    gateway.answer("GET", "/members/governance", [])
    return gateway


@pytest.fixture
async def browser(fake_gateway: FakeGateway) -> AsyncIterator[httpx.AsyncClient]:
    """A client that keeps cookies like a browser (https, so the __Host- cookie is sent back)."""
    app = create_app(WebSettings(), gateway_transport=httpx.MockTransport(fake_gateway.handle))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://filiera.test") as client,
    ):
        yield client


def csrf_of(page: str) -> str:
    marker = 'name="csrf_token" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


TokenAnswer = Callable[[httpx.Request], httpx.Response]
