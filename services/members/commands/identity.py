"""Identity: the token endpoint's grants (people with a password or a refresh token, partner systems with their
client credentials), ending a session (revocation), and registering partner systems. Every refusal of a grant is
a `TokenRefused`, answered as RFC 6749 §5.2 says."""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from services.members import store
from services.members.commands.access import ensure_staff
from services.members.domain import (
    REFRESH_REFUSALS,
    AccessToken,
    GrantType,
    LoginThrottle,
    RefreshOutcome,
    TokenErrorCode,
    TokenLifetimes,
    TokenRefused,
    after_failed_login,
    check_may_log_in,
    locked_for,
    partner_token,
    person_token,
    refresh_outcome,
)
from services.members.identity import hash_secret, new_secret, secret_digest, verify_secret
from services.members.models import (
    LoginAttempts,
    PartnerClient,
    PartnerClientCreate,
    PartnerClientCreated,
    Person,
    RefreshToken,
    TokenRequest,
)
from services.members.settings import MembersSettings
from shared.auth import Principal
from shared.ids import new_id
from shared.unit_of_work import UnitOfWork

_BAD_LOGIN = "wrong email or password"


@dataclass(frozen=True)
class IssuedTokens:
    """What a grant gives: an access token, and for people the refresh token that continues their session."""

    access: AccessToken
    refresh_token: str | None = None


async def grant_tokens(
    uow: UnitOfWork, request: TokenRequest, client_address: str, settings: MembersSettings
) -> IssuedTokens:
    """The token endpoint: the grant asked for. People's clients (the web client, mobile apps) are public and
    need not authenticate; a client that sends a secret must be the partner client it names."""
    lifetimes = settings.token_lifetimes
    if request.grant_type == GrantType.CLIENT_CREDENTIALS:
        if request.client_id is None or request.client_secret is None:
            raise TokenRefused(
                TokenErrorCode.INVALID_CLIENT,
                "client authentication is required: HTTP Basic, or client_id and client_secret",
            )
        return await client_credentials_grant(uow, request.client_id, request.client_secret, request.scopes, lifetimes)
    if request.client_secret is not None:
        await authenticate_client(uow, request.client_id or "", request.client_secret)
    if request.grant_type == GrantType.PASSWORD:
        username, password = request.required("username", "password")
        return await password_grant(uow, username, password, client_address, settings)
    (refresh_token,) = request.required("refresh_token")
    return await refresh_token_grant(uow, refresh_token, lifetimes)


async def authenticate_client(uow: UnitOfWork, client_id: str, secret: str) -> PartnerClient:
    """A partner system proves who it is with its client secret (RFC 6749 §2.3.1)."""
    client = await uow.session.get(PartnerClient, client_id)
    # An unknown client is checked against a dummy hash: as slow, so timing does not tell which clients exist.
    verified = await verify_secret(client.secret_hash if client else None, secret)
    if client is None or not verified:
        raise TokenRefused(TokenErrorCode.INVALID_CLIENT, "wrong client id or secret")
    return client


async def client_credentials_grant(
    uow: UnitOfWork, client_id: str, secret: str, requested_scopes: set[str], lifetimes: TokenLifetimes
) -> IssuedTokens:
    """A partner system's token, with the scopes it asks for among those granted; no refresh token (RFC 6749
    §4.4.3): it can always ask again."""
    client = await authenticate_client(uow, client_id, secret)
    return IssuedTokens(partner_token(client.id, client.scopes, requested_scopes, uow.now(), lifetimes.access))


async def password_grant(
    uow: UnitOfWork, username: str, password: str, client_address: str, settings: MembersSettings
) -> IssuedTokens:
    """A person logs in. Wrong passwords are counted per (account, client address), for unknown accounts alike
    so the answer never tells which exist; past the limit that pair waits (429) while others log in."""
    account = username.lower()
    now = uow.now()
    attempts = await store.login_attempts(uow.session, account, client_address)
    throttle = attempts.throttle() if attempts else None
    if (wait := locked_for(throttle, now)) is not None:
        seconds = int(wait.total_seconds()) + 1
        raise TokenRefused(
            TokenErrorCode.INVALID_GRANT, f"too many failed logins; try again in {seconds} seconds", retry_after=wait
        )
    person = await store.person_with_email(uow.session, account)
    # An unknown account is checked against a dummy hash: as slow, so timing does not tell who is registered.
    verified = await verify_secret(person.password_hash if person else None, password)
    if person is None or not verified:
        failed = after_failed_login(throttle, now, settings.login_max_failures, settings.login_lockout)
        await _count_failure(uow, attempts, account, client_address, failed)
        raise TokenRefused(TokenErrorCode.INVALID_GRANT, _BAD_LOGIN)
    await _check_may_log_in(uow, person)
    if attempts is not None:
        await uow.session.delete(attempts)
    refresh_token = _start_refresh_token(uow, person.id, new_id(), now, settings.token_lifetimes)
    await uow.commit()
    return IssuedTokens(_access_token(person, now, settings.token_lifetimes), refresh_token)


