"""Use cases of the funding service: each loads what it needs, applies the domain's rules, records the facts it
publishes, and commits once (handlers' commands leave the commit to the idempotent consumer). Who may call each
use case is checked by the routes (api.py), not here.

- calls: staff-entered calls, the copy of member companies, saved searches, statuses and deadline reminders
- ingest: taking a source's records in (new, changed, quarantined)
- matches: keeping matches and saved searches' hits, which several use cases share
"""

from services.funding.commands.calls import (
    create_call,
    delete_search,
    forget_person,
    refresh_statuses,
    remember_company,
    save_search,
    send_reminders,
    update_call,
)

__all__ = [
    "create_call",
    "delete_search",
    "forget_person",
    "refresh_statuses",
    "remember_company",
    "save_search",
    "send_reminders",
    "update_call",
]
