"""What every benchmark needs: PostgreSQL and Kafka of its own, wrk for the load, and a few statistics."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploy.local.kafka import KafkaBroker
from deploy.local.postgres import PostgresCluster

RESULTS = Path(__file__).resolve().parent / "results"

# wrk's Lua `done` hook, printing one JSON line the benchmark reads back.
WRK_REPORT = """
done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format('WRK {"requests": %d, "errors": %d, "seconds": %f, "p50_ms": %f, "p99_ms": %f}\\n',
    summary.requests, errors, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
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


async def run_wrk(url: str, script: str, work: Path, concurrency: int, seconds: int) -> dict[str, Any]:
    """Load `url` with wrk running `script` (plus the report hook); returns wrk's figures."""
    path = work / f"load-{concurrency}.lua"
    path.write_text(script + WRK_REPORT)
    process = await asyncio.create_subprocess_exec(
        "wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "-s", str(path), url, stdout=asyncio.subprocess.PIPE)
    output, _ = await process.communicate()
    line = next(line for line in output.decode().splitlines() if line.startswith("WRK "))
    return json.loads(line.removeprefix("WRK "))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def write_results(name: str, result: dict[str, Any]) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
