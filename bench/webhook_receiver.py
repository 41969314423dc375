"""A partner's webhook endpoint for the benchmarks: it answers every POST at once and counts them."""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from deploy.local.ports import free_port


@dataclass
class Receiver:
    """A partner's endpoint: answers 204 to every signed POST and counts them."""

    received: int = 0
    unsigned: int = 0
    last_at: float = 0.0

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        more = True
        while more:
            more = (await receive()).get("more_body", False)
        headers = dict(scope["headers"])
        if not (b"webhook-id" in headers and b"webhook-signature" in headers):
            self.unsigned += 1
        self.received += 1
        self.last_at = time.perf_counter()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@contextmanager
def webhook_receiver() -> Iterator[tuple[Receiver, str]]:
    """The receiver on its own thread and event loop, so the benchmark's polling does not slow it down."""
    receiver = Receiver()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(receiver, host="127.0.0.1", port=port, lifespan="off", log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield receiver, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
