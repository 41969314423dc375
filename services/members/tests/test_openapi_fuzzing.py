"""Schemathesis generates requests from the members OpenAPI document and checks every answer against it:
no server errors, documented status codes and bodies, bad input refused, good input accepted.

It runs against a real members process (uvicorn) on PostgreSQL and the real broker, authenticated as staff so
that protected operations are exercised too. Exceptions for rules no schema can state are in schemathesis.toml.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from deploy.local.ports import free_port
from services.members.tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def members_process(postgres, kafka_bootstrap: str, tmp_path: Path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    port = free_port()
    env = {**os.environ, "MEMBERS_DATABASE_URL": postgres.new_database(),
           "MEMBERS_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "MEMBERS_FIRST_ADMIN_EMAIL": ADMIN_EMAIL,
           "MEMBERS_FIRST_ADMIN_PASSWORD": ADMIN_PASSWORD, "MEMBERS_LOG_LEVEL": "WARNING"}
    log = open(tmp_path / "members.log", "wb")  # noqa: SIM115
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "services.members.app:create_app",
                                "--port", str(port), "--no-access-log"], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def wait_until_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "members exited during start-up"
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"members not ready after {timeout}s")


def test_the_members_api_honours_its_openapi_document(members_process: str) -> None:
    token = httpx.post(f"{members_process}/auth/token", data={
        "grant_type": "password", "username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).json()["access_token"]
    result = subprocess.run(
        [str(Path(sys.executable).parent / "st"), "--config-file", str(ROOT / "schemathesis.toml"), "run",
         f"{members_process}/openapi.json", "--checks", "all", "--max-examples", "25",
         "--seed", "20261125", "-H", f"Authorization: Bearer {token}"],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
