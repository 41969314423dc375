"""The rules of notifications, without Kafka or a database."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from services.notifications.domain import (
    EMAIL_RETRY_DELAYS,
    PER_CLIENT,
    PER_COMPANY,
    WEBHOOK_RETRY_DELAYS,
    Category,
    Channel,
    Choice,
    Frequency,
    Kind,
    TooManyInquiries,
    WebhookManager,
    caught_by_honeypot,
    changes_named,
    client_key,
    deadline_to_tell,
    default_choice,
    delivery_plan,
    digest_period,
    endpoint_failing_too_long,
    ensure_choice_allowed,
    ensure_within_limits,
    may_be_written_to,
    next_email_attempt,
    next_webhook_attempt,
    opens_the_registration,
    refuse_private_addresses,
    retry_after_of,
    wait_before_next,
    webhook_host,
    webhook_manager,
)
from services.notifications.rendering import Templates
from shared.auth import Principal
from shared.errors import DomainError, Forbidden
from shared.membership import PARTNER_ROLE, MembershipStatus, Role

NOON = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)  # 12:00 in Capannori, a Wednesday


def test_transactional_messages_ignore_preferences_and_others_follow_them() -> None:
    off = Choice(enabled=False)
    assert delivery_plan(Kind.REGISTRATION_CONFIRMED, off) == Frequency.INSTANT
    assert delivery_plan(Kind.FEE_OVERDUE, Choice(frequency=Frequency.WEEKLY)) == Frequency.INSTANT
    assert delivery_plan(Kind.FUNDING_MATCH, off) is None
    assert delivery_plan(Kind.FUNDING_MATCH, Choice(frequency=Frequency.DAILY)) == Frequency.DAILY
    assert default_choice(Category.NETWORK_NEWS, Channel.EMAIL) == Choice(frequency=Frequency.WEEKLY)
    assert default_choice(Category.NETWORK_NEWS, Channel.IN_APP) == Choice()
    with pytest.raises(DomainError):
        ensure_choice_allowed(Category.MEMBERSHIP, off)
    ensure_choice_allowed(Category.MEMBERSHIP, Choice())
    ensure_choice_allowed(Category.EVENTS, off)


def test_a_daily_digest_is_due_from_the_morning_and_named_by_its_day() -> None:
    assert digest_period(Frequency.DAILY, NOON, hour=7, weekday=0) == (
        "daily:2026-11-25",
        datetime(2026, 11, 25, 6, 0, tzinfo=UTC),
    )
    early = datetime(2026, 11, 25, 5, 59, tzinfo=UTC)  # 06:59 in Capannori
    assert digest_period(Frequency.DAILY, early, hour=7, weekday=0) is None


def test_a_weekly_digest_is_due_from_monday_morning_and_named_by_its_week() -> None:
    assert digest_period(Frequency.WEEKLY, NOON, hour=7, weekday=0) == (
        "weekly:2026-W48",
        datetime(2026, 11, 23, 6, 0, tzinfo=UTC),
    )
    sunday_night = datetime(2026, 11, 29, 22, 0, tzinfo=UTC)
    period = digest_period(Frequency.WEEKLY, sunday_night, hour=7, weekday=0)
    assert period is not None and period[0] == "weekly:2026-W48"
    monday_early = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)  # 06:00: the new week's digest is not due yet
    assert digest_period(Frequency.WEEKLY, monday_early, hour=7, weekday=0) is None


def test_summer_time_moves_the_digest_hour_with_the_district() -> None:
    july = datetime(2026, 7, 1, 5, 30, tzinfo=UTC)  # 07:30 in Capannori (CEST)
    assert digest_period(Frequency.DAILY, july, hour=7, weekday=0) == (
        "daily:2026-07-01",
        datetime(2026, 7, 1, 5, 0, tzinfo=UTC),
    )


def test_webhook_retries_follow_the_standard_schedule_within_ten_percent_then_daily_for_three_days() -> None:
    first = NOON
    moment, attempts, waits = first, 1, []
    jitter = random.Random(7)
    while (following := next_webhook_attempt(first, attempts, moment, jitter=jitter)) is not None:
        waits.append(following - moment)
        moment, attempts = following, attempts + 1
    planned = [*WEBHOOK_RETRY_DELAYS, timedelta(days=1), timedelta(days=1)]
    assert len(waits) == len(planned) == 8
    for wait, plan in zip(waits, planned, strict=False):
        assert plan * 0.9 <= wait <= plan * 1.1
    assert moment - first <= timedelta(days=3)


def test_retry_after_asks_for_more_patience_but_never_beyond_giving_up() -> None:
    asked = retry_after_of("7200", NOON)
    assert asked == timedelta(hours=2)
    assert next_webhook_attempt(NOON, 1, NOON, asked, random.Random(1)) == NOON + timedelta(hours=2)
    assert retry_after_of("Wed, 21 Oct 2026 07:28:00 GMT", NOON) is None
    assert retry_after_of("-5", NOON) is None
    assert next_webhook_attempt(NOON, 1, NOON, timedelta(days=4), random.Random(1)) is None


def test_email_is_retried_four_times_then_given_up() -> None:
    assert [next_email_attempt(attempts, NOON) for attempts in range(1, 6)] == [
        NOON + delay for delay in EMAIL_RETRY_DELAYS
    ] + [None]


def test_an_endpoint_is_disabled_after_three_days_of_failures() -> None:
    assert not endpoint_failing_too_long(None, NOON)
    assert not endpoint_failing_too_long(NOON - timedelta(days=2, hours=23), NOON)
    assert endpoint_failing_too_long(NOON - timedelta(days=3), NOON)


@pytest.mark.parametrize(
    "addresses",
    [
        ["127.0.0.1"],
        ["10.0.0.8"],
        ["172.16.5.4"],
        ["192.168.1.1"],
        ["169.254.169.254"],
        ["100.64.0.1"],
        ["::1"],
        ["fe80::1%eth0"],
        ["fd00::1"],
        ["::ffff:10.0.0.1"],
        ["0.0.0.0"],
        ["93.184.215.14", "10.0.0.1"],
    ],
)
def test_non_public_addresses_are_refused(addresses: list[str]) -> None:
    with pytest.raises(DomainError, match="non-public address"):
        refuse_private_addresses("partner.example.org", addresses, frozenset())


def test_public_addresses_and_allowed_hosts_pass() -> None:
    refuse_private_addresses(
        "partner.example.org", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"], frozenset()
    )
    refuse_private_addresses("127.0.0.1", ["127.0.0.1"], frozenset({"127.0.0.1"}))


def test_webhook_urls_need_https_a_host_and_no_credentials() -> None:
    assert webhook_host("https://Partner.Example.org:8443/hooks", frozenset()) == "partner.example.org"
    assert webhook_host("http://127.0.0.1:9000/hooks", frozenset({"127.0.0.1"})) == "127.0.0.1"
    for url, reason in [
        ("http://partner.example.org/", "https"),
        ("https:///hooks", "no host"),
        ("https://a:b@partner.example.org/", "credentials"),
        ("https://[::1/", "cannot be read"),
    ]:
        with pytest.raises(DomainError, match=reason):
            webhook_host(url, frozenset())


SAMPLE_EVENT = {
    "title": "Corso di modellistica 3D",
    "starts_at": NOON,
    "ends_at": NOON + timedelta(hours=4),
    "venue": "Polo Tecnologico di Capannori",
    "online_url": None,
    "time_zone": "Europe/Rome",
}
SAMPLE_BUYER = {
    "name": "Anna Schmidt",
    "email": "anna.schmidt@schuhhaus.example",
    "company": "Schuhhaus Schmidt GmbH",
    "country": "Germany",
    "message": "We are looking for a sole maker.\n\nCould you send us your catalogue?",
}
SAMPLE_CALL = {"title": "Euroclusters", "programme": "SMP", "deadline": NOON + timedelta(days=30)}
SAMPLES: dict[Kind, dict[str, Any]] = {
    Kind.APPLICATION_RECEIVED: {
        "company": {"legal_name": "Suolificio S.r.l.", "comune": "Capannori", "partita_iva": "01234567897"}
    },
    Kind.COMPANY_APPROVED: {"company": {"legal_name": "Suolificio S.r.l."}},
    Kind.COMPANY_REJECTED: {"company": {"legal_name": "Suolificio S.r.l."}, "reason": None},
    Kind.WELCOME: {"company_name": None},
    Kind.FEE_OVERDUE: {
        "fee": {"year": 2026, "amount_cents": 123456, "paid_cents": 0, "due_date": date(2026, 3, 31)},
        "company_name": "Suolificio S.r.l.",
    },
    Kind.REGISTRATION_CONFIRMED: {
        "event": SAMPLE_EVENT,
        "price_due_cents": 1500,
        "check_in_code": "7f3a9c",
        "links_to_registration": True,
    },
    Kind.REGISTRATION_WAITLISTED: {"event": SAMPLE_EVENT, "position": 2},
    Kind.SEAT_OFFERED: {"event": SAMPLE_EVENT, "offer_expires_at": NOON},
    Kind.REGISTRATION_PROMOTED: {"event": SAMPLE_EVENT, "check_in_code": None, "links_to_registration": False},
    Kind.REGISTRATION_CANCELLED: {"event": SAMPLE_EVENT},
    Kind.REGISTRATION_REJECTED: {"event": SAMPLE_EVENT, "reason": "posti riservati ai soci"},
    Kind.EVENT_CHANGED: {"event": SAMPLE_EVENT, "changed": ["luogo"]},
    Kind.EVENT_CANCELLED: {"event": SAMPLE_EVENT},
    Kind.EVENT_STARTING_SOON: {"event": SAMPLE_EVENT},
    Kind.FEEDBACK_REQUEST: {"event": SAMPLE_EVENT},
    Kind.EVENT_ANNOUNCED: {"event": SAMPLE_EVENT},
    Kind.FUNDING_MATCH: {"call": SAMPLE_CALL, "company_name": "Suolificio S.r.l.", "reasons": ["PMI"]},
    Kind.SEARCH_MATCHED: {"call": SAMPLE_CALL, "search_name": "Toscana"},
    Kind.CALL_CLOSING_SOON: {
        "call": SAMPLE_CALL,
        "company_name": "Suolificio S.r.l.",
        "days_before": 3,
        "deadline": NOON,
    },
    Kind.ENDPOINT_DISABLED: {"url": "https://partner.example.org/hooks", "reason": "410 Gone"},
    Kind.DIGEST: {"items": [{"title": "Un bando", "link": "https://filiera.test/x"}], "frequency": "daily"},
    Kind.INVITATION: {"company_name": "Suolificio S.r.l.", "invited_by": "Giulia Bertolucci", "expires_at": NOON},
    Kind.PASSWORD_RESET: {"expires_at": NOON},
    Kind.INQUIRY_RECEIVED: {"company_name": "Suolificio S.r.l.", "buyer": SAMPLE_BUYER},
    Kind.INQUIRY_COPY: {"company_name": "Suolificio S.r.l.", "buyer": SAMPLE_BUYER},
}


@pytest.mark.parametrize("language", ["it", "en"])
@pytest.mark.parametrize("kind", list(Kind))
def test_every_message_is_written_in_both_languages(kind: Kind, language: str) -> None:
    written = Templates().render(
        kind, language, {**SAMPLES[kind], "recipient_name": "Giulia"}, "https://filiera.test/x"
    )
    assert written.title and "\n" not in written.title
    assert written.body and "{{" not in written.body and "{%" not in written.body
    assert written.text.endswith("https://filiera.test/x")
    assert f'lang="{language}"' in written.html and 'href="https://filiera.test/x"' in written.html


def test_money_and_moments_are_written_as_the_district_reads_them() -> None:
    italian = Templates().render(Kind.FEE_OVERDUE, "it", {**SAMPLES[Kind.FEE_OVERDUE], "recipient_name": "Giulia"})
    assert "€ 1.234,56" in italian.body
    english = Templates().render(Kind.FEE_OVERDUE, "en", {**SAMPLES[Kind.FEE_OVERDUE], "recipient_name": "Giulia"})
    assert "€1,234.56" in english.body
    confirmed = Templates().render(
        Kind.REGISTRATION_CONFIRMED, "it", {**SAMPLES[Kind.REGISTRATION_CONFIRMED], "recipient_name": "Giulia"}
    )
    assert "25 novembre 2026, ore 12:00" in confirmed.body


def test_html_is_escaped_where_text_is_not() -> None:
    hostile = {"company": {"legal_name": "<script>alert(1)</script> S.r.l."}, "recipient_name": "Giulia"}
    written = Templates().render(Kind.COMPANY_APPROVED, "it", hostile)
    assert "<script>" not in written.html and "&lt;script&gt;" in written.html
    assert "<script>alert(1)</script> S.r.l." in written.body


def test_an_event_change_is_told_only_for_what_registrants_care_about_each_name_once() -> None:
    assert changes_named(["capacity", "tags"], "it") == []
    assert changes_named(["venue", "capacity"], "it") == ["luogo"]
    assert changes_named(["title_it", "title_en", "starts_at"], "en") == ["title", "date and time"]


def test_webhooks_are_managed_by_staff_or_partners_with_the_scope_each_its_own() -> None:
    staff = webhook_manager(Principal(subject="staff-1", role=Role.NETWORK_ADMIN, kind="person"))
    assert staff == WebhookManager("staff-1", sees_every_endpoint=True) and staff.may_manage("camera-lucca")
    partner = webhook_manager(
        Principal(subject="camera-lucca", role=PARTNER_ROLE, kind="partner", scopes=frozenset({"webhooks:manage"}))
    )
    assert partner.may_manage("camera-lucca") and not partner.may_manage("fiera-milano")
    for refused in (
        Principal(subject="fiera-milano", role=PARTNER_ROLE, kind="partner", scopes=frozenset({"directory:read"})),
        Principal(subject="person-1", role=Role.COMPANY_ADMIN, kind="person", company_id="company-1"),
    ):
        with pytest.raises(Forbidden):
            webhook_manager(refused)


def test_a_call_is_told_with_its_next_deadline_or_its_last_once_all_have_passed() -> None:
    first, second = NOON + timedelta(days=3), NOON + timedelta(days=40)
    assert deadline_to_tell([second, first], NOON) == first
    assert deadline_to_tell([second, first], first) == second
    assert deadline_to_tell([second, first], second + timedelta(days=1)) == second
    assert deadline_to_tell([], NOON) is None


def test_a_client_may_send_a_few_inquiries_an_hour_then_is_told_when_to_try_again() -> None:
    sent = [NOON + timedelta(minutes=minute) for minute in range(0, 50, 10)]  # 12:00 ... 12:40
    assert len(sent) == PER_CLIENT.count
    assert wait_before_next(sent[:-1], PER_CLIENT, NOON + timedelta(minutes=45)) is None
    assert wait_before_next(sent, PER_CLIENT, NOON + timedelta(minutes=45)) == timedelta(minutes=15)
    assert wait_before_next(sent, PER_CLIENT, NOON + timedelta(hours=1)) is None, "the first has left the hour"
    with pytest.raises(TooManyInquiries) as refused:
        ensure_within_limits(sent, [], NOON + timedelta(minutes=45))
    assert refused.value.status == 429 and refused.value.retry_after == timedelta(minutes=15)
    assert refused.value.message == "you have sent several messages in a short time: please try again in 15 minutes"


def test_a_company_receives_at_most_so_many_inquiries_a_day_whoever_sends_them() -> None:
    received = [NOON - timedelta(hours=23) + timedelta(minutes=index) for index in range(PER_COMPANY.count)]
    with pytest.raises(TooManyInquiries) as refused:
        ensure_within_limits([], received, NOON)
    assert refused.value.message.startswith("this company has received many messages today")
    ensure_within_limits([], received, NOON + timedelta(hours=1))


def test_buyers_write_to_the_listed_active_members_and_robots_fill_the_hidden_field() -> None:
    assert may_be_written_to(MembershipStatus.ACTIVE, public_listing=True)
    assert not may_be_written_to(MembershipStatus.ACTIVE, public_listing=False)
    assert not may_be_written_to(MembershipStatus.SUSPENDED, public_listing=True)
    assert caught_by_honeypot("https://spam.example") and not caught_by_honeypot("  ")
    assert client_key("203.0.113.7") == client_key(" 203.0.113.7") != client_key("203.0.113.8")
    assert "203.0.113.7" not in client_key("203.0.113.7")


@pytest.mark.parametrize("kind", [Kind.REGISTRATION_CONFIRMED, Kind.SEAT_OFFERED, Kind.REGISTRATION_WAITLISTED])
def test_a_member_is_sent_to_their_registration_a_guest_and_a_gone_registration_to_the_event(kind: Kind) -> None:
    assert opens_the_registration(kind, member=True)
    assert not opens_the_registration(kind, member=False)
    assert not opens_the_registration(Kind.REGISTRATION_CANCELLED, member=True)
