"""The rules of tickets and calendar entries on their own (the fast unit tier): who sees a registration's check-in
code, when a ticket is shown, and how an event's calendar entries are revised and cancelled."""

from __future__ import annotations

import pytest

from services.events import domain
from services.events.domain import EventAction, Language, RegistrationStatus
from services.events.models import Guest
from services.events.tests.test_domain import ADMIN, MEMBER, OTHER_ADMIN, STAFF
from shared.errors import Conflict, Forbidden


class TestCheckInCode:
    def test_the_registrant_and_staff_see_it_and_the_organising_company_s_admins_do_not(self) -> None:
        assert domain.may_see_check_in_code(MEMBER, MEMBER.subject)
        assert domain.may_see_check_in_code(STAFF, MEMBER.subject)
        assert not domain.may_see_check_in_code(ADMIN, MEMBER.subject)
        assert not domain.may_see_check_in_code(OTHER_ADMIN, None)  # a guest's: no one logged in is them

    def test_an_organiser_who_registered_sees_their_own(self) -> None:
        assert domain.may_see_check_in_code(ADMIN, ADMIN.subject)

    def test_anyone_else_is_refused_the_ticket(self) -> None:
        domain.check_ticket_viewer(MEMBER, MEMBER.subject)
        domain.check_ticket_viewer(STAFF, None)
        with pytest.raises(Forbidden, match="only the registrant and the network's staff"):
            domain.check_ticket_viewer(ADMIN, MEMBER.subject)


class TestTicket:
    def test_a_confirmed_seat_has_a_ticket(self) -> None:
        domain.check_ticket_admits(RegistrationStatus.CONFIRMED)

    @pytest.mark.parametrize("status", sorted(set(RegistrationStatus) - {RegistrationStatus.CONFIRMED}))
    def test_no_other_registration_has_one_as_the_door_would_not_admit_it(self, status: RegistrationStatus) -> None:
        with pytest.raises(Conflict, match=f"the registration is {status}: there is no ticket to show"):
            domain.check_ticket_admits(status)


class TestCalendarEntries:
    def test_every_entry_of_an_event_carries_one_uid(self) -> None:
        assert domain.calendar_uid("e-1") == "e-1@filiera"

    @pytest.mark.parametrize("field", sorted(domain.CALENDAR_ENTRY_FIELDS))
    def test_a_change_of_title_time_or_place_is_a_revision(self, field: str) -> None:
        assert domain.calendar_revision(3, [field, "capacity"]) == 4

    def test_several_changes_at_once_are_one_revision(self) -> None:
        assert domain.calendar_revision(0, ["starts_at", "ends_at", "venue"]) == 1

    def test_what_the_entry_does_not_show_is_not(self) -> None:
        changed = ["description_it", "description_en", "capacity", "price_other_cents", "tags"]
        assert domain.calendar_revision(3, changed) == 3
        assert domain.calendar_revision(3, []) == 3

    def test_cancelling_the_event_revises_its_entry_and_publishing_or_completing_it_does_not(self) -> None:
        assert domain.calendar_revision_on(2, EventAction.CANCEL) == 3
        assert domain.calendar_revision_on(2, EventAction.PUBLISH) == 2
        assert domain.calendar_revision_on(2, EventAction.COMPLETE) == 2

    def test_a_registrant_s_cancel_outranks_the_entries_they_were_sent(self) -> None:
        assert domain.cancellation_sequence(0) == 1
        assert domain.cancellation_sequence(4) == 5


class TestGuestLanguage:
    def test_a_guest_is_written_to_in_italian_unless_they_choose_english(self) -> None:
        assert Guest(name="Anna Weber", email="anna@example.com").language == Language.IT
        english = Guest.model_validate({"name": "Anna Weber", "email": "anna@example.com", "language": "en"})
        assert english.language == Language.EN
