"""A notifications service per test, on a real database (PostgreSQL and SQLite), the real Kafka broker, a real
SMTP server in the test process (aiosmtpd) and real HTTP receivers for webhooks.

The other services are not running: their facts are built as plain JSON in facts.py (checked against the schemas
the publishers serve, so a change to their contracts breaks these tests) and published to their topics as they
publish them. The clock that decides retries and digests is the test's.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import uvicorn
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlmodel import select

from deploy.local.mailcatcher import smtp_server
from deploy.local.ports import free_port
from services.notifications.app import create_app
from services.notifications.handlers import TOPICS
from services.notifications.models import ContactCompany, ContactPerson, Message
from services.notifications.settings import NotificationsSettings
from shared.consumer import ProcessedEvent
from shared.membership import MembershipStatus, Role
from tests.support import partner_facts as facts
from tests.support.clock import MovableClock
from tests.support.facts import publish_fact, until_stored
from tests.support.infrastructure import start_consumer_groups_at_the_end
from tests.support.partner_facts import PublishedFact
from tests.support.tokens import LocalKeys, bearer

STAFF = bearer(str(uuid.uuid4()), role=Role.NETWORK_ADMIN)


class Mailbox:
    """What the SMTP server received, parsed; `refuse` makes it answer 451 (try later) to everything."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.refuse = False

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse:
            return "451 4.3.0 mail server busy, try later"
        parsed = email.message_from_bytes(envelope.original_content or b"", policy=email.policy.default)
        self.received.append(parsed)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.received if message["To"] == address]

    async def until_received(self, count: int, address: str | None = None, timeout: float = 20) -> list[EmailMessage]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = self.to(address) if address else self.received
            if len(found) >= count:
                return found
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{len(found)} emails received, expected {count}")
            await asyncio.sleep(0.1)


def plain_text(mail: EmailMessage) -> str:
    """An email's plain-text part, as a mail program shows it."""
    part = mail.get_body(("plain",))
    assert part is not None, "no plain-text part"
    text: str = part.get_content()
    return text


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A partner's HTTP endpoint: records what arrives and answers with the statuses a test lines up (then 204)."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)

    def answer(self, status: int, headers: dict[str, str] | None = None, times: int = 1) -> None:
        self.answers.extend([(status, headers or {})] * times)

    async def until_received(self, count: int, timeout: float = 20) -> list[Received]:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.received) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{len(self.received)} webhook requests received, expected {count}")
            await asyncio.sleep(0.05)
        return self.received


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            receiver.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
            status, headers = receiver.answers.pop(0) if receiver.answers else (204, {})
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receiver.url = f"http://127.0.0.1:{server.server_port}/hooks/filiera"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()  # shutdown() alone leaves the port bound


@dataclass
class Person:
    id: str
    company_id: str | None
    email: str
    name: str
    language: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.id, company_id=self.company_id)


class NotificationsApi:
    def __init__(
        self, client: httpx.AsyncClient, app: Any, kafka_bootstrap: str, mailbox: Mailbox, clock: MovableClock
    ) -> None:
        self.client = client
        self.app = app
        self.kafka_bootstrap = kafka_bootstrap
        self.mailbox = mailbox
        self.clock = clock

    async def publish(self, fact: PublishedFact, event_id: str | None = None) -> str:
        """Publish another service's fact as it would; returns the CloudEvent id."""
        return await publish_fact(
            self.kafka_bootstrap, fact.topic, fact.type, fact.subject, fact.data, source=fact.source, event_id=event_id
        )

    async def company(
        self,
        status: MembershipStatus = MembershipStatus.ACTIVE,
        legal_name: str = "Calzaturificio Lunata S.r.l.",
        public_listing: bool = True,
    ) -> str:
        company_id = str(uuid.uuid4())
        await self.publish(
            facts.company_approved(facts.company_profile(company_id, status, legal_name, public_listing))
        )
        await self.until(lambda session: _exists(session, ContactCompany, company_id))
        return company_id

    async def person(
        self,
        company_id: str | None = None,
        role: Role = Role.COMPANY_MEMBER,
        language: str = "it",
        given_name: str = "Giulia",
    ) -> Person:
        person_id = str(uuid.uuid4())
        address = f"{given_name.lower()}.{person_id[:8]}@example.com"
        await self.publish(facts.person_joined(person_id, company_id, given_name, address, language, role))
        await self.until(lambda session: _exists(session, ContactPerson, person_id))
        return Person(person_id, company_id, address, f"{given_name} Bertolucci", language)

    async def until_consumed(self, fact_id: str) -> None:
        """Wait until the service has handled a fact: its id is in the consumer's inbox, with all it wrote."""
        await self.until(lambda session: _handled(session, fact_id))

    async def inbox(self, person: Person, **params: Any) -> dict[str, Any]:
        answer = await self.client.get("/inbox", headers=person.headers, params=params)
        assert answer.status_code == 200, answer.text
        page: dict[str, Any] = answer.json()
        return page

    async def until_in_inbox(self, person: Person, count: int, timeout: float = 20) -> list[dict[str, Any]]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            items: list[dict[str, Any]] = (await self.inbox(person, page_size=100))["items"]
            if len(items) >= count:
                return items
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{len(items)} messages in the inbox, expected {count}")
            await asyncio.sleep(0.1)

    async def messages(self, **conditions: Any) -> list[Message]:
        return await self.messages_of(Message, **conditions)

    async def messages_of(self, table: Any, **conditions: Any) -> list[Any]:
        async with self.app.state.runtime.sessions() as session:
            query = select(table)
            for name, value in conditions.items():
                query = query.where(getattr(table, name) == value)
            return list(await session.exec(query))

    async def until(self, condition: Callable[[Any], Any], timeout: float = 30) -> None:
        await until_stored(self.app.state.runtime.sessions, condition, timeout)


