"""Identity: logging in for an access token (people with a password, partner systems with client credentials),
and registering partner systems."""

from __future__ import annotations

import secrets

from services.members import store
from services.members.commands.access import ensure_staff
from services.members.domain import AccessToken, check_may_log_in, partner_token, person_token
from services.members.identity import (
    check_not_locked,
    hash_secret,
    record_failed_login,
    record_successful_login,
    verify_secret,
)
from services.members.models import PartnerClient, PartnerClientCreate, PartnerClientCreated
from services.members.settings import MembersSettings
from shared.auth import Principal
from shared.errors import Forbidden
from shared.unit_of_work import UnitOfWork

_BAD_LOGIN = "wrong email or password"


async def password_login(uow: UnitOfWork, email: str, password: str, settings: MembersSettings) -> AccessToken:
    """A person logs in; repeated wrong passwords lock the account for a while (brute-force throttling)."""
    person = await store.person_with_email(uow.session, email)
    now = uow.now()
    if person is None or person.erased_at is not None:
        await verify_secret(None, password)  # same cost as a real check, so timing does not reveal who is registered
        raise Forbidden(_BAD_LOGIN)
    check_not_locked(person, now)
    if not await verify_secret(person.password_hash, password):
        record_failed_login(person, now, settings.login_max_failures, settings.login_lockout)
        uow.session.add(person)
        await uow.commit()
        raise Forbidden(_BAD_LOGIN)
    if person.company_id is not None:
        company = await store.get_company(uow.session, person.company_id)
        check_may_log_in(company.status)
    record_successful_login(person)
    uow.session.add(person)
    await uow.commit()
    return person_token(person.id, person.role, person.company_id, now, settings.access_token_lifetime)


async def partner_login(
    uow: UnitOfWork, client_id: str, secret: str, requested_scopes: set[str], settings: MembersSettings
) -> AccessToken:
    client = await uow.session.get(PartnerClient, client_id)
    if client is None or not await verify_secret(client.secret_hash, secret):
        raise Forbidden("wrong client id or secret")
    return partner_token(client.id, client.scopes, requested_scopes, uow.now(), settings.access_token_lifetime)


async def register_partner_client(uow: UnitOfWork, data: PartnerClientCreate, actor: Principal) -> PartnerClientCreated:
    ensure_staff(actor)
    secret = secrets.token_urlsafe(32)
    client = PartnerClient(
        name=data.name, scopes=data.scopes, secret_hash=await hash_secret(secret), created_by=actor.subject
    )
    uow.session.add(client)
    await uow.commit()
    return PartnerClientCreated(client_id=client.id, client_secret=secret, name=client.name, scopes=client.scopes)
