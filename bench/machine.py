"""What the benchmarked processes took of this machine: CPU seconds per component over a window, peak memory per
component, and what everything else running here used meanwhile (on a shared machine, someone's tests).

Read from /proc: the venv has no psutil, and these few counters need none.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from deploy.local.postgres import PostgresCluster

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def own_cpu_seconds() -> float:
    """This process and the children it has reaped (wrk, once it has finished)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def machine_busy_seconds() -> tuple[float, float]:
    """CPU seconds the whole machine spent busy, and the seconds it had (all cores), since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICKS, sum(values) / TICKS


def parents() -> dict[int, int]:
    """Every process's parent, from one pass over /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError):  # ended meanwhile
                found[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    return found


def ram_gb() -> int:
    total_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal:")
    )
    return round(total_kb / 2**20)


def postmaster_pid(cluster: PostgresCluster) -> int:
    return int((cluster.data_dir / "postmaster.pid").read_text().split()[0])


@dataclass(frozen=True)
class Components:
    """The processes measured, by name: in `processes` one process each; in `trees` a process with its children,
    looked up at every reading (PostgreSQL's backends come and go; nginx's master has its worker)."""

    processes: dict[str, int]
    trees: dict[str, int] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [*self.processes, *self.trees]

    def pids(self) -> dict[int, str]:
        found = {pid: name for name, pid in self.processes.items()}
        if self.trees:
            parent_of = parents()
            for name, root in self.trees.items():
                found[root] = name
                found.update({pid: name for pid, parent in parent_of.items() if parent == root})
        return found


class CpuMeter:
    """CPU seconds of each component over a window, of this process (with wrk), and of the rest of the machine."""

    def __init__(self, components: Components) -> None:
        self.components = components
        self.start, self.own_start, self.machine_start = self._read(), own_cpu_seconds(), machine_busy_seconds()

    def _read(self) -> dict[int, tuple[str, float]]:
        read = {}
        for pid, name in self.components.pids().items():
            with contextlib.suppress(OSError):  # ended
                read[pid] = (name, cpu_seconds(pid))
        return read

    def used(self) -> dict[str, float]:
        end, own, (busy, everything) = self._read(), own_cpu_seconds(), machine_busy_seconds()
        spent = dict.fromkeys(self.components.names, 0.0)
        for pid, (name, seconds) in end.items():
            spent[name] += seconds - (self.start[pid][1] if pid in self.start else 0.0)
        spent["benchmark"] = own - self.own_start
        spent["machine_busy"] = busy - self.machine_start[0]
        # What the rest of the machine used meanwhile (someone's tests): above a few seconds, the run was disturbed.
        spent["other_processes"] = max(
            0.0, spent["machine_busy"] - sum(spent[name] for name in [*self.components.names, "benchmark"])
        )
        return {
            **{name: round(value, 1) for name, value in spent.items()},
            "machine_capacity": round(everything - self.machine_start[1], 1),
        }


def _memory_kb(pid: int) -> tuple[int, int]:
    """(peak RSS, PSS) of a process in kB. PSS splits each shared page among the processes sharing it, so the PSS
    of several processes adds up to what they take together (PostgreSQL's backends share its buffers)."""
    peak = next(
        int(line.split()[1])
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith("VmHWM:")
    )
    pss = next(
        int(line.split()[1])
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
        if line.startswith("Pss:")
    )
    return peak, pss


class MemoryPeaks:
    """Each component's peak memory while the benchmark runs, read every `interval` seconds on a thread of its own:
    the largest peak RSS (VmHWM, kept by the kernel, so exact) of any of its processes, and the largest sum of its
    processes' PSS seen in a reading (sampled, so a peak between two readings is missed)."""

    def __init__(self, components: Components, interval: float = 1.0) -> None:
        self.components = components
        self.interval = interval
        self._peak_rss_kb = dict.fromkeys(components.names, 0)
        self._peak_total_kb = dict.fromkeys(components.names, 0)
        self._most_processes = dict.fromkeys(components.names, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-peaks", daemon=True)

    def __enter__(self) -> MemoryPeaks:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.read()  # the last word, before the processes stop

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.read()

    def read(self) -> None:
        totals = dict.fromkeys(self.components.names, 0)
        counts = dict.fromkeys(self.components.names, 0)
        for pid, name in self.components.pids().items():
            try:
                peak, pss = _memory_kb(pid)
            except (OSError, StopIteration):
                continue  # ended, or a zombie without memory
            self._peak_rss_kb[name] = max(self._peak_rss_kb[name], peak)
            totals[name] += pss
            counts[name] += 1
        for name in self.components.names:
            self._peak_total_kb[name] = max(self._peak_total_kb[name], totals[name])
            self._most_processes[name] = max(self._most_processes[name], counts[name])

    def report(self) -> dict[str, dict[str, float]]:
        return {
            name: {
                "processes": self._most_processes[name],
                "peak_rss_mb": round(self._peak_rss_kb[name] / 1024, 1),
                "peak_total_pss_mb": round(self._peak_total_kb[name] / 1024, 1),
            }
            for name in self.components.names
        }
