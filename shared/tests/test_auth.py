"""Token verification: what was verified is remembered only while the token is valid; forgeries never pass."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import HTTPException

from shared.auth import TokenVerifier
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


async def test_a_remembered_token_is_refused_once_it_expires() -> None:
    verifier = TokenVerifier(LocalKeys(), "filiera-members", "filiera")
    short_lived = token(timedelta(seconds=1))
    assert (await verifier.verify(short_lived)).role == "network_admin"
    assert (await verifier.verify(short_lived)).subject == "p1"  # remembered
    await asyncio.sleep(1.2)
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
