"""Getting in without a password typed by someone else: login throttling per account and client, and the
single-use links of invitations and password resets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.errors import DomainError


@dataclass(frozen=True)
class LoginThrottle:
    """Wrong passwords in a row for one account from one client address, and until when it is held back.

    Counted per (account, client) so that one office behind a shared router is not locked out by a colleague's
    typos, nor an account by a stranger elsewhere; the gateway limits each client's login rate besides."""

    failures: int = 0
    locked_until: datetime | None = None


def locked_for(throttle: LoginThrottle | None, now: datetime) -> timedelta | None:
    """How long logins of this account from this client are still held back, if they are."""
    if throttle is None or throttle.locked_until is None or throttle.locked_until <= now:
        return None
    return throttle.locked_until - now


def after_failed_login(
    throttle: LoginThrottle | None, now: datetime, max_failures: int, lockout: timedelta
) -> LoginThrottle:
    """After `max_failures` wrong passwords in a row the pair is held back for `lockout`, then counting restarts."""
    failures = (throttle.failures if throttle else 0) + 1
    if failures >= max_failures:
        return LoginThrottle(failures=0, locked_until=now + lockout)
    return LoginThrottle(failures=failures, locked_until=throttle.locked_until if throttle else None)


class Gone(DomainError):
    """A link that was good once: used, or expired."""

    status = 410


def used_link(what: str) -> Gone:
    return Gone(f"this {what} has already been used")


def check_link_usable(what: str, expires_at: datetime, used_at: datetime | None, now: datetime) -> None:
    """An invitation or a password reset opens once, and only before it expires."""
    if used_at is not None:
        raise used_link(what)
    if expires_at <= now:
        raise Gone(f"this {what} has expired; ask for a new one")
