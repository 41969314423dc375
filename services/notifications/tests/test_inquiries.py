"""A foreign buyer writes to a company of the directory from its page, with no account: the company's people get
the message by email (answering it reaches the buyer) and in their inbox, and the buyer a copy in their language.
A robot filling the hidden field is answered as everyone is and nothing is sent; a client, and a company, get
so many inquiries in a while and no more (the service's clock moved, not waited for)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx

from services.notifications.domain import PER_CLIENT, PER_COMPANY
from services.notifications.models import Message
from services.notifications.tests.conftest import NotificationsApi, Person, plain_text
from shared.membership import MembershipStatus, Role

BUYER = "anna.schmidt@schuhhaus.example"
MESSAGE = "Good morning,\n\nwe are looking for a sole maker for 2,000 pairs a season. Could you send your catalogue?"


def inquiry(company_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "company_id": company_id,
        "name": "Anna Schmidt",
        "email": BUYER,
        "company": "Schuhhaus Schmidt GmbH",
        "country": "Germany",
        "message": MESSAGE,
        "language": "en",
        "website": "",
        **changes,
    }


async def send(notifications: NotificationsApi, body: dict[str, Any], client: str = "203.0.113.7") -> httpx.Response:
    return await notifications.client.post("/inquiries", json=body, headers={"X-Real-IP": client})


async def listed_company(notifications: NotificationsApi, **listing: Any) -> tuple[str, Person]:
    company_id = await notifications.company(legal_name="Suolificio Il Castagno S.r.l.", **listing)
    owner = await notifications.person(company_id, role=Role.COMPANY_ADMIN, given_name="Paolo")
    await notifications.mailbox.until_received(1, owner.email)  # the welcome
    return company_id, owner


async def test_a_buyer_inquiry_reaches_the_company_people_and_the_buyer_gets_a_copy(
    notifications: NotificationsApi,
) -> None:
    company_id, owner = await listed_company(notifications)
    colleague = await notifications.person(company_id, language="en", given_name="Mary")
    await notifications.mailbox.until_received(1, colleague.email)

    answer = await send(notifications, inquiry(company_id))
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"accepted": True}

    [_welcome, to_owner] = await notifications.mailbox.until_received(2, owner.email)
    assert (
        to_owner["Subject"] == "Un messaggio per Suolificio Il Castagno S.r.l. da Anna Schmidt (Schuhhaus Schmidt GmbH)"
    )
    assert to_owner["Reply-To"] == BUYER, "answering the email writes to the buyer"
    text = plain_text(to_owner)
    assert "Anna Schmidt di Schuhhaus Schmidt GmbH (Germany) ha scritto a Suolificio Il Castagno S.r.l." in text
    assert "we are looking for a sole maker for 2,000 pairs a season" in text
    assert "Apri i messaggi: https://filiera.test/inbox" in text
    [_welcome, to_colleague] = await notifications.mailbox.until_received(2, colleague.email)
    assert to_colleague["Subject"].startswith("A message for Suolificio Il Castagno S.r.l. from Anna Schmidt")
    [in_inbox, _welcome_in_inbox] = await notifications.until_in_inbox(owner, 2)
    assert in_inbox["title"] == to_owner["Subject"] and MESSAGE.split("\n")[-1] in in_inbox["body"]

    [copy] = await notifications.mailbox.until_received(1, BUYER)
    assert copy["Subject"] == "Your message to Suolificio Il Castagno S.r.l."
    assert copy["Reply-To"] is None
    copy_text = plain_text(copy)
    assert copy_text.startswith("Dear Anna Schmidt,")
    assert "who will answer you at anna.schmidt@schuhhaus.example" in copy_text and MESSAGE.split("\n")[-1] in copy_text
    assert f"Back to the company's page: https://filiera.test/directory/{company_id}" in copy_text
    assert [m.channel for m in await notifications.messages(recipient=f"email:{BUYER}")] == ["email"]


async def test_a_filled_spam_trap_is_answered_as_usual_and_nothing_is_sent(notifications: NotificationsApi) -> None:
    company_id, owner = await listed_company(notifications)
    trapped = await send(notifications, inquiry(company_id, website="https://cheap-shoes.example", message="SPAM"))
    assert trapped.status_code == 202 and trapped.json() == {"accepted": True}
    genuine = await send(notifications, inquiry(company_id, message="A genuine question about soles."))
    assert genuine.status_code == 202

    await notifications.mailbox.until_received(2, owner.email)  # the welcome, then the genuine inquiry
    inquiries = [m for m in await notifications.messages() if m.source_event_id.startswith("inquiry:")]
    assert {m.recipient for m in inquiries} == {owner.id, f"email:{BUYER}"}
    assert not [m for m in inquiries if "SPAM" in m.body], "each sent was written when its answer came: none is"


async def test_only_listed_active_members_can_be_written_to(notifications: NotificationsApi) -> None:
    unlisted = await notifications.company(public_listing=False)
    suspended = await notifications.company(status=MembershipStatus.SUSPENDED)
    for company_id in (unlisted, suspended, str(uuid.uuid4())):
        answer = await send(notifications, inquiry(company_id))
        assert answer.status_code == 404, answer.text
        assert answer.json() == {"detail": "there is no such company in the directory"}
    assert not await notifications.messages_of(Message, address=BUYER)


async def test_what_is_missing_or_wrong_is_said_in_plain_words(notifications: NotificationsApi) -> None:
    company_id, _owner = await listed_company(notifications)
    answer = await send(notifications, inquiry(company_id, message="   \n ", name="", email="anna.schmidt"))
    assert answer.status_code == 422
    problems = {error["loc"][-1]: error["msg"] for error in answer.json()["detail"]}
    assert problems["message"] == "please write your message to the company"
    assert problems["name"] == "please write your name"
    assert problems["email"].startswith("value is not a valid email address")


async def test_a_client_sends_a_few_inquiries_an_hour(notifications: NotificationsApi) -> None:
    company_id, _owner = await listed_company(notifications)
    for _ in range(PER_CLIENT.count):
        assert (await send(notifications, inquiry(company_id), client="198.51.100.20")).status_code == 202
    refused = await send(notifications, inquiry(company_id), client="198.51.100.20")
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith("you have sent several messages in a short time: please try again in")
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert (await send(notifications, inquiry(company_id), client="198.51.100.21")).status_code == 202, (
        "another client, say a colleague's office, is not held back"
    )

    notifications.clock.advance(timedelta(hours=1))
    assert (await send(notifications, inquiry(company_id), client="198.51.100.20")).status_code == 202


async def test_a_company_receives_so_many_inquiries_a_day_whoever_sends_them(notifications: NotificationsApi) -> None:
    company_id, _owner = await listed_company(notifications)
    other_company, _other_owner = await listed_company(notifications)
    for number in range(PER_COMPANY.count):
        assert (await send(notifications, inquiry(company_id), client=f"192.0.2.{number}")).status_code == 202
    refused = await send(notifications, inquiry(company_id), client="192.0.2.200")
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith("this company has received many messages today")
    assert (await send(notifications, inquiry(other_company), client="192.0.2.200")).status_code == 202

    notifications.clock.advance(timedelta(days=1))
    assert (await send(notifications, inquiry(company_id), client="192.0.2.201")).status_code == 202
