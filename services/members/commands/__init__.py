"""Everything the members service can be asked to do, one module per topic. Each use case that changes
something runs in one unit of work: the change and the events announcing it are committed together, or not at
all. Each is given who asks (a Principal) and checks it first (commands.access): this is the one place the
service authorises."""

from services.members.commands.companies import (
    apply_for_membership,
    change_membership,
    company_people,
    get_company,
    list_companies,
    membership_history,
    update_company,
)
from services.members.commands.fees import (
    announce_overdue_fees,
    assess_fee,
    company_fees,
    overdue_fees,
    record_payment,
)
from services.members.commands.governance import end_governance_term, start_governance_term
from services.members.commands.identity import partner_login, password_login, register_partner_client
from services.members.commands.people import (
    add_colleague,
    add_staff,
    change_password,
    create_first_admin,
    erase_person,
    export_person,
    get_person,
    update_person,
)

__all__ = [
    "add_colleague",
    "add_staff",
    "announce_overdue_fees",
    "apply_for_membership",
    "assess_fee",
    "change_membership",
    "change_password",
    "company_fees",
    "company_people",
    "create_first_admin",
    "end_governance_term",
    "erase_person",
    "export_person",
    "get_company",
    "get_person",
    "list_companies",
    "membership_history",
    "overdue_fees",
    "partner_login",
    "password_login",
    "record_payment",
    "register_partner_client",
    "start_governance_term",
    "update_company",
    "update_person",
]
