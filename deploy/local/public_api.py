"""The gateway's public API (`/api/<service>/...`) as the demo's seed uses it: an ordinary client, logging in as
the people it acts for."""

from __future__ import annotations

import time
from typing import Any

import httpx

# The gateway lets one client log in 5 times a minute and answers 429 beyond that; a slot frees every 12 s.
LOGIN_RETRY_SECONDS = 12.5
LOGIN_ATTEMPTS = 6


class SeedError(RuntimeError):
    """The platform refused a step: the message says which, and the answer."""


class Api:
    """The gateway's public API (`/api/<service>/...`), with the tokens of the people the seed acts as."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self._tokens: dict[str, dict[str, str]] = {}

    def call(self, method: str, path: str, expect: tuple[int, ...] = (200, 201), **request: Any) -> httpx.Response:
        response = self.http.request(method, path, **request)
        if response.status_code not in expect:
            raise SeedError(f"{method} /api{path} answered {response.status_code}: {response.text[:500]}")
        return response

    def login(self, email: str, password: str) -> dict[str, str]:
        """Authorization headers for a person; one login each (tokens last 15 minutes, the seed about one)."""
        if email not in self._tokens:
            form = {"grant_type": "password", "username": email, "password": password}
            for _ in range(LOGIN_ATTEMPTS):
                response = self.call("POST", "/members/auth/token", expect=(200, 429), data=form)
                if response.status_code == 200:
                    break
                time.sleep(LOGIN_RETRY_SECONDS)
            else:
                raise SeedError(f"the gateway kept refusing logins (429) for {email}")
            self._tokens[email] = {"Authorization": f"Bearer {response.json()['access_token']}"}
        return self._tokens[email]

    def every_page(self, path: str, headers: dict[str, str]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            page = self.call(
                "GET", path, headers=headers, params={"page": len(items) // 100 + 1, "page_size": 100}
            ).json()
            items.extend(page["items"])
            if not page["items"] or len(items) >= page["total"]:
                return items
