"""The network's governance: terms of office, what staff send to start and end one, what the public reads."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import model_validator
from sqlmodel import Field, SQLModel

from services.members.domain import GovernanceOffice, check_term_dates
from shared.clock import utc_now
from shared.columns import enum_column, timestamp
from shared.ids import Id, new_id


class GovernanceTermCreate(SQLModel):
    person_id: Id
    office: GovernanceOffice
    term_from: date
    term_to: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> GovernanceTermCreate:
        check_term_dates(self.term_from, self.term_to)
        return self


class GovernanceTerm(GovernanceTermCreate, table=True):
    __tablename__ = "governance_term"

    office: GovernanceOffice = enum_column(GovernanceOffice)
    id: str = Field(default_factory=new_id, primary_key=True)
    person_id: str = Field(foreign_key="person.id", index=True)
    created_at: datetime = timestamp(default_factory=utc_now)


class GovernanceTermEnd(SQLModel):
    term_to: date


class GovernanceTermPublic(SQLModel):
    id: str
    office: GovernanceOffice
    term_from: date
    term_to: date | None
    person_name: str
    company_name: str | None
