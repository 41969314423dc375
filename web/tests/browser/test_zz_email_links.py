"""Every link in every email the platform sent during the browser tests opens a real page of the site. Named to run
last in the folder (pytest takes its modules in alphabetical order), after the journeys have sent their emails; run
alone it still has emails to read, since it asks for a password reset and registers a guest for an event itself.

Each email is read as a mail program shows it (the decoded plain text and HTML parts, not the attachments); each
link must point at the site's own address and open, in the browser, a page of the site: status under 400 once
redirected (a page behind the login sends the person to /login; a used or expired link shows the site's "this link
cannot be used" page, a 410), the site's header with its language switch, no JSON, not the "page not found" page,
and no console error or request to another host on the way (the `visit` fixture's watch)."""

from __future__ import annotations

import email
import email.policy
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Page

from tests.support.emails import emails_to
from tests.support.platform import Platform
from web.tests.browser.conftest import PEOPLES_ADDRESSES, SHOE_FACTORY_EMAIL, District, Visit, until

pytestmark = pytest.mark.integration
GUEST_EMAIL = "einkauf@lederwaren-koch.example"
LINK = re.compile(r"https?://[^\s\"'<>]+")
TRAILING_PUNCTUATION = ".,;:!?)]'\""  # ends a sentence around a link in plain text, is not part of it
LONG_SEGMENT = re.compile(r"^[A-Za-z0-9_\-%.]{16,}$")  # an id or a token: the kind of link is the same without it
UNUSABLE_LINK_HEADINGS = ("This link cannot be used", "Questo link non si può usare")
NOT_FOUND_HEADINGS = ("Page not found", "Pagina non trovata")
# This test's own emails, so it never checks an empty mailbox: they link to these kinds of page.
KINDS_IT_CAUSES = {"/password-reset/{id}", "/events/{id}"}


@dataclass(frozen=True)
class Source:
    """Where a link was read: the email's subject and its recipient."""

    subject: str
    recipient: str

    def __str__(self) -> str:
        return f"«{self.subject}» to {self.recipient}"


class LinksInHtml(HTMLParser):
    """The http(s) links of an HTML part: every href and src, and any address written out in the text."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links.extend(value for name, value in attrs if name in ("href", "src") and value and LINK.match(value))

    def handle_data(self, data: str) -> None:
        self.links.extend(links_in_text(data))


def links_in_text(text: str) -> list[str]:
    return [found.rstrip(TRAILING_PUNCTUATION) for found in LINK.findall(text)]


def links_of(message: EmailMessage) -> set[str]:
    """The links a reader can follow in an email: those of its plain text and HTML parts, decoded."""
    links: set[str] = set()
    for part in message.walk():
        if not isinstance(part, EmailMessage) or part.is_multipart() or part.is_attachment():
            continue
        content_type = part.get_content_type()
        if content_type == "text/plain":
            links.update(links_in_text(part.get_content()))
        elif content_type == "text/html":
            parser = LinksInHtml()
            parser.feed(part.get_content())
            links.update(parser.links)
    return links


def every_emailed_link(mail: Path) -> tuple[int, dict[str, list[Source]]]:
    """How many emails the mail catcher holds, and each link in them with the emails it came from."""
    emails = sorted(mail.glob("*.eml"))
    sources: dict[str, list[Source]] = defaultdict(list)
    for eml in emails:
        message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage), "the default policy reads an EmailMessage"
        for link in links_of(message):
            sources[link].append(Source(str(message["Subject"]), str(message["To"])))
    return len(emails), sources


def kind_of(link: str) -> str:
    """The page a link is for, its ids and tokens left out: /events/{id}, /login."""
    segments = urlsplit(link).path.split("/")
    return "/".join("{id}" if LONG_SEGMENT.match(segment) else segment for segment in segments) or "/"


def asks_for_a_password_reset_and_registers_a_guest(platform: Platform, district: District) -> None:
    """Two emails of this test's own: a password reset link for the shoe factory's admin (asking for it changes
    nothing until the link is used) and a guest's confirmation for the public event."""
    person = {"X-Forwarded-For": next(PEOPLES_ADDRESSES)}  # the gateway's limits per client count this test alone
    with httpx.Client(base_url=f"{platform.gateway.url}/api", timeout=30, headers=person) as api:
        asked = api.post("/members/password-resets", json={"email": SHOE_FACTORY_EMAIL})
        assert asked.status_code == 202, asked.text
        guest = {"name": "Anna Koch", "company": "Lederwaren Koch GmbH", "email": GUEST_EMAIL, "language": "en"}
        registered = api.post(f"/events/events/{district.public_event['id']}/registrations", json={"guest": guest})
        assert registered.status_code == 201, registered.text
    until(lambda: any("/password-reset/" in str(m) for m in emails_to(platform.mail, SHOE_FACTORY_EMAIL)))
    until(lambda: bool(emails_to(platform.mail, GUEST_EMAIL)))


