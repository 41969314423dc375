"""People choose, per category and channel, whether and how often they hear: at once, or gathered into a daily or
weekly digest sent once, even across restarts. Membership administration is always on. Email that cannot be
handed over is retried, then kept in the delivery log with its reason."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

from services.notifications import commands
from services.notifications.domain import DISTRICT_TIME, EMAIL_RETRY_DELAYS
from services.notifications.models import MessageStatus
from services.notifications.tests.conftest import (
    STAFF,
    Mailbox,
    NotificationsApi,
    Person,
    notifications_service,
    plain_text,
)
from tests.support import partner_facts as facts
from tests.support.clock import MovableClock


async def choose(api: NotificationsApi, person: Person, category: str, channel: str, **choice: Any) -> Any:
    return await api.client.put(f"/preferences/me/{category}/{channel}", headers=person.headers, json=choice)


async def match(api: NotificationsApi, company_id: str, title: str) -> str:
    return await api.publish(facts.match_found(facts.call_summary(title), company_id, ["PMI"]))


def to_next_morning(clock: MovableClock, hour: int = 7) -> None:
    """Move the clock to tomorrow's digest time in Capannori."""
    local = clock().astimezone(DISTRICT_TIME)
    target = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), DISTRICT_TIME) + timedelta(
        hours=hour, minutes=1
    )
    clock.advance(target - clock())


async def test_everyone_starts_with_everything_at_once_and_network_news_by_weekly_email(
    notifications: NotificationsApi,
) -> None:
    person = await notifications.person(await notifications.company())
    answer = await notifications.client.get("/preferences/me", headers=person.headers)
    assert answer.status_code == 200
    choices = {(row["category"], row["channel"]): row for row in answer.json()}
    assert len(choices) == 8
    assert choices[("network_news", "email")]["frequency"] == "weekly"
    assert choices[("funding_alerts", "in_app")] == {
        "category": "funding_alerts",
        "channel": "in_app",
        "enabled": True,
        "frequency": "instant",
        "transactional": False,
    }
    assert choices[("membership", "email")]["transactional"] is True


async def test_membership_administration_cannot_be_turned_off(notifications: NotificationsApi) -> None:
    person = await notifications.person(await notifications.company())
    refused = await choose(notifications, person, "membership", "email", enabled=False)
    assert refused.status_code == 422
    assert "transactional" in refused.json()["detail"]
    assert (
        await choose(notifications, person, "membership", "email", enabled=True, frequency="weekly")
    ).status_code == 422
    assert (await choose(notifications, person, "gossip", "email", enabled=False)).status_code == 422
    assert (await notifications.client.get("/preferences/me", headers=STAFF)).status_code == 200


async def test_a_category_switched_off_on_a_channel_stays_quiet_there(notifications: NotificationsApi) -> None:
    company_id = await notifications.company()
    person = await notifications.person(company_id)
    await notifications.mailbox.until_received(1, person.email)
    assert (await choose(notifications, person, "funding_alerts", "in_app", enabled=False)).status_code == 200
    fact = await match(notifications, company_id, "Only by email")
    await notifications.mailbox.until_received(2, person.email)
    assert [message.channel for message in await notifications.messages(source_event_id=fact)] == ["email"]


