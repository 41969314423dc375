"""Token verification: what was verified is remembered only while the token is valid; forgeries never pass."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import HTTPException

from shared.auth import TokenVerifier
from tests.support.clock import MovableClock
from tests.support.tokens import KEY_ID, SIGNING_KEY, LocalKeys


def token(expires_in: timedelta, key: rsa.RSAPrivateKey = SIGNING_KEY) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": "p1",
        "iss": "filiera-members",
        "aud": "filiera",
        "iat": now,
        "exp": now + expires_in,
        "kind": "person",
        "role": "network_admin",
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": KEY_ID})


class CountedKeys(LocalKeys):
    """LocalKeys that count how often a signature needed the key: a remembered token needs none."""

    def __init__(self) -> None:
        self.lookups = 0

    async def public_key(self, kid: str) -> Any:
        self.lookups += 1
        return await super().public_key(kid)


async def test_a_remembered_token_is_refused_once_it_expires() -> None:
    keys, clock = CountedKeys(), MovableClock()
    verifier = TokenVerifier(keys, "filiera-members", "filiera", clock=clock)
    short_lived = token(timedelta(minutes=1))
    assert (await verifier.verify(short_lived)).role == "network_admin"
    assert (await verifier.verify(short_lived)).subject == "p1"
    assert keys.lookups == 1  # remembered: the second time needed no signature check
    clock.advance(timedelta(minutes=1, seconds=1))
    with pytest.raises(HTTPException) as refused:
        await verifier.verify(short_lived)
    assert (refused.value.status_code, refused.value.detail) == (401, "token expired")


async def test_a_forged_token_is_refused_every_time() -> None:
    verifier = TokenVerifier(LocalKeys(), "filiera-members", "filiera")
    forged = token(timedelta(minutes=15), key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    for _ in range(2):
        with pytest.raises(HTTPException) as refused:
            await verifier.verify(forged)
        assert refused.value.status_code == 401
