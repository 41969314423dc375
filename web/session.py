"""A person's session: an encrypted, httpOnly, SameSite cookie (Fernet) holding their tokens, so that no token ever
reaches the browser's JavaScript, and a CSRF token that every form and every htmx request sends back.

The cookie is `__Host-` prefixed: Secure, Path=/, no Domain. Browsers keep such cookies over plain http on
127.0.0.1 and localhost, which count as secure contexts, so the local run needs no weaker cookie."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

SESSION_COOKIE = "__Host-filiera-session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
# A new access token is asked for this long before the old one expires, so a call never carries a dead one.
REFRESH_MARGIN_SECONDS = 60


@dataclass
class SignedInPerson:
    """Who is signed in, as the access token's claims say (for the pages to greet and to choose what to show)."""

    person_id: str
    email: str
    role: str
    company_id: str | None = None
    name: str = ""


@dataclass
class Session:
    csrf_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    access_token: str | None = None
    access_expires_at: float = 0.0
    refresh_token: str | None = None
    person: SignedInPerson | None = None
    started_at: float = field(default_factory=time.time)
    # A message for the next page after a redirect (a msgid: the page translates it), then forgotten.
    notice: str | None = None
    changed: bool = field(default=True, compare=False)

    @property
    def signed_in(self) -> bool:
        return self.access_token is not None and self.person is not None

    def access_needs_refresh(self, now: float) -> bool:
        return self.access_token is not None and now >= self.access_expires_at - REFRESH_MARGIN_SECONDS

    def sign_in(self, tokens: Tokens, person: SignedInPerson, now: float) -> None:
        """A new session for a new login: a fresh CSRF token too, so one known before the login is worth nothing."""
        self.csrf_token = secrets.token_urlsafe(32)
        self.started_at = now
        self.person = person
        self.keep_tokens(tokens, now)

    def keep_tokens(self, tokens: Tokens, now: float) -> None:
        self.access_token = tokens.access_token
        self.access_expires_at = now + tokens.expires_in
        if tokens.refresh_token:  # rotated on every use: the new one replaces the old
            self.refresh_token = tokens.refresh_token
        self.changed = True

    def sign_out(self) -> None:
        self.access_token = self.refresh_token = None
        self.access_expires_at = 0.0
        self.person = None
        self.csrf_token = secrets.token_urlsafe(32)
        self.changed = True

    def tell(self, notice: str) -> None:
        self.notice = notice
        self.changed = True

    def take_notice(self) -> str | None:
        notice, self.notice = self.notice, None
        if notice:
            self.changed = True
        return notice

    def csrf_matches(self, given: str | None) -> bool:
        return given is not None and secrets.compare_digest(given, self.csrf_token)


@dataclass(frozen=True)
class Tokens:
    access_token: str
    expires_in: int
    refresh_token: str | None = None


class SessionCookies:
    """Sessions to and from the cookie's value: encrypted and authenticated, and expired after `max_age`."""

    def __init__(self, key: str, max_age_seconds: int) -> None:
        self._fernet = Fernet(key.encode())
        self.max_age_seconds = max_age_seconds

    def read(self, value: str | None, now: float) -> Session:
        """The cookie's session; a new, empty one when there is none, it was tampered with or it is too old."""
        if not value:
            return Session(started_at=now)
        try:
            data: dict[str, Any] = json.loads(self._fernet.decrypt(value.encode(), ttl=self.max_age_seconds))
            person = data.pop("person", None)
            session = Session(**data, person=SignedInPerson(**person) if person else None)
        except (InvalidToken, ValueError, TypeError):
            return Session(started_at=now)
        if now - session.started_at > self.max_age_seconds:
            return Session(started_at=now)
        session.changed = False
        return session

    def write(self, session: Session) -> str:
        data = asdict(session)
        del data["changed"]
        return self._fernet.encrypt(json.dumps(data, separators=(",", ":")).encode()).decode()