def partners_own(link: str, platform: Platform) -> bool:
    """The partner's own endpoint, which the email disabling their webhook names: theirs, not a page to open."""
    return bool(platform.partner_receiver.url) and link.startswith(platform.partner_receiver.url)


def elsewhere(link: str, platform: Platform) -> bool:
    site = urlsplit(platform.gateway.url)
    return (urlsplit(link).scheme, urlsplit(link).netloc) != (site.scheme, site.netloc)


def what_is_wrong_with(visit: Visit, link: str) -> list[str]:
    """What a person opening `link` would meet that is not a page of the site."""
    visit.problems.clear()
    visit.error_pages.add(link)  # a used link's 410 is logged by the browser; its status is judged here
    answer = visit.page.goto(link)
    if answer is None:
        return ["the browser got no answer"]
    visit.page.wait_for_load_state("networkidle")
    heading = first_heading(visit.page)
    wrong = list(visit.problems)
    if answer.status >= 400 and not (answer.status == 410 and heading in UNUSABLE_LINK_HEADINGS):
        wrong.append(f"answered {answer.status} at {visit.page.url} ({heading!r})")
    if "text/html" not in (answer.header_value("content-type") or ""):
        wrong.append(f"is not a page but {answer.header_value('content-type')}")
    if visit.page.locator("header.site-header nav.languages").count() != 1:
        wrong.append("has no site header with the language switch")
    if heading in NOT_FOUND_HEADINGS:
        wrong.append("is the site's 'page not found'")
    return wrong


def first_heading(page: Page) -> str:
    headings = page.locator("h1")
    return headings.first.inner_text().strip() if headings.count() else ""


@pytest.mark.parametrize("visit", [{"width": 1280, "height": 900}], indirect=True, ids=["1280px"])
def test_every_link_in_every_email_opens_a_page_of_the_site(
    visit: Visit, district: District, platform: Platform
) -> None:
    asks_for_a_password_reset_and_registers_a_guest(platform, district)
    email_count, every_link = every_emailed_link(platform.mail)
    sources = {link: read_in for link, read_in in every_link.items() if not partners_own(link, platform)}
    kinds = Counter(kind_of(link) for link in sources)
    missing = KINDS_IT_CAUSES - set(kinds)
    assert not missing, f"the emails this test caused have no links to {missing}"
    assert len(sources) >= 5 and len(kinds) >= 4, f"only {len(sources)} links to check: {kinds}"

    broken: list[str] = []
    for link, read_in in sorted(sources.items()):
        wrong = [f"points at another host than {platform.gateway.url}"] if elsewhere(link, platform) else []
        wrong = wrong or what_is_wrong_with(visit, link)
        if wrong:
            emails = "; ".join(sorted({str(source) for source in read_in}))
            broken.append(f"{link}\n    from {emails}\n    " + "\n    ".join(wrong))
    read = sum(len(read_in) for read_in in sources.values())
    print(f"{email_count} emails, {read} links ({len(sources)} distinct), by kind: {dict(sorted(kinds.items()))}")
    assert not broken, f"{len(broken)} of {len(sources)} emailed links are broken:\n" + "\n".join(broken)
