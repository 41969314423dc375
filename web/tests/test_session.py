"""The session cookie: encrypted, authenticated, expiring; the CSRF token it carries."""

from __future__ import annotations

from cryptography.fernet import Fernet

from web.session import Session, SessionCookies, SignedInPerson, Tokens

KEY = Fernet.generate_key().decode()
NOW = 1_800_000_000.0


def signed_in_session() -> Session:
    session = Session(started_at=NOW)
    session.sign_in(Tokens("access", 900, "refresh"), SignedInPerson("p1", "a@b.example", "company_admin", "c1"), NOW)
    return session


def test_a_session_comes_back_from_its_cookie() -> None:
    cookies = SessionCookies(KEY, 3600)
    session = signed_in_session()
    back = cookies.read(cookies.write(session), NOW + 10)
    assert back == session and not back.changed
    assert back.person is not None and back.person.company_id == "c1"
    assert b"access" not in cookies.write(session).encode(), "encrypted, not only signed"


def test_a_tampered_foreign_or_old_cookie_is_a_new_empty_session() -> None:
    cookies = SessionCookies(KEY, 3600)
    value = cookies.write(signed_in_session())
    for read in (
        cookies.read(value[:-4] + "AAAA", NOW),
        SessionCookies(Fernet.generate_key().decode(), 3600).read(value, NOW),
        cookies.read(value, NOW + 3601),
        cookies.read("not a cookie", NOW),
    ):
        assert not read.signed_in and read.changed


def test_the_access_token_is_renewed_before_it_expires() -> None:
    session = signed_in_session()
    assert not session.access_needs_refresh(NOW + 800)
    assert session.access_needs_refresh(NOW + 850)


def test_a_login_and_a_logout_each_change_the_csrf_token() -> None:
    session = Session(started_at=NOW)
    before = session.csrf_token
    session.sign_in(Tokens("access", 900, "refresh"), SignedInPerson("p1", "a@b.example", "company_member"), NOW)
    during = session.csrf_token
    session.sign_out()
    assert len({before, during, session.csrf_token}) == 3
    assert not session.signed_in and session.refresh_token is None


def test_the_csrf_token_must_match_exactly() -> None:
    session = Session()
    assert session.csrf_matches(session.csrf_token)
    assert not session.csrf_matches(None) and not session.csrf_matches(session.csrf_token + "x")
