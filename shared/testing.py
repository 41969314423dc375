"""Tokens for tests and benchmarks of a service without the members service running: a signing key of our
own, tokens shaped as members signs them, and a JWKS endpoint serving the public half."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

SIGNING_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KEY_ID = "test"


class LocalKeys:
    """A KeySource (shared.auth) for an app built in-process."""

    async def public_key(self, kid: str) -> Any:
        return SIGNING_KEY.public_key() if kid == KEY_ID else None


def bearer(person_id: str, role: str = "company_member", company_id: str | None = None) -> dict[str, str]:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {"sub": person_id, "iss": "filiera-members", "aud": "filiera", "iat": now,
                              "exp": now + timedelta(minutes=15), "kind": "person", "role": role}
    if company_id:
        claims["company_id"] = company_id
    token = jwt.encode(claims, SIGNING_KEY, algorithm="RS256", headers={"kid": KEY_ID})
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def serving_jwks() -> Iterator[str]:
    """A JWKS endpoint for a service running as its own process; yields its URL."""
    key = {**RSAAlgorithm.to_jwk(SIGNING_KEY.public_key(), as_dict=True), "kid": KEY_ID, "alg": "RS256",
           "use": "sig"}
    body = json.dumps({"keys": [key]}).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    finally:
        server.shutdown()
