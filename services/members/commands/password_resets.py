"""Password resets by email: asked for with an address, answered the same whether or not it has an account; the
link is single-use, expires, and setting the new password ends every session of the person."""

from __future__ import annotations

from datetime import timedelta

from services.members import store
from services.members.domain import check_link_usable, used_link
from services.members.events import PasswordResetRequested
from services.members.identity import hash_secret, new_secret, secret_digest
from services.members.models import PasswordReset
from shared.unit_of_work import UnitOfWork


async def request_password_reset(uow: UnitOfWork, email: str, lifetime: timedelta) -> None:
    """Public. Only an address with an account is written to; the caller is told nothing either way."""
    person = await store.person_with_email(uow.session, email)
    if person is None or person.erased_at is not None:
        return
    token, digest = new_secret()
    now = uow.now()
    reset = PasswordReset(digest=digest, person_id=person.id, created_at=now, expires_at=now + lifetime)
    uow.session.add(reset)
    uow.publish(
        PasswordResetRequested(
            request_id=reset.id,
            person_id=person.id,
            email=person.email,
            language=person.language,
            token=token,
            expires_at=reset.expires_at,
        )
    )
    await uow.commit()


async def reset_password(uow: UnitOfWork, token: str, password: str) -> None:
    """Public (the token is the permission): the new password, and every session of the person ended; logins
    held back for too many failures start afresh."""
    session = uow.session
    reset = await store.password_reset_with_digest(session, secret_digest(token))
    now = uow.now()
    check_link_usable("password reset", reset.expires_at, reset.used_at, now)
    person = await store.get_person(session, reset.person_id)
    if not await store.use_password_reset(session, reset.id, now):
        raise used_link("password reset")  # used by another request a moment ago
    person.password_hash = await hash_secret(password)
    session.add(person)
    await store.revoke_refresh_tokens_of(session, person.id, now)
    await store.forget_login_attempts(session, person.email)
    await uow.commit()
