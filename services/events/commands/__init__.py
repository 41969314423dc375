"""Use cases of the events service: each loads what it needs, authorises the caller and applies the domain's rules,
records the facts it publishes, and commits once. Routes and subscribers call them from here.

- event_management: create, edit, publish/cancel/complete, reminders; which events a caller may see
- registrations: registering, seats and the waitlist, offers, approval, cancellation
- tickets: a person's own registrations, one with its check-in code, the code behind its QR ticket
- attendees: check-in, the attendance list, feedback, one's calendar feed
- members_copy: what events keeps of the members service's companies and people
- seats, published_facts: what the others share (seat counters and offers; the facts built from the tables)
"""

from services.events.commands.attendees import (
    attendance_list,
    calendar_feed_for,
    check_in,
    feedback_summary,
    leave_feedback,
)
from services.events.commands.event_management import (
    change_event_status,
    create_event,
    remind_events_starting_within,
    update_event,
    visible_event,
)
from services.events.commands.members_copy import forget_person, remember_company, remember_person
from services.events.commands.registrations import (
    accept_offer,
    already_registered,
    cancel_registration,
    decide_registration,
    lapse_offers_of,
    prepare_registration,
    registrations_of_organised_event,
    seat_new_registrations,
)
from services.events.commands.tickets import registration_detail, registrations_of, ticket_code

__all__ = [
    "accept_offer",
    "already_registered",
    "attendance_list",
    "calendar_feed_for",
    "cancel_registration",
    "change_event_status",
    "check_in",
    "create_event",
    "decide_registration",
    "feedback_summary",
    "forget_person",
    "lapse_offers_of",
    "leave_feedback",
    "prepare_registration",
    "registration_detail",
    "registrations_of",
    "registrations_of_organised_event",
    "remember_company",
    "remember_person",
    "remind_events_starting_within",
    "seat_new_registrations",
    "ticket_code",
    "update_event",
    "visible_event",
]
