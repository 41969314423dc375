"""HTTP routes of the members service, one module per area. Routes are thin: they parse the request, say who is
calling, and call a use case (commands, which authorises) or, for what is public, a query of the store."""

from services.members.api.companies import companies, fees
from services.members.api.identity import auth, invitations, password_resets, token_refused
from services.members.api.people import people
from services.members.api.public import directory, governance

ROUTERS = [auth, companies, fees, people, governance, directory, invitations, password_resets]

__all__ = ["ROUTERS", "token_refused"]
