"""What tests and benchmarks of a service need when the other services are not running: a signing key of our
own, tokens shaped as members signs them, a JWKS endpoint serving the public half, other services' facts
published as they publish them, and a wait for the service's database to show what a fact did. (The local HTTP
server standing in for an outside source is `deploy.local.feeds.serving`: `./filiera run` uses it too.)"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from aiokafka import AIOKafkaProducer
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from deploy.local.feeds import serving
from shared.envelope import CloudEvent

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


async def publish_fact(
    bootstrap: str,
    topic: str,
    event_type: str,
    subject: str,
    data: dict[str, Any],
    source: str = "/filiera/members",
    event_id: str | None = None,
) -> str:
    """Another service's fact, published as it publishes them (CloudEvent, key = the aggregate's id); the same
    `event_id` twice is Kafka delivering one fact twice. Returns the fact's id."""
    fact = CloudEvent(
        id=event_id or str(uuid.uuid4()),
        source=source,
        type=event_type,
        subject=subject,
        time=datetime.now(UTC),
        data=data,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, fact.model_dump_json().encode(), key=subject.encode())
    finally:
        await producer.stop()
    return fact.id


async def until_stored(
    sessions: async_sessionmaker[AsyncSession],
    condition: Callable[[AsyncSession], Awaitable[bool]],
    timeout: float = 30,
) -> None:
    """Wait until the service's own database shows what a consumed fact should have done."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with sessions() as session:
            if await condition(session):
                return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the service did not apply the fact in time")
        await asyncio.sleep(0.1)
