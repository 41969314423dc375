"""What every benchmark needs: PostgreSQL and Kafka of its own, wrk for the load, an SMTP server that counts, and a
few statistics."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from aiosmtpd.smtp import SMTP, Envelope, Session
from stdnum import luhn

from deploy.local.kafka import KafkaBroker
from deploy.local.postgres import PostgresCluster

RESULTS = Path(__file__).resolve().parent / "results"

# wrk's Lua `done` hook, printing one JSON line the benchmark reads back.
WRK_REPORT = """
done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format('WRK {"requests": %d, "errors": %d, "http_errors": %d, "timeouts": %d, "seconds": %f, '
    .. '"p50_ms": %f, "p99_ms": %f}\\n', summary.requests, errors, summary.errors.status, summary.errors.timeout,
    summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""

# For a fixed number of requests (each person registers once): at the `%d`th answer the thread stops (answers read
# in the same turn of its loop still count; no request is sent after it) and says so; run_wrk then interrupts wrk,
# which ends the run there (its clock stops) instead of idling out its duration.
WRK_STOP_AFTER = """
local wrk_answers = 0
response = function(status, headers, body)
  wrk_answers = wrk_answers + 1
  if wrk_answers == %d then
    io.write("WRK-STOP\\n")
    io.flush()
    wrk.thread:stop()
  end
end
"""


@dataclass
class Infrastructure:
    work: Path
    postgres: PostgresCluster
    kafka: KafkaBroker

    def machine(self) -> str:
        return f"{os.cpu_count()} cores, loopback, PostgreSQL {self.postgres.bin.parent.name}, Kafka 4.1.1"


@contextmanager
def infrastructure() -> Iterator[Infrastructure]:
    work = Path(tempfile.mkdtemp(prefix="filiera-bench-"))
    postgres = PostgresCluster(work / "pg")
    kafka = KafkaBroker(work / "kafka")
    print("==> starting PostgreSQL and Kafka", flush=True)
    postgres.start()
    kafka.start()
    try:
        yield Infrastructure(work, postgres, kafka)
    finally:
        kafka.stop()
        postgres.stop()


async def run_wrk(
    url: str, script: str, work: Path, concurrency: int, seconds: int, stop_after: int | None = None, timeout_s: int = 2
) -> dict[str, Any]:
    """Load `url` with wrk running `script` (plus the report hook) for `seconds`, or until `stop_after` answers;
    returns wrk's figures. A request not answered within `timeout_s` (wrk's default: 2 s) counts as a timeout and
    its latency is not recorded."""
    path = work / f"load-{concurrency}.lua"
    path.write_text(script + WRK_REPORT + (WRK_STOP_AFTER % stop_after if stop_after else ""))
    process = await asyncio.create_subprocess_exec(
        "wrk",
        "-t1",
        f"-c{concurrency}",
        f"-d{seconds}s",
        f"--timeout={timeout_s}s",
        "-s",
        str(path),
        url,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    report: dict[str, Any] | None = None
    async for raw in process.stdout:
        line = raw.decode().strip()
        if line == "WRK-STOP":
            process.send_signal(signal.SIGINT)
        elif line.startswith("WRK "):
            report = json.loads(line.removeprefix("WRK "))
    await process.wait()
    assert report is not None, f"wrk said nothing (exit status {process.returncode})"
    return report


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


async def until_count(
    db: asyncpg.Connection,
    sql: str,
    count: int,
    timeout: float = 600.0,
    on_poll: Callable[[int], None] | None = None,
    poll_seconds: float = 0.1,
) -> float:
    """Polls `sql` (a count) until it reaches `count`; returns the moment it did (perf_counter)."""
    deadline = time.perf_counter() + timeout
    while True:
        found = await db.fetchval(sql)
        now = time.perf_counter()
        if on_poll:
            on_poll(found)
        if found >= count:
            return now
        if now > deadline:
            raise TimeoutError(f"{found} of {count} after {timeout}s: {sql}")
        await asyncio.sleep(poll_seconds)


class CountingMailbox:
    """An SMTP handler (deploy.local.mailcatcher.smtp_server) that accepts every message and remembers only how
    many arrived, and when the last one did."""

    def __init__(self) -> None:
        self.accepted = 0
        self.last_at = 0.0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        envelope.content = envelope.original_content = None  # not kept
        self.accepted += 1
        self.last_at = time.perf_counter()
        return "250 OK"

    async def until(self, count: int, timeout: float = 600.0) -> float:
        """Waits until `count` messages were accepted; returns the moment (perf_counter) the last one was."""
        deadline = time.perf_counter() + timeout
        while self.accepted < count:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{self.accepted} emails accepted, expected {count}")
            await asyncio.sleep(0.1)
        return self.last_at


def partita_iva(n: int) -> str:
    """The n-th valid Partita IVA of a made-up series (office code 046, Lucca)."""
    body = f"{n:07d}046"
    return body + luhn.calc_check_digit(body)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def code_version() -> str:
    """The commit measured, marked when the services' code differs from it."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], capture_output=True, text=True, cwd=Path(__file__).parents[1]).stdout

    changed = git("status", "--porcelain", "--", "services", "shared").strip()
    return git("rev-parse", "--short", "HEAD").strip() + (" with uncommitted changes" if changed else "")


def write_results(name: str, result: dict[str, Any]) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
