"""Tokens as the members service signs them, for tests and benchmarks of a service running without members:
a signing key of our own, person and partner tokens, a KeySource for an app built in-process, and a JWKS endpoint
serving the public half to a service running as its own process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from deploy.local.feeds import serving

SIGNING_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KEY_ID = "test"


class LocalKeys:
    """A KeySource (shared.auth) for an app built in-process."""

    async def public_key(self, kid: str) -> Any:
        return SIGNING_KEY.public_key() if kid == KEY_ID else None


def bearer(person_id: str, role: str = "company_member", company_id: str | None = None) -> dict[str, str]:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": person_id,
        "iss": "filiera-members",
        "aud": "filiera",
        "iat": now,
        "exp": now + timedelta(minutes=15),
        "kind": "person",
        "role": role,
    }
    if company_id:
        claims["company_id"] = company_id
    token = jwt.encode(claims, SIGNING_KEY, algorithm="RS256", headers={"kid": KEY_ID})
    return {"Authorization": f"Bearer {token}"}


def partner_bearer(client_id: str, scopes: str = "") -> dict[str, str]:
    """A partner system's client-credentials token, as members signs it."""
    now = datetime.now(UTC)
    claims = {
        "sub": client_id,
        "iss": "filiera-members",
        "aud": "filiera",
        "iat": now,
        "exp": now + timedelta(minutes=15),
        "kind": "partner",
        "role": "partner",
        "scope": scopes,
    }
    token = jwt.encode(claims, SIGNING_KEY, algorithm="RS256", headers={"kid": KEY_ID})
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def serving_jwks() -> Iterator[str]:
    """A JWKS endpoint for a service running as its own process; yields its URL."""
    key = {**RSAAlgorithm.to_jwk(SIGNING_KEY.public_key(), as_dict=True), "kid": KEY_ID, "alg": "RS256", "use": "sig"}
    body = json.dumps({"keys": [key]}).encode()
    with serving(lambda *_: (200, "application/json", body)) as url:
        yield f"{url}/.well-known/jwks.json"
