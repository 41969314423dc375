"""What members' facts carry of a company or a person: their profile as others keep it."""

from __future__ import annotations

from services.members.events import CompanyProfile, PersonProfile
from services.members.models import Company, Person


def company_profile(company: Company) -> CompanyProfile:
    return CompanyProfile.model_validate(company, from_attributes=True)


def person_profile(person: Person) -> PersonProfile:
    return PersonProfile.model_validate(person, from_attributes=True)
