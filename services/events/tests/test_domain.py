"""The events service's rules on their own: no Kafka, no database (the fast unit tier)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from services.events import domain
from services.events.domain import Audience, EventAction, EventStatus, RegistrationStatus, SeatCounts
from shared.auth import Principal
from shared.errors import Conflict, DomainError, Forbidden
from shared.membership import PARTNER_ROLE, MembershipStatus, Role

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
STARTS = NOW + timedelta(days=10)
COMPANY = "c-1"

STAFF = Principal(subject="staff", kind="person", role=Role.NETWORK_ADMIN)
ADMIN = Principal(subject="admin", kind="person", role=Role.COMPANY_ADMIN, company_id=COMPANY)
OTHER_ADMIN = Principal(subject="other", kind="person", role=Role.COMPANY_ADMIN, company_id="c-2")
MEMBER = Principal(subject="giulia", kind="person", role=Role.COMPANY_MEMBER, company_id=COMPANY)
PARTNER = Principal(subject="erp", kind="partner", role=PARTNER_ROLE)


def seats(
    capacity: int = 2, held: int = 0, waiting: int = 0, company_active: int = 0, limit: int | None = None
) -> SeatCounts:
    return SeatCounts(
        capacity=capacity, seats_held=held, waiting=waiting, company_active=company_active, company_limit=limit
    )


class TestEventLifecycle:
    def test_a_draft_is_published_then_completed_or_cancelled(self) -> None:
        assert domain.next_event_status(EventStatus.DRAFT, EventAction.PUBLISH) == EventStatus.PUBLISHED
        assert domain.next_event_status(EventStatus.PUBLISHED, EventAction.COMPLETE) == EventStatus.COMPLETED
        assert domain.next_event_status(EventStatus.DRAFT, EventAction.CANCEL) == EventStatus.CANCELLED
        assert domain.next_event_status(EventStatus.PUBLISHED, EventAction.CANCEL) == EventStatus.CANCELLED

    @pytest.mark.parametrize(
        ("current", "action"),
        [
            (EventStatus.CANCELLED, EventAction.PUBLISH),
            (EventStatus.PUBLISHED, EventAction.PUBLISH),
            (EventStatus.DRAFT, EventAction.COMPLETE),
            (EventStatus.COMPLETED, EventAction.CANCEL),
        ],
    )
    def test_other_moves_conflict(self, current: EventStatus, action: EventAction) -> None:
        with pytest.raises(Conflict, match=f"cannot {action} an event that is {current}"):
            domain.next_event_status(current, action)

    def test_cancelled_and_completed_events_can_no_longer_be_edited(self) -> None:
        domain.check_editable(EventStatus.DRAFT)
        domain.check_editable(EventStatus.PUBLISHED)
        for status in (EventStatus.CANCELLED, EventStatus.COMPLETED):
            with pytest.raises(Conflict, match="can no longer be edited"):
                domain.check_editable(status)

    def test_an_event_ends_after_it_starts(self) -> None:
        domain.check_schedule(STARTS, STARTS + timedelta(hours=1))
        for ends in (STARTS, STARTS - timedelta(hours=1)):
            with pytest.raises(DomainError, match="must end after it starts"):
                domain.check_schedule(STARTS, ends)

    def test_capacity_never_drops_below_the_seats_held(self) -> None:
        domain.check_capacity(2, 2)
        with pytest.raises(Conflict, match="capacity 1 is below the 2 seats already confirmed or offered"):
            domain.check_capacity(1, 2)

    def test_the_public_lists_and_calendar(self) -> None:
        assert domain.LISTED == [EventStatus.PUBLISHED]
        assert EventStatus.COMPLETED in domain.LISTED_WITH_PAST and EventStatus.DRAFT not in domain.LISTED_WITH_PAST
        assert EventStatus.CANCELLED in domain.IN_PUBLIC_CALENDAR and EventStatus.DRAFT not in domain.IN_PUBLIC_CALENDAR


class TestWhoOrganises:
    def test_staff_organise_every_event_and_a_companys_admins_their_own(self) -> None:
        assert domain.may_organise(STAFF, None) and domain.may_organise(STAFF, COMPANY)
        assert domain.may_organise(ADMIN, COMPANY)
        assert not domain.may_organise(OTHER_ADMIN, COMPANY)
        assert not domain.may_organise(ADMIN, None)  # the network's own events are staff's
        assert not domain.may_organise(MEMBER, COMPANY)  # a member, not an admin
        assert not domain.may_organise(PARTNER, COMPANY)
        with pytest.raises(Forbidden, match="only the network's staff or the organising company's admins"):
            domain.check_organiser(MEMBER, COMPANY)

    def test_an_admin_without_a_company_organises_nothing(self) -> None:
        companyless = Principal(subject="x", kind="person", role=Role.COMPANY_ADMIN)
        assert not domain.may_organise(companyless, None)

    def test_drafts_are_seen_by_their_organisers_only(self) -> None:
        assert domain.is_visible(EventStatus.PUBLISHED, COMPANY, None)
        assert domain.is_visible(EventStatus.CANCELLED, COMPANY, MEMBER)
        assert not domain.is_visible(EventStatus.DRAFT, COMPANY, None)
        assert not domain.is_visible(EventStatus.DRAFT, COMPANY, MEMBER)
        assert domain.is_visible(EventStatus.DRAFT, COMPANY, ADMIN)
        assert domain.is_visible(EventStatus.DRAFT, None, STAFF)

    def test_staff_create_events_for_anyone_without_a_membership_check(self) -> None:
        assert domain.organiser_of_new_event(STAFF, None) == domain.NewEventOrganiser(None, False)
        assert domain.organiser_of_new_event(STAFF, "c-9") == domain.NewEventOrganiser("c-9", False)

    def test_a_companys_admin_creates_for_their_active_company_only(self) -> None:
        assert domain.organiser_of_new_event(ADMIN, None) == domain.NewEventOrganiser(COMPANY, True)
        assert domain.organiser_of_new_event(ADMIN, COMPANY) == domain.NewEventOrganiser(COMPANY, True)
        with pytest.raises(Forbidden, match="for their own company only"):
            domain.organiser_of_new_event(ADMIN, "c-2")

    def test_members_and_partners_create_no_events(self) -> None:
        for actor in (MEMBER, PARTNER, Principal(subject="x", kind="person", role=Role.COMPANY_ADMIN)):
            with pytest.raises(Forbidden, match="only the network's staff and member companies' admins"):
                domain.organiser_of_new_event(actor, None)

    def test_only_an_active_member_company_takes_part(self) -> None:
        domain.check_active_member(MembershipStatus.ACTIVE)
        with pytest.raises(Forbidden, match=r"not an active member of the network \(suspended\)"):
            domain.check_active_member(MembershipStatus.SUSPENDED)
        with pytest.raises(Forbidden, match=r"\(not known here yet\)"):
            domain.check_active_member(None)


class TestRegistrationWindow:
    def test_registrations_close_after_they_open_and_before_the_start(self) -> None:
        domain.check_registration_window(None, None, STARTS)
        domain.check_registration_window(NOW, STARTS, STARTS)
        with pytest.raises(DomainError, match="must close after they open"):
            domain.check_registration_window(NOW, NOW, STARTS)
        with pytest.raises(DomainError, match="must close before the event starts"):
            domain.check_registration_window(None, STARTS + timedelta(minutes=1), STARTS)

    def test_only_a_published_event_takes_registrations(self) -> None:
        domain.check_open_for_registration(EventStatus.PUBLISHED, NOW, None, None, STARTS)
        for status in (EventStatus.DRAFT, EventStatus.CANCELLED, EventStatus.COMPLETED):
            with pytest.raises(Conflict, match=f"the event is {status}: registrations are closed"):
                domain.check_open_for_registration(status, NOW, None, None, STARTS)

    def test_not_before_registrations_open(self) -> None:
        opens = NOW + timedelta(days=1)
        with pytest.raises(Conflict, match=re.escape(f"registrations open at {opens.isoformat()}")):
            domain.check_open_for_registration(EventStatus.PUBLISHED, NOW, opens, None, STARTS)
        domain.check_open_for_registration(EventStatus.PUBLISHED, opens, opens, None, STARTS)

    def test_not_from_when_they_close_by_default_the_start(self) -> None:
        closes = NOW + timedelta(days=1)
        with pytest.raises(Conflict, match="registrations are closed"):
            domain.check_open_for_registration(EventStatus.PUBLISHED, closes, None, closes, STARTS)
        with pytest.raises(Conflict, match="registrations are closed"):
            domain.check_open_for_registration(EventStatus.PUBLISHED, STARTS, None, None, STARTS)
        domain.check_open_for_registration(EventStatus.PUBLISHED, STARTS - timedelta(seconds=1), None, None, STARTS)


class TestWhoRegisters:
    def test_members_register_themselves_on_any_event(self) -> None:
        domain.check_registrant(MEMBER, as_guest=False, audience=Audience.MEMBERS)
        domain.check_registrant(MEMBER, as_guest=False, audience=Audience.PUBLIC)

    def test_guests_register_on_public_events_only(self) -> None:
        domain.check_registrant(None, as_guest=True, audience=Audience.PUBLIC)
        with pytest.raises(Forbidden, match="for members of the network: log in"):
            domain.check_registrant(None, as_guest=True, audience=Audience.MEMBERS)

    def test_without_a_token_one_registers_as_a_guest(self) -> None:
        with pytest.raises(Forbidden, match="log in to register, or register as a guest"):
            domain.check_registrant(None, as_guest=False, audience=Audience.PUBLIC)

    def test_a_logged_in_member_sends_no_guest(self) -> None:
        with pytest.raises(Conflict, match="leave out `guest`"):
            domain.check_registrant(MEMBER, as_guest=True, audience=Audience.PUBLIC)

    def test_partner_systems_do_not_register(self) -> None:
        with pytest.raises(Forbidden, match="partner systems cannot register"):
            domain.check_registrant(PARTNER, as_guest=False, audience=Audience.PUBLIC)

    def test_members_pay_the_member_price_and_guests_the_other(self) -> None:
        assert domain.price_due(True, 0, 15000) == 0
        assert domain.price_due(False, 0, 15000) == 15000


class TestSeats:
    def test_a_free_seat_goes_to_a_newcomer_while_nobody_waits(self) -> None:
        assert domain.seat_for_newcomer(seats(capacity=2, held=1)) == RegistrationStatus.CONFIRMED

    def test_a_full_event_puts_newcomers_on_the_waitlist(self) -> None:
        assert domain.seat_for_newcomer(seats(capacity=2, held=2)) == RegistrationStatus.WAITLISTED

    def test_a_free_seat_waits_for_those_already_in_line(self) -> None:
        # A seat freed and offered to the waitlist is not taken by someone arriving meanwhile.
        assert domain.seat_for_newcomer(seats(capacity=2, held=1, waiting=1)) == RegistrationStatus.WAITLISTED

    def test_approval_events_hold_no_seat_until_decided(self) -> None:
        assert domain.status_of_new_registration(True, seats()) == RegistrationStatus.PENDING
        assert domain.status_of_new_registration(False, seats()) == RegistrationStatus.CONFIRMED
        assert domain.status_of_new_registration(False, seats(capacity=1, held=1)) == RegistrationStatus.WAITLISTED

    def test_only_a_pending_registration_is_decided(self) -> None:
        domain.check_awaiting_approval(RegistrationStatus.PENDING)
        with pytest.raises(Conflict, match="the registration is rejected, not waiting for approval"):
            domain.check_awaiting_approval(RegistrationStatus.REJECTED)

    def test_a_company_takes_no_more_seats_than_its_limit(self) -> None:
        domain.check_company_limit(seats(company_active=5, limit=None))
        domain.check_company_limit(seats(company_active=1, limit=2))
        with pytest.raises(Conflict, match=r"already has 2 registrations for this event \(limit 2\)"):
            domain.check_company_limit(seats(company_active=2, limit=2))

    @pytest.mark.parametrize(
        ("before", "after", "change"),
        [
            (None, RegistrationStatus.CONFIRMED, (1, 0)),
            (None, RegistrationStatus.WAITLISTED, (0, 1)),
            (None, RegistrationStatus.PENDING, (0, 0)),
            (RegistrationStatus.WAITLISTED, RegistrationStatus.OFFERED, (1, -1)),
            (RegistrationStatus.OFFERED, RegistrationStatus.CONFIRMED, (0, 0)),
            (RegistrationStatus.OFFERED, RegistrationStatus.LAPSED, (-1, 0)),
            (RegistrationStatus.CONFIRMED, RegistrationStatus.CANCELLED, (-1, 0)),
            (RegistrationStatus.WAITLISTED, RegistrationStatus.CANCELLED, (0, -1)),
            (RegistrationStatus.PENDING, RegistrationStatus.REJECTED, (0, 0)),
        ],
    )
    def test_every_move_keeps_the_counters_true(
        self, before: RegistrationStatus | None, after: RegistrationStatus, change: tuple[int, int]
    ) -> None:
        assert domain.counter_changes(before, after) == change

    def test_freed_seats_are_offered_to_as_many_as_wait(self) -> None:
        assert domain.seats_to_offer(capacity=5, seats_held=3, waiting=10) == 2
        assert domain.seats_to_offer(capacity=5, seats_held=3, waiting=1) == 1
        assert domain.seats_to_offer(capacity=5, seats_held=5, waiting=4) == 0
        assert domain.seats_to_offer(capacity=3, seats_held=5, waiting=4) == 0  # never negative

    def test_waitlist_places_follow_the_order_of_arrival(self) -> None:
        @dataclass
        class Row:
            id: str
            status: RegistrationStatus

        rows = [
            Row("a", RegistrationStatus.CONFIRMED),
            Row("b", RegistrationStatus.WAITLISTED),
            Row("c", RegistrationStatus.CANCELLED),
            Row("d", RegistrationStatus.WAITLISTED),
        ]
        assert domain.waitlist_positions(rows) == {"b": 1, "d": 2}


class TestOffers:
    def test_an_offer_lasts_its_hours_but_never_past_the_start(self) -> None:
        assert domain.offer_expiry(NOW, 24, STARTS) == NOW + timedelta(hours=24)
        assert domain.offer_expiry(STARTS - timedelta(hours=2), 24, STARTS) == STARTS

    def test_an_open_offer_is_taken_until_it_lapses(self) -> None:
        expires = NOW + timedelta(hours=1)
        domain.check_offer_open(RegistrationStatus.OFFERED, expires, NOW)
        domain.check_offer_open(RegistrationStatus.OFFERED, None, NOW)
        with pytest.raises(Conflict, match="the offer has lapsed"):
            domain.check_offer_open(RegistrationStatus.OFFERED, expires, expires)
        with pytest.raises(Conflict, match="there is no open offer: the registration is lapsed"):
            domain.check_offer_open(RegistrationStatus.LAPSED, expires, NOW)

    def test_an_offer_lapses_at_its_expiry(self) -> None:
        expires = NOW + timedelta(hours=1)
        assert not domain.offer_has_lapsed(RegistrationStatus.OFFERED, expires, NOW)
        assert domain.offer_has_lapsed(RegistrationStatus.OFFERED, expires, expires)
        assert not domain.offer_has_lapsed(RegistrationStatus.OFFERED, None, expires)
        assert not domain.offer_has_lapsed(RegistrationStatus.CONFIRMED, expires, expires)

    def test_lapsed_seats_pass_on_only_while_the_event_is_ahead(self) -> None:
        assert domain.offers_continue(EventStatus.PUBLISHED, STARTS, NOW)
        assert not domain.offers_continue(EventStatus.PUBLISHED, STARTS, STARTS)
        assert not domain.offers_continue(EventStatus.CANCELLED, STARTS, NOW)

    def test_only_the_registrant_takes_an_offer(self) -> None:
        domain.check_offer_taker(MEMBER, MEMBER.subject)
        for person_id in ("someone-else", None):
            with pytest.raises(Forbidden, match="only the registrant may accept the offer"):
                domain.check_offer_taker(MEMBER, person_id)


class TestCancellation:
    def test_the_registrant_cancels_until_the_deadline_by_default_the_start(self) -> None:
        deadline = NOW + timedelta(days=1)
        domain.check_cancellation(MEMBER, MEMBER.subject, COMPANY, NOW, deadline, STARTS)
        with pytest.raises(Conflict, match="the cancellation deadline has passed"):
            domain.check_cancellation(MEMBER, MEMBER.subject, COMPANY, deadline, deadline, STARTS)
        domain.check_self_cancellation(STARTS - timedelta(seconds=1), None, STARTS)
        with pytest.raises(Conflict, match="the cancellation deadline has passed"):
            domain.check_self_cancellation(STARTS, None, STARTS)

    def test_the_organisers_cancel_anyone_at_any_time(self) -> None:
        domain.check_cancellation(ADMIN, MEMBER.subject, COMPANY, STARTS, NOW, STARTS)
        domain.check_cancellation(STAFF, None, None, STARTS, NOW, STARTS)

    def test_nobody_else_cancels(self) -> None:
        with pytest.raises(Forbidden):
            domain.check_cancellation(OTHER_ADMIN, MEMBER.subject, COMPANY, NOW, None, STARTS)

    def test_only_an_active_registration_is_cancelled(self) -> None:
        for status in domain.ACTIVE:
            domain.check_cancellable(status)
        for status in (RegistrationStatus.CANCELLED, RegistrationStatus.REJECTED, RegistrationStatus.LAPSED):
            with pytest.raises(Conflict, match=f"already {status}"):
                domain.check_cancellable(status)

    def test_a_registration_is_seen_by_its_registrant_and_the_organisers(self) -> None:
        domain.check_registrant_or_organiser(MEMBER, MEMBER.subject, COMPANY)
        domain.check_registrant_or_organiser(ADMIN, MEMBER.subject, COMPANY)
        with pytest.raises(Forbidden):
            domain.check_registrant_or_organiser(OTHER_ADMIN, MEMBER.subject, COMPANY)
        with pytest.raises(Forbidden):  # an erased registration is nobody's own
            domain.check_registrant_or_organiser(MEMBER, None, COMPANY)


class TestCheckInAndFeedback:
    def test_a_confirmed_seat_checks_in_once(self) -> None:
        domain.check_check_in("Giulia", RegistrationStatus.CONFIRMED, None)
        with pytest.raises(Conflict, match=re.escape(f"Giulia is already checked in (at {NOW.isoformat()})")):
            domain.check_check_in("Giulia", RegistrationStatus.CONFIRMED, NOW)
        with pytest.raises(Conflict, match=r"Giulia has no confirmed seat \(registration waitlisted\)"):
            domain.check_check_in("Giulia", RegistrationStatus.WAITLISTED, None)

    def test_attendees_rate_once_from_the_start(self) -> None:
        domain.check_feedback(NOW, STARTS, STARTS, already_left=False)
        with pytest.raises(Forbidden, match="only people who attended"):
            domain.check_feedback(None, STARTS, STARTS, already_left=False)
        with pytest.raises(Conflict, match="feedback opens when the event starts"):
            domain.check_feedback(NOW, STARTS - timedelta(seconds=1), STARTS, already_left=False)
        with pytest.raises(Conflict, match="already left feedback"):
            domain.check_feedback(NOW, STARTS, STARTS, already_left=True)

    def test_ratings_go_from_one_to_five(self) -> None:
        for rating in (1, 5):
            domain.check_rating(rating)
        for rating in (0, 6):
            with pytest.raises(DomainError, match="between 1 and 5"):
                domain.check_rating(rating)

    def test_the_attendance_list_is_who_may_come(self) -> None:
        assert {
            RegistrationStatus.CONFIRMED,
            RegistrationStatus.OFFERED,
            RegistrationStatus.WAITLISTED,
        } == domain.ON_ATTENDANCE_LIST
        assert {RegistrationStatus.CONFIRMED, RegistrationStatus.OFFERED} == domain.HOLDS_A_SEAT