async def _exists(session: Any, table: Any, key: str) -> bool:
    return await session.get(table, key) is not None


async def _handled(session: Any, fact_id: str) -> bool:
    found = await session.exec(select(ProcessedEvent).where(ProcessedEvent.event_id == fact_id))
    return found.first() is not None


def notifications_settings(
    database_url: str, kafka_bootstrap: str, smtp_port: int, **overrides: Any
) -> NotificationsSettings:
    values: dict[str, Any] = dict(
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap,
        smtp_port=smtp_port,
        outbox_poll_interval_seconds=0.5,
        dispatch_interval_seconds=0.2,
        digest_check_interval_seconds=0.2,
        inbox_stream_poll_seconds=0.1,
        consumer_lag_interval_seconds=0.5,
        webhook_allowed_hosts=["127.0.0.1"],
        public_url="http://notifications.test",
        web_url="https://filiera.test",
    )
    values.update(overrides)
    return NotificationsSettings(**values)


@asynccontextmanager
async def notifications_service(
    database_url: str,
    kafka_bootstrap: str,
    mailbox: Mailbox,
    smtp_port: int,
    clock: MovableClock | None = None,
    resolver: Any = None,
    **settings: Any,
) -> AsyncIterator[NotificationsApi]:
    clock = clock or MovableClock()
    extra = {"resolver": resolver} if resolver else {}
    app = create_app(
        notifications_settings(database_url, kafka_bootstrap, smtp_port, **settings),
        key_source=LocalKeys(),
        clock=clock,
        **extra,
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://notifications") as client,
    ):
        yield NotificationsApi(client, app, kafka_bootstrap, mailbox, clock)


@asynccontextmanager
async def over_http(app: Any) -> AsyncIterator[str]:
    """The (already started) app behind a real HTTP server, for what ASGITransport cannot do: it buffers whole
    responses, so a stream that never ends would never arrive."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


@pytest.fixture(autouse=True)
def _consumers_start_after_other_suites_facts(request: pytest.FixtureRequest) -> None:
    """For the tests on the real broker only (asked for here, not declared, so the unit tests stay off it)."""
    if "kafka_bootstrap" in request.fixturenames:
        request.getfixturevalue("_consumer_groups_at_the_topics_end")


@pytest.fixture(scope="session")
async def _consumer_groups_at_the_topics_end(kafka_bootstrap: str) -> None:
    # Else the first test here writes welcomes to all the other suites' people before its own facts (it timed out
    # doing so under load).
    await start_consumer_groups_at_the_end(kafka_bootstrap, "notifications", TOPICS)


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    with smtp_server(mailbox) as port:
        yield mailbox, port


@pytest.fixture
async def notifications(
    database_url: str, kafka_bootstrap: str, smtp: tuple[Mailbox, int]
) -> AsyncIterator[NotificationsApi]:
    mailbox, port = smtp
    async with notifications_service(database_url, kafka_bootstrap, mailbox, port) as api:
        yield api