async def refresh_token_grant(uow: UnitOfWork, presented: str, lifetimes: TokenLifetimes) -> IssuedTokens:
    """A session continues: the presented refresh token is spent and a new one of its family given, with an
    access token naming the person's role and company as they are now. A token presented again revokes the
    family (domain.refresh_outcome)."""
    now = uow.now()
    stored = await store.refresh_token_with_digest(uow.session, secret_digest(presented))
    outcome = refresh_outcome(stored.state() if stored else None, now)
    if stored is not None and outcome == RefreshOutcome.ROTATE:
        person = await store.get_person(uow.session, stored.person_id)  # erasure revoked the tokens of the erased
        await _check_may_log_in(uow, person)
        if await store.spend_refresh_token(uow.session, stored.id, now):
            refresh_token = _start_refresh_token(uow, person.id, stored.family_id, now, lifetimes)
            await uow.commit()
            return IssuedTokens(_access_token(person, now, lifetimes), refresh_token)
        outcome = RefreshOutcome.REVOKE_FAMILY  # another request spent it a moment ago: one of the two replays it
    if stored is not None and outcome == RefreshOutcome.REVOKE_FAMILY:
        await store.revoke_refresh_family(uow.session, stored.family_id, now)
        await uow.commit()
    raise TokenRefused(TokenErrorCode.INVALID_GRANT, REFRESH_REFUSALS[outcome])


async def revoke_token(uow: UnitOfWork, presented: str) -> None:
    """RFC 7009: a refresh token presented here ends its session (its whole family). Anything else is left as it
    is, without saying so: an access token cannot be revoked (it lapses within minutes), and an unknown token is
    no one's session."""
    stored = await store.refresh_token_with_digest(uow.session, secret_digest(presented))
    if stored is not None:
        await store.revoke_refresh_family(uow.session, stored.family_id, uow.now())
        await uow.commit()


async def register_partner_client(uow: UnitOfWork, data: PartnerClientCreate, actor: Principal) -> PartnerClientCreated:
    ensure_staff(actor)
    secret = secrets.token_urlsafe(32)
    client = PartnerClient(
        name=data.name, scopes=data.scopes, secret_hash=await hash_secret(secret), created_by=actor.subject
    )
    uow.session.add(client)
    await uow.commit()
    return PartnerClientCreated(client_id=client.id, client_secret=secret, name=client.name, scopes=client.scopes)


async def _count_failure(
    uow: UnitOfWork, attempts: LoginAttempts | None, account: str, client_address: str, throttle: LoginThrottle
) -> None:
    row = attempts or LoginAttempts(account=account, client_address=client_address)
    row.failures, row.locked_until = throttle.failures, throttle.locked_until
    uow.session.add(row)
    # Two wrong passwords at once for a pair not counted yet both insert it: one is counted, which is enough.
    with contextlib.suppress(IntegrityError):
        await uow.commit()


async def _check_may_log_in(uow: UnitOfWork, person: Person) -> None:
    if person.company_id is not None:
        company = await store.get_company(uow.session, person.company_id)
        check_may_log_in(company.status)


def _access_token(person: Person, now: datetime, lifetimes: TokenLifetimes) -> AccessToken:
    return person_token(person.id, person.role, person.company_id, now, lifetimes.access)


def _start_refresh_token(
    uow: UnitOfWork, person_id: str, family_id: str, now: datetime, lifetimes: TokenLifetimes
) -> str:
    secret, digest = new_secret()
    uow.session.add(
        RefreshToken(
            digest=digest, family_id=family_id, person_id=person_id, issued_at=now, expires_at=now + lifetimes.refresh
        )
    )
    return secret
