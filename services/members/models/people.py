"""People and partner systems, and what identifies them: a person's table and the API's shapes for them,
partner clients, and the signing keys of access tokens."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import EmailStr, field_validator
from sqlmodel import Field, SQLModel

from services.members.domain import MIN_PASSWORD_LENGTH, Language, check_password_strength
from shared.clock import utc_now
from shared.columns import enum_column, json_list, timestamp
from shared.ids import new_id
from shared.membership import Role
from shared.text import Line, PartialUpdate


class PersonFields(SQLModel):
    given_name: Line = Field(min_length=1, max_length=100)
    family_name: Line = Field(min_length=1, max_length=100)
    phone: Line | None = Field(default=None, max_length=30)
    job_title: Line | None = Field(default=None, max_length=100)
    language: Language = enum_column(Language, default=Language.IT)


class Person(PersonFields, table=True):
    id: str = Field(default_factory=new_id, primary_key=True)
    company_id: str | None = Field(default=None, foreign_key="company.id", index=True)
    email: str = Field(unique=True, index=True, max_length=320)
    role: Role = enum_column(Role)
    password_hash: str | None = None
    created_at: datetime = timestamp(default_factory=utc_now)
    updated_at: datetime = timestamp(default_factory=utc_now)
    erased_at: datetime | None = timestamp(default=None, nullable=True)


class PersonCreate(PersonFields):
    email: EmailStr
    role: Role = Role.COMPANY_MEMBER
    password: str = Field(
        min_length=MIN_PASSWORD_LENGTH, max_length=200, description="Initial password (at least 12 characters)"
    )

    @field_validator("password")
    @classmethod
    def _strong(cls, value: str) -> str:
        check_password_strength(value)
        return value


class StaffCreate(PersonFields):
    """A network staff member (role network_admin)."""

    email: EmailStr
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=200, description="Initial password")


class PersonUpdate(PartialUpdate):
    clearable: ClassVar[frozenset[str]] = frozenset({"phone", "job_title"})

    given_name: Line | None = Field(default=None, min_length=1, max_length=100)
    family_name: Line | None = Field(default=None, min_length=1, max_length=100)
    phone: Line | None = Field(default=None, max_length=30)
    job_title: Line | None = Field(default=None, max_length=100)
    language: Language | None = None
    role: Role | None = Field(default=None, description="Only staff and company admins may change roles")


class PersonPublic(PersonFields):
    id: str
    company_id: str | None
    email: str
    role: Role
    created_at: datetime
    erased_at: datetime | None


class PasswordChange(SQLModel):
    current_password: str = Field(max_length=200)
    new_password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=200)

    @field_validator("new_password")
    @classmethod
    def _strong(cls, value: str) -> str:
        check_password_strength(value)
        return value


class PartnerClient(SQLModel, table=True):
    __tablename__ = "partner_client"

    id: str = Field(default_factory=new_id, primary_key=True, description="The client_id")
    name: str = Field(max_length=200)
    secret_hash: str
    scopes: list[str] = json_list()
    created_by: str
    created_at: datetime = timestamp(default_factory=utc_now)


class PartnerClientCreate(SQLModel):
    name: Line = Field(min_length=2, max_length=200, description="e.g. Camera di Commercio di Lucca")
    scopes: list[Line] = Field(default_factory=list, description="e.g. directory:read, events:read, webhooks:manage")


class PartnerClientCreated(SQLModel):
    client_id: str
    client_secret: str = Field(description="Shown once; store it safely")
    name: str
    scopes: list[str]


class SigningKey(SQLModel, table=True):
    __tablename__ = "signing_key"

    kid: str = Field(primary_key=True)
    private_pem: str
    created_at: datetime = timestamp(default_factory=utc_now)
