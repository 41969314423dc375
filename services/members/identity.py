"""Identity: password hashes (argon2), the RS256 signing keys and their JWKS, access tokens, and the secrets of
refresh tokens and single-use links (kept as SHA-256 digests)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import secrets
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.members.domain import AccessToken
from services.members.models import SigningKey
from shared.auth import ALGORITHM

_hasher = PasswordHasher()
# Verifying against this keeps a login for an unknown email as slow as one for a known email.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


# Argon2 is slow on purpose (about a quarter of a second of CPU here): it runs in a thread (argon2-cffi lets go
# of the GIL), so one login does not hold up every other request of the service meanwhile. Each computation also
# holds 64 MiB (its memory cost): no more run at once than there are cores, all the CPU can do anyway, so a burst
# of logins queues instead of growing the process by 64 MiB a login (600 logins took members from 210 to 390 MB).
HASHING_SLOTS = os.cpu_count() or 1
_hashing = asyncio.Semaphore(HASHING_SLOTS)


async def hash_secret(secret: str) -> str:
    async with _hashing:
        return await asyncio.to_thread(_hasher.hash, secret)


async def verify_secret(secret_hash: str | None, secret: str) -> bool:
    async with _hashing:
        return await asyncio.to_thread(_verify, secret_hash, secret)


def _verify(secret_hash: str | None, secret: str) -> bool:
    try:
        return _hasher.verify(secret_hash or _DUMMY_HASH, secret) and secret_hash is not None
    except (VerifyMismatchError, InvalidHashError):
        return False


def new_signing_key() -> SigningKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return SigningKey(kid=secrets.token_hex(8), private_pem=pem)


class KeyRing:
    """The service's signing keys, kept in its database so that every replica signs and verifies alike.

    The newest key signs; all are published in the JWKS so tokens signed before a rotation stay valid.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._private: dict[str, Any] = {}
        self._signing_kid: str | None = None

    async def load(self) -> None:
        async with self._sessions() as session:
            keys = (await session.exec(select(SigningKey).order_by(col(SigningKey.created_at)))).all()
            if not keys:
                key = new_signing_key()
                session.add(key)
                await session.commit()
                keys = [key]
        self._private = {k.kid: serialization.load_pem_private_key(k.private_pem.encode(), password=None) for k in keys}
        self._signing_kid = keys[-1].kid

    async def public_key(self, kid: str) -> Any:
        if kid not in self._private:
            await self.load()  # another replica may have rotated
        private = self._private.get(kid)
        return private.public_key() if private is not None else None

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        keys = []
        for kid, private in self._private.items():
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": ALGORITHM})
        return {"keys": keys}

    def sign(self, claims: dict[str, Any]) -> str:
        assert self._signing_kid is not None, "KeyRing.load() first"
        return jwt.encode(
            claims, self._private[self._signing_kid], algorithm=ALGORITHM, headers={"kid": self._signing_kid}
        )


def token_claims(token: AccessToken, issuer: str, audience: str) -> dict[str, Any]:
    """The JWT claims of an access token, as every service's verifier reads them (shared.auth)."""
    issued_at = int(token.issued_at.timestamp())
    claims: dict[str, Any] = {
        "sub": token.subject,
        "iss": issuer,
        "aud": audience,
        "iat": issued_at,
        "nbf": issued_at,
        "exp": issued_at + int(token.lifetime.total_seconds()),
        "jti": secrets.token_hex(8),
        "kind": token.kind,
        "role": token.role,
    }
    if token.company_id is not None:
        claims["company_id"] = token.company_id
    if token.scopes is not None:
        claims["scope"] = " ".join(sorted(token.scopes))
    return claims


def new_secret() -> tuple[str, str]:
    """A secret for a refresh token or a single-use link (256 random bits), and the digest it is stored as: the
    secret itself is handed to its holder once and kept nowhere."""
    secret = secrets.token_urlsafe(32)
    return secret, secret_digest(secret)


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
