"""The web portal through the gateway: pages per second and their p50/p99 for the directory, a company's page and a
member's dashboard, each against nginx serving a file as large as the directory page in the same run; and what the
directory page weighs with everything a browser fetches for it, against the 150 KB target (reported, not asserted).

Everything runs on this machine (bench/local_platform.py): Kafka, PostgreSQL with a database per service, the four
services and the web client in a uvicorn process each, nginx in front, wrk and this process. Every page is asked
of the gateway, which passes it to the web client, which calls the APIs back through the gateway on the visitor's
behalf (X-Forwarded-For).

Rate limits. Pages are not limited at the gateway, but the APIs the web client calls for them are, per visitor;
wrk's visitors all come from 127.0.0.1, so the gateway's API limit is raised far above what the platform serves, as
in the system benchmark (bench/system_gateway.py): what is measured is what the platform sustains for many
visitors, each within their own limit.

Seeding (not timed): the system benchmark's district (bench/seeded_district.py), 150 companies and 600 people,
through the gateway. The first company's admin has something on the dashboard: a seat at a members' event, a
funding call matched to their company, and the unread messages both bring. The platform is let settle before
measuring, and the admin logs in through the portal's own login form (its CSRF token read from the page), so the
dashboard is asked with the session cookie a browser would hold.

1. Baseline: wrk for 10 s at 8 connections on a file of the directory page's size (the page as rendered, written
   to a folder the gateway's own nginx serves on a second loopback port: bench/static_site.py).
2. GET /directory, GET /directory/<the first company>, GET /dashboard (with the cookie): wrk, 10 s at 8 connections
   each; each page checked to answer 200 with itself (not a redirect to the login page) before and after its run,
   and what it shows counted (companies listed; the dashboard's seat, match and unread messages).
3. Page weight: /directory and everything it references, fetched once (bench/page_weight.py).
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
from http.cookies import SimpleCookie
from typing import Any

import httpx

from bench.common import code_version, load_average, run_wrk, write_results
from bench.funding_alerts import enter_call, funding_call
from bench.local_platform import LocalPlatform, local_platform
from bench.machine import CpuMeter, ram_gb
from bench.page_weight import page_weight
from bench.seeded_district import COMPANIES, PASSWORD, PEOPLE, District, login, probe_words, seed, staff_headers
from bench.system_gateway import RAISED_API_BURST, RAISED_API_RATE, WRK_TIMEOUT_SECONDS, per_second, wrk_figures
from bench.system_gateway import members_event as published_members_event

CONCURRENCY, SECONDS = 8, 10
TARGET_PAGE_BYTES = 150_000  # the directory with its CSS and JavaScript: 150 KB
SESSION_COOKIE = "__Host-filiera-session"  # web/session.py
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
BASELINE_FILE = "directory.html"
CALL_TITLE = "Contributo per la digitalizzazione"
UUID = "[0-9a-f-]{36}"
# What each page is expected to show, counted in its HTML: the figures are for pages with their contents, not for
# pages that say a part could not be read.
SHOWN = {
    "directory": {"companies": re.compile(f'href="/directory/({UUID})"')},
    "company": {"contact_form": re.compile(r'action="/directory/[^"]+/inquiry"')},
    "dashboard": {
        "registrations": re.compile(f'href="/registrations/({UUID})"'),
        "funding_matches": re.compile(CALL_TITLE),
        "unread_messages": re.compile(f'href="/inbox#message-({UUID})"'),
    },
}


async def dashboard_contents(platform: LocalPlatform, client: httpx.AsyncClient, admin: str) -> str:
    """Gives the first company's admin a seat at a members' event and a funding match (and the unread messages they
    bring); returns the admin's company id."""
    staff = await staff_headers(platform)
    token = await login(platform.services["members"].url, admin)
    member = {"Authorization": f"Bearer {token}"}
    event_id = await published_members_event(client, staff, 0)
    (await client.post(f"/api/events/events/{event_id}/registrations", headers=member, json={})).raise_for_status()
    await enter_call(client, staff, funding_call(CALL_TITLE, probe_words(0), []))
    me = (await client.get("/api/members/people/me", headers=member)).raise_for_status().json()
    return str(me["company_id"])


def session_cookie(answer: httpx.Response) -> str:
    """The session cookie the web client set, as a browser sends it back. Read by hand: the cookie is Secure (a
    `__Host-` cookie), which browsers keep on http://127.0.0.1 but httpx's cookie jar does not send over http."""
    for header in answer.headers.get_list("set-cookie"):
        if (morsel := SimpleCookie(header).get(SESSION_COOKIE)) is not None:
            return f"{SESSION_COOKIE}={morsel.value}"
    raise AssertionError(f"{answer.request.url} set no session cookie")


async def portal_login(client: httpx.AsyncClient, email: str) -> str:
    """Logs in through the portal's login form as a browser does; returns the session's Cookie header."""
    form = (await client.get("/login")).raise_for_status()
    csrf = CSRF_INPUT.search(form.text)
    assert csrf is not None, "the login page has no CSRF token"
    answer = await client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "next": "/dashboard", "csrf_token": csrf.group(1)},
        headers={"Cookie": session_cookie(form)},
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/dashboard", f"login: {answer.status_code}"
    return session_cookie(answer)


