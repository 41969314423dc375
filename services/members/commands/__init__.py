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
from services.members.commands.identity import (
    IssuedTokens,
    authenticate_client,
    client_credentials_grant,
    grant_tokens,
    password_grant,
    refresh_token_grant,
    register_partner_client,
    revoke_token,
)
from services.members.commands.invitations import accept_invitation, invite_colleague, open_invitation
from services.members.commands.password_resets import request_password_reset, reset_password
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
    "IssuedTokens",
    "accept_invitation",
    "add_colleague",
    "add_staff",
    "announce_overdue_fees",
    "apply_for_membership",
    "assess_fee",
    "authenticate_client",
    "change_membership",
    "change_password",
    "client_credentials_grant",
    "company_fees",
    "company_people",
    "create_first_admin",
    "end_governance_term",
    "erase_person",
    "export_person",
    "get_company",
    "get_person",
    "grant_tokens",
    "invite_colleague",
    "list_companies",
    "membership_history",
    "open_invitation",
    "overdue_fees",
    "password_grant",
    "record_payment",
    "refresh_token_grant",
    "register_partner_client",
    "request_password_reset",
    "reset_password",
    "revoke_token",
    "start_governance_term",
    "update_company",
    "update_person",
]
