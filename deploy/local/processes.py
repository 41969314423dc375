"""A service as its own process (uvicorn), for the local runner, the benchmarks and the tests that need one."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parents[2]


def start_service(
    app_factory: str, port: int, env: dict[str, str], log: IO[bytes] | None = None, host: str = "127.0.0.1"
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            app_factory,
            "--host",
            host,
            "--port",
            str(port),
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT if log else None,
    )


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 120, path: str = "/readyz") -> None:
    """Until `url` + `path` answers 200 (for a service: database and Kafka reachable); fails early if the process
    dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the service at {url} exited during start-up")
        try:
            if httpx.get(f"{url}{path}", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the service at {url} was not ready after {timeout}s")


def stop_all(processes: list[subprocess.Popen[bytes]], grace_seconds: float = 20) -> None:
    """Ask every process to stop, then wait for them within one grace period for all (not one each), killing
    what is still running after it."""
    for process in processes:
        process.terminate()
    deadline = time.monotonic() + grace_seconds
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