async def check_page(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> httpx.Response:
    """The page answers 200 with itself, not with a redirect (to the login page) nor an error page."""
    answer = await client.get(path, headers=headers)
    assert answer.status_code == 200, f"{path} answered {answer.status_code} {answer.headers.get('location', '')}"
    return answer


def shown(page: str, html: str) -> dict[str, int]:
    return {name: len(set(pattern.findall(html))) for name, pattern in SHOWN[page].items()}


def wrk_script(headers: dict[str, str]) -> str:
    return "".join(f'wrk.headers["{name}"] = "{value}"\n' for name, value in headers.items())


def access_log_lines(platform: LocalPlatform) -> list[dict[str, Any]]:
    log = platform.gateway.access_log
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def failed_answers(logged: list[dict[str, Any]]) -> dict[str, int]:
    """Answers of 400 and above the gateway gave, by status and kind (a page, or an API call the web client made for
    one): a page can answer 200 while one of its parts could not be read."""
    counted: dict[str, int] = {}
    for line in logged:
        if line["status"] >= 400:
            key = f"{line['status']} {'api' if line['path'].startswith('/api/') else 'page'}"
            counted[key] = counted.get(key, 0) + 1
    return counted


async def load(platform: LocalPlatform, url: str, headers: dict[str, str]) -> dict[str, Any]:
    print(f"==> {url}: {SECONDS}s, {CONCURRENCY} at a time", flush=True)
    logged_before = len(access_log_lines(platform))
    cpu = CpuMeter(platform.components())
    wrk = await run_wrk(
        url, wrk_script(headers), platform.infra.work, CONCURRENCY, SECONDS, timeout_s=WRK_TIMEOUT_SECONDS
    )
    used = cpu.used()
    logged = access_log_lines(platform)[logged_before:]
    return {
        "pages_per_second": per_second(wrk),
        **wrk_figures(wrk),
        # To the microsecond: nginx serving a file answers in about 0.1 ms, so the ratios need more than 0.1 ms.
        "latency_ms": {"p50": round(wrk["p50_ms"], 3), "p99": round(wrk["p99_ms"], 3)},
        "gateway_answers": len(logged),
        "gateway_failed_answers": failed_answers(logged),
        "cpu_seconds": used,
    }


async def measure_page(
    platform: LocalPlatform,
    client: httpx.AsyncClient,
    page: str,
    path: str,
    headers: dict[str, str],
    baseline: dict[str, Any],
) -> dict[str, Any]:
    before = await check_page(client, path, headers)
    figures = await load(platform, platform.gateway.url + path, headers)
    after = await check_page(client, path, headers)  # still itself after the run (the session still valid)
    latency, base_latency = figures["latency_ms"], baseline["latency_ms"]
    return {
        "path": path,
        "page_bytes": len(before.content),
        "shown_before": shown(page, before.text),
        "shown_after": shown(page, after.text),
        **figures,
        "vs_baseline": {
            "pages_per_second": round(figures["pages_per_second"] / baseline["pages_per_second"], 4),
            "p50": round(latency["p50"] / base_latency["p50"], 1),
            "p99": round(latency["p99"] / base_latency["p99"], 1),
        },
    }


async def measure(platform: LocalPlatform) -> dict[str, Any]:
    site = platform.static_site
    assert site is not None
    async with httpx.AsyncClient(base_url=platform.gateway.url, timeout=60) as client:
        district: District = await seed(platform, client)
        company_id = await dashboard_contents(platform, client, district.admin_of(0))
        print(f"==> settling after {await platform.settle()} s; the admin logs in through the portal", flush=True)
        member = {"Cookie": await portal_login(client, district.admin_of(0))}
        directory = (await client.get("/directory")).raise_for_status()
        (site.root / BASELINE_FILE).write_bytes(directory.content)
        baseline = await load(platform, f"{site.url}/{BASELINE_FILE}", {})
        pages = {
            "directory": await measure_page(platform, client, "directory", "/directory", {}, baseline),
            "company": await measure_page(platform, client, "company", f"/directory/{company_id}", {}, baseline),
            "dashboard": await measure_page(platform, client, "dashboard", "/dashboard", member, baseline),
        }
        print("==> the directory page's weight", flush=True)
        weight = await page_weight(client, "/directory", {}, TARGET_PAGE_BYTES)
    return {
        "district": {"companies": COMPANIES, "people": PEOPLE},
        "baseline_static_file": {"bytes": len(directory.content), **baseline},
        "pages": pages,
        "directory_page_weight": weight,
    }


def main() -> None:
    # A benchmark stopped with SIGTERM still stops everything it started (the with-blocks' exits run).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    load_before, code = load_average(), code_version()
    with local_platform(RAISED_API_RATE, RAISED_API_BURST, web=True, static_site=True) as platform:
        figures = asyncio.run(measure(platform))
        where = f"{platform.infra.machine()}, {ram_gb()} GB RAM"
    write_results(
        "web_portal",
        {
            **figures,
            "concurrency": CONCURRENCY,
            "gateway_limit_while_measuring": {"rate": RAISED_API_RATE, "burst": RAISED_API_BURST},
            "load_average_before": load_before,
            "load_average_after": load_average(),
            "code": code,
            "machine": where,
        },
    )


if __name__ == "__main__":
    main()
