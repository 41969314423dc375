"""The public topics: each service's published contract, named once for the service that publishes on it and
for those that subscribe. `<service>.<aggregate>.v<major>`; a breaking change to a fact is a new major."""

MEMBERS_COMPANIES = "members.companies.v1"
MEMBERS_PEOPLE = "members.people.v1"
MEMBERS_FEES = "members.fees.v1"
MEMBERS_GOVERNANCE = "members.governance.v1"

EVENTS_EVENTS = "events.events.v1"
EVENTS_REGISTRATIONS = "events.registrations.v1"

FUNDING_CALLS = "funding.calls.v1"
FUNDING_MATCHES = "funding.matches.v1"
FUNDING_SEARCHES = "funding.searches.v1"

NOTIFICATIONS_DELIVERIES = "notifications.deliveries.v1"


# Not a public topic: what members asks notifications to write to people who are not (yet) members, with the
# single-use links that must not reach partners (invitations, password resets, decisions on applications).
MEMBERS_CORRESPONDENCE = "members.correspondence.v1"


def consumer_group(service: str, topic: str) -> str:
    """The consumer group (and inbox name) in which `service` reads `topic`: events reads members.people.v1 as
    `events.members-people`. One rule, so an operator reading the lag of a group knows what it is."""
    publisher, aggregate, _version = topic.split(".")
    return f"{service}.{publisher}-{aggregate}"
