"""The emails the services sent, read as a mail program reads them, from the mail catcher's folder (one .eml file
each, named for its recipient)."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import Callable
from email.message import Message
from pathlib import Path

import icalendar


def emails_to(folder: Path, address: str) -> list[Message]:
    return [email.message_from_bytes(path.read_bytes()) for path in sorted(folder.glob(f"*-{address}.eml"))]


async def one_email(folder: Path, address: str, wanted: Callable[[Message], bool], timeout: float = 60) -> Message:
    """The first email to `address` that is `wanted`, once it has arrived."""
    async with asyncio.timeout(timeout):
        while not (found := [m for m in emails_to(folder, address) if wanted(m)]):
            await asyncio.sleep(0.3)
    return found[0]


def attachment_types(message: Message) -> list[str]:
    return [part.get_filename("").rsplit(".", 1)[-1] for part in message.walk() if part.get_filename()]


def calendar_entry(message: Message) -> icalendar.Event:
    """The event of the email's .ics attachment."""
    part = next(p for p in message.walk() if (p.get_filename() or "").endswith(".ics"))
    ics = part.get_payload(decode=True)
    assert isinstance(ics, bytes), "an attachment decodes to bytes"
    (entry,) = icalendar.Calendar.from_ical(ics).walk("VEVENT")
    assert isinstance(entry, icalendar.Event)
    return entry


def readable(eml: Path) -> str:
    """An email as its reader sees it: the subject and the plain text, decoded."""
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    text = message.get_body(("plain",))
    assert text is not None, f"{eml.name} has no plain text part"
    return f"{message['Subject']}\n{text.get_content()}"
