"""Passwords: Argon2 in threads, never more at once than the machine has cores (each holds 64 MiB)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from services.members import identity


async def test_a_burst_of_logins_hashes_no_more_at_once_than_there_are_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    running, most = 0, 0
    lock = threading.Lock()

    def slow_verify(_hash: str | None, _secret: str) -> bool:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return False

    monkeypatch.setattr(identity, "_verify", slow_verify)
    await asyncio.gather(*(identity.verify_secret(None, "password") for _ in range(4 * identity.HASHING_SLOTS + 4)))
    assert 1 <= most <= identity.HASHING_SLOTS


async def test_a_password_verifies_against_its_own_hash_only() -> None:
    stored = await identity.hash_secret("la-suola-di-cuoio-2026")
    assert await identity.verify_secret(stored, "la-suola-di-cuoio-2026")
    assert not await identity.verify_secret(stored, "la-suola-di-gomma-2026")
    assert not await identity.verify_secret(None, "la-suola-di-cuoio-2026")
