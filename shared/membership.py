"""What every service knows of membership: a company's status in the network, a person's role, and the core of
the company and the person that members' facts carry.

The members service decides them; the others read them in members' facts and in tokens. One definition here, so
"active" or "network_admin" is never spelled again elsewhere. Each reader extends `PublishedCompany` and
`PublishedPerson` with the further fields it keeps (and ignores the rest), and reads them with
`shared.consumer.read_fact`.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class MembershipStatus(StrEnum):
    APPLIED = "applied"
    ACTIVE = "active"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"


class Role(StrEnum):
    """A person's role, in their token's `role` claim."""

    NETWORK_ADMIN = "network_admin"
    COMPANY_ADMIN = "company_admin"
    COMPANY_MEMBER = "company_member"


class Capability(StrEnum):
    """What a company does, in the district's own terms: members keeps it, the directory and the web client offer it."""

    FINISHED_SHOES = "finished_shoes"
    SOLES = "soles"
    UPPERS = "uppers"
    PATTERN_MAKING = "pattern_making"
    LEATHER_CUTTING = "leather_cutting"
    COMPONENTS = "components"
    LASTS = "lasts"
    HEELS = "heels"
    STITCHING = "stitching"
    FINISHING = "finishing"
    DESIGN = "design"
    PROTOTYPING = "prototyping"
    LEATHER_GOODS = "leather_goods"
    MACHINERY = "machinery"
    LOGISTICS = "logistics"


# The `role` claim of a partner system's client-credentials token: not a person's role.
PARTNER_ROLE = "partner"


class PublishedCompany(BaseModel):
    """A company as members.companies.v1 carries it (members' CompanyProfile), as far as every reader reads it."""

    # Read from objects too, as SQLModel's models are: a fact whose `company` is not an object is refused with
    # "Input should be a valid dictionary or object to extract fields from".
    model_config = ConfigDict(from_attributes=True)

    id: str
    legal_name: str
    status: MembershipStatus


class PublishedPerson(BaseModel):
    """A person as members.person.joined and .updated carry them, as far as every reader reads them."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    company_id: str | None = None
    given_name: str
    family_name: str
    email: str

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class PersonErasure(BaseModel):
    """The data of members.person.erased: whom every service must forget."""

    person_id: str
