"""Free loopback ports for the processes the local runner and the tests start.

The ports come from below the kernel's ephemeral range: a port the kernel hands out (bind to port 0) is in that
range, and so are the local ends of every outgoing connection (Kafka clients, HTTP clients). A service told to
listen on "a free ephemeral port + 3" can find it taken by some client's connection a moment later (EADDRINUSE),
which is how the local platform test once failed in CI. Below the range only listeners compete."""

from __future__ import annotations

import random
import socket
from pathlib import Path

EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST = 10_000
_handed_out: set[int] = set()  # within one process, never the same port twice (the caller may not have bound it yet)


def first_ephemeral_port() -> int:
    try:
        return int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default


def port_is_free(port: int) -> bool:
    """Whether a program could listen on `port` now: no listener holds it, nor an outgoing connection's end."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn, nginx and Kafka bind
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int) -> int:
    """The first of `count` consecutive free ports (the local runner gives its services consecutive ports)."""
    highest = first_ephemeral_port() - count
    if highest <= LOWEST:
        raise RuntimeError(f"the ephemeral port range in {EPHEMERAL_RANGE} leaves no room below it for listeners")
    for _ in range(1_000):
        first = random.randrange(LOWEST, highest)
        block = range(first, first + count)
        if not _handed_out.intersection(block) and all(port_is_free(port) for port in block):
            _handed_out.update(block)
            return first
    raise RuntimeError(f"no {count} consecutive free ports between {LOWEST} and {highest}")


def free_port() -> int:
    return free_ports(1)
