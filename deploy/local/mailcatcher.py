"""A mail catcher for `./filiera run`: an SMTP server on this machine that keeps every email the platform sends
as an .eml file (open it with any mail program), instead of sending it anywhere."""

from __future__ import annotations

import time
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class _Keep:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd
        recipient = (envelope.rcpt_tos or ["unknown"])[0].replace("/", "_")
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{time.monotonic_ns() % 10**9:09d}-{recipient}.eml"
        (self.folder / name).write_bytes(envelope.original_content or b"")
        return "250 kept"


class MailCatcher:
    def __init__(self, folder: Path, port: int) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.port = port
        self._controller = Controller(_Keep(folder), hostname="127.0.0.1", port=port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()
