"""What members asks to be written to addresses that are nobody notifications knows yet (members.correspondence.v1):
an invitation to join a company, a password reset, the decision on an application. Each is an email in the
recipient's language, whatever their preferences, with its link to the web client; the single-use token in the
link goes into the email alone: never an inbox, never a log line."""

from __future__ import annotations

import logging
import uuid

import pytest

from services.notifications.tests.conftest import NotificationsApi, plain_text
from shared.membership import Role
from tests.support import partner_facts as facts


def a_token() -> str:
    return f"tok_{uuid.uuid4().hex}"


async def test_an_invited_colleague_gets_the_link_to_set_their_password_in_their_language(
    notifications: NotificationsApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # what a running service logs
    token, address = a_token(), f"john.{uuid.uuid4().hex[:8]}@example.com"
    company_id = str(uuid.uuid4())
    invitation = facts.invitation_sent(address, company_id, "Suolificio Il Castagno S.r.l.", "en", token)
    await notifications.publish(invitation)

    [mail] = await notifications.mailbox.until_received(1, address)
    assert mail["Subject"] == "Giulia Bertolucci invites you to Filiera for Suolificio Il Castagno S.r.l."
    assert mail["Content-Language"] == "en"
    text = plain_text(mail)
    assert "Giulia Bertolucci of Suolificio Il Castagno S.r.l. has invited you to join Filiera" in text
    assert f"Accept the invitation: https://filiera.test/invitations/{token}" in text
    assert "The invitation works once, until" in text
    html = mail.get_body(("html",))
    assert html is not None and f'href="https://filiera.test/invitations/{token}"' in html.get_content()
    assert mail["List-Unsubscribe"] is None, "transactional: nothing to unsubscribe from"
    written = await notifications.messages(recipient=f"email:{address}")
    assert [(message.channel, message.person_id) for message in written] == [("email", None)], "no inbox: nobody yet"
    assert logged_with(caplog, token) == []


async def test_a_password_reset_goes_by_email_only_even_to_a_person_with_an_inbox(
    notifications: NotificationsApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # what a running service logs
    person = await notifications.person(await notifications.company(), language="it", given_name="Chiara")
    await notifications.mailbox.until_received(1, person.email)  # the welcome
    token = a_token()
    reset = await notifications.publish(facts.password_reset_requested(person.id, person.email, "it", token))

    [_welcome, mail] = await notifications.mailbox.until_received(2, person.email)
    assert mail["Subject"] == "Scegli una nuova password per Filiera"
    text = plain_text(mail)
    assert text.startswith("Ciao Chiara,")
    assert f"Scegli una nuova password: https://filiera.test/password-reset/{token}" in text
    assert "vale una sola volta" in text
    assert [message.channel for message in await notifications.messages(source_event_id=reset)] == ["email"]
    assert (await notifications.inbox(person))["total"] == 1, "only the welcome: the reset link stays in the email"
    assert logged_with(caplog, token) == []


async def test_a_rejected_applicant_is_told_with_the_staff_reason(notifications: NotificationsApi) -> None:
    address = f"marco.{uuid.uuid4().hex[:8]}@example.com"
    reason = "l'attività non rientra nella filiera calzaturiera (codice ATECO 47.72)"
    await notifications.publish(
        facts.application_decided(str(uuid.uuid4()), "Bottega Del Carlo", "rejected", address, "it", reason)
    )

    [mail] = await notifications.mailbox.until_received(1, address)
    assert mail["Subject"] == "Domanda di adesione di Bottega Del Carlo: non accolta"
    text = plain_text(mail)
    assert text.startswith("Gentile Marco,")
    assert f"Motivo: {reason}" in text
    assert "https://" not in text, "nothing to open: the office answers questions"


async def test_an_approved_applicant_is_told_in_english_and_invited_to_sign_in(notifications: NotificationsApi) -> None:
    address = f"marco.{uuid.uuid4().hex[:8]}@example.com"
    await notifications.publish(
        facts.application_decided(str(uuid.uuid4()), "Tomaificio Marlia S.n.c.", "approved", address, "en")
    )

    [mail] = await notifications.mailbox.until_received(1, address)
    assert mail["Subject"] == "Welcome to the network: Tomaificio Marlia S.n.c. is a member"
    text = plain_text(mail)
    assert text.startswith("Dear Marco,")
    assert text.rstrip().endswith("Sign in to Filiera: https://filiera.test/login")


async def test_erasing_a_person_erases_what_was_written_to_their_address_before_they_joined(
    notifications: NotificationsApi,
) -> None:
    address = f"luca.{uuid.uuid4().hex[:8]}@example.com"
    await notifications.publish(facts.invitation_sent(address, str(uuid.uuid4()), "Pelletteria Segromigno S.r.l."))
    await notifications.mailbox.until_received(1, address)
    person_id = str(uuid.uuid4())
    await notifications.publish(facts.person_joined(person_id, None, "Luca", address, "it", Role.COMPANY_MEMBER))
    await notifications.mailbox.until_received(2, address)  # the welcome
    await notifications.publish(facts.person_erased(person_id, None))

    async def nothing_left(_session: object) -> bool:
        return not await notifications.messages(address=address)  # the invitation and the welcome

    await notifications.until(nothing_left)


def logged_with(caplog: pytest.LogCaptureFixture, secret: str) -> list[str]:
    """The lines logged in the test process that carry `secret`, but for the test's mail server (aiosmtpd logs
    every line it receives)."""
    return [
        record.getMessage() for record in caplog.records if record.name != "mail.log" and secret in record.getMessage()
    ]