async def test_a_daily_digest_gathers_what_was_held_and_goes_out_once_across_restarts(
    database_url: str, kafka_bootstrap: str, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    clock = MovableClock()
    async with notifications_service(database_url, kafka_bootstrap, mailbox, port, clock=clock) as api:
        company_id = await api.company()
        person = await api.person(company_id, language="en", given_name="John")
        await mailbox.until_received(1, person.email)
        assert (
            await choose(api, person, "funding_alerts", "email", enabled=True, frequency="daily")
        ).status_code == 200
        facts = [await match(api, company_id, f"Call {number}") for number in range(3)]
        await api.until_in_inbox(person, 4)  # the inbox still gets each at once
        held = [message for fact in facts for message in await api.messages(source_event_id=fact, channel="email")]
        assert [message.status for message in held] == [MessageStatus.HELD] * 3
        assert len(mailbox.to(person.email)) == 1

    to_next_morning(clock)
    async with notifications_service(database_url, kafka_bootstrap, mailbox, port, clock=clock) as api:
        [_, digest] = await mailbox.until_received(2, person.email)
        assert digest["Subject"] == "Your daily digest: 3 updates"
        text = plain_text(digest)
        assert all(f"Call {number}" in text for number in range(3))
        assert f"{api.app.state.delivery_context.web_url}/inbox" in text  # the web client's inbox, not this service
        assert digest["List-Unsubscribe"] is not None
        digested = [message for fact in facts for message in await api.messages(source_event_id=fact, channel="email")]
        assert {message.status for message in digested} == {MessageStatus.DIGESTED}

    async with notifications_service(database_url, kafka_bootstrap, mailbox, port, clock=clock) as api:
        # A digest pass of the restarted service, run here rather than waited for: it finds the morning's digest
        # already written, so there is no second one for the email sender to send.
        runtime = api.app.state.runtime
        async with runtime.unit_of_work() as uow:
            written = await commands.send_due_digests(
                uow, api.app.state.delivery_context, runtime.settings.digest_hour, runtime.settings.digest_weekday
            )
        assert written == 0
        assert len(mailbox.to(person.email)) == 2, "the same morning's digest is not sent again"
        assert len(await api.messages(kind="digest")) == 1


async def test_new_events_reach_members_as_network_news_weekly_by_email_and_at_once_in_the_inbox(
    notifications: NotificationsApi,
) -> None:
    company_id = await notifications.company()
    person = await notifications.person(company_id)
    event = facts.event_summary(str(uuid.uuid4()), title_it="Giornata a fabbriche aperte", event_type="company_event")
    fact = await notifications.publish(facts.event_published(event))
    announced, _welcome = await notifications.until_in_inbox(person, 2)
    assert announced["title"] == "Nuovo evento della rete: Giornata a fabbriche aperte"
    [email] = await notifications.messages(source_event_id=fact, channel="email")
    assert email.status == MessageStatus.HELD and email.held_for == "weekly"


async def test_email_the_server_refuses_for_now_is_retried_then_given_up_with_its_reason(
    notifications: NotificationsApi, kafka_reader: Any
) -> None:
    notifications.mailbox.refuse = True
    person = await notifications.person(await notifications.company())

    async def welcome() -> Any:
        found = await notifications.messages(person_id=person.id, channel="email")
        return found[0] if found and found[0].attempts else None

    for attempt in range(1, len(EMAIL_RETRY_DELAYS) + 2):
        deadline = asyncio.get_running_loop().time() + 20
        while (current := await welcome()) is None or current.attempts < attempt:
            assert asyncio.get_running_loop().time() < deadline, f"attempt {attempt} did not happen"
            await asyncio.sleep(0.1)
        if current.next_attempt_at:
            notifications.clock.advance(current.next_attempt_at - notifications.clock() + timedelta(seconds=1))
    assert current.status == MessageStatus.FAILED
    assert current.attempts == len(EMAIL_RETRY_DELAYS) + 1
    assert current.last_error == "SMTP 451: 4.3.0 mail server busy, try later"

    log = await notifications.client.get("/deliveries", headers=STAFF, params={"status": "failed"})
    assert [entry["id"] for entry in log.json()["items"]] == [current.id]
    events = await kafka_reader.read(
        "notifications.deliveries.v1",
        lambda found: any(
            event["type"] == "notifications.message.failed" and event["data"]["message_id"] == current.id
            for event in found
        ),
    )
    [failed] = [
        event
        for event in events
        if event["data"].get("message_id") == current.id and event["type"] == "notifications.message.failed"
    ]
    assert failed["data"]["reason"] == current.last_error
