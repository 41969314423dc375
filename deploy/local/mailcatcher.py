"""A mail catcher for `./filiera run`: an SMTP server on this machine that keeps every email the platform sends
as an .eml file (open it with any mail program), instead of sending it anywhere."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from deploy.local.ports import free_port


@contextmanager
def smtp_server(handler: Any, port: int | None = None) -> Iterator[int]:
    """An SMTP server on 127.0.0.1 whose `handler.handle_DATA` gets every message (aiosmtpd); yields its port.
    The mail catcher, the notifications tests and the benchmark each bring their own handler."""
    port = port or free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


class _Keep:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        recipient = (envelope.rcpt_tos or ["unknown"])[0].replace("/", "_")
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{time.monotonic_ns() % 10**9:09d}-{recipient}.eml"
        (self.folder / name).write_bytes(envelope.original_content or b"")
        return "250 kept"


class MailCatcher:
    def __init__(self, folder: Path, port: int) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.port = port
        self._running = ExitStack()

    def start(self) -> None:
        self._running.enter_context(smtp_server(_Keep(self.folder), self.port))

    def stop(self) -> None:
        self._running.close()
