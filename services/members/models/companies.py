"""Member companies: their table, what they send to apply and to edit, what the API returns of them (to staff
and their own people, and to the public directory), and the steps of their membership."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    ConfigDict,
    EmailStr,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from sqlmodel import Field, SQLModel

from services.members.domain import (
    ATECO_PATTERN,
    MIN_PASSWORD_LENGTH,
    Capability,
    Language,
    SizeClass,
    check_ateco,
    check_country,
    check_not_edited,
    check_password_strength,
    normalise_codice_fiscale,
    normalise_partita_iva,
)
from shared.clock import utc_now
from shared.columns import enum_column, json_list, timestamp
from shared.ids import new_id
from shared.membership import MembershipStatus
from shared.text import Line, Paragraph, PartialUpdate, WebUrl

# The domain's rule validates (with its own message); the JSON Schema tells clients the same rule up front.
AtecoCode = Annotated[
    str,
    AfterValidator(check_ateco),
    WithJsonSchema({"type": "string", "pattern": ATECO_PATTERN, "examples": ["15.20.10"]}),
]
CountryCode = Annotated[
    str,
    AfterValidator(check_country),
    WithJsonSchema({"type": "string", "pattern": "^[A-Za-z]{2}$", "examples": ["DE"]}),
]


class CompanyProfileFields(SQLModel):
    """What a company may edit about itself."""

    legal_name: Line = Field(min_length=2, max_length=200)
    legal_form: Line = Field(
        default="S.r.l.", max_length=50, description="S.r.l., S.p.A., S.n.c., ditta individuale..."
    )
    ateco_primary: AtecoCode = Field(max_length=8, description="ATECO 2025 code, e.g. 15.20.10")
    ateco_secondary: list[AtecoCode] = json_list()
    employees: int = Field(ge=0, le=1_000_000)
    turnover_eur: int = Field(ge=0, le=10**12, description="Annual turnover in euro")
    balance_sheet_eur: int | None = Field(default=None, ge=0, le=10**12)
    street: Line = Field(default="", max_length=200)
    postal_code: Line = Field(default="", max_length=10)
    comune: Line = Field(default="Capannori", max_length=100)
    frazione: Line | None = Field(default=None, max_length=100, description="e.g. Segromigno in Monte")
    province: Line = Field(default="LU", min_length=2, max_length=2)
    region: Line = Field(default="Toscana", max_length=50)
    website: WebUrl | None = Field(default=None, max_length=300)
    capabilities: list[Capability] = json_list(Capability)
    certifications: list[Line] = json_list(description="e.g. ISO 9001, ISO 14001, SA8000")
    export_markets: list[CountryCode] = json_list(description="ISO 3166 country codes, e.g. DE, US, JP")
    languages: list[str] = json_list(description="ISO 639-1 codes the company works in")
    interests: list[Line] = json_list(description="Topics for funding alerts, e.g. sustainability, digitalisation")
    description_it: Paragraph = Field(default="", max_length=5000)
    description_en: Paragraph = Field(default="", max_length=5000)
    public_listing: bool = Field(default=True, description="Shown in the public B2B directory while active")


class CompanyIdentity(SQLModel):
    partita_iva: Annotated[str, StringConstraints(pattern=r"^(IT|it)?[0-9]{11}$")] = Field(
        description="11 digits; an IT prefix is accepted"
    )
    codice_fiscale: Annotated[str, StringConstraints(pattern=r"^([0-9]{11}|[A-Za-z0-9]{16})$")] | None = Field(
        default=None, description="Defaults to the Partita IVA"
    )

    @field_validator("partita_iva")
    @classmethod
    def _partita_iva(cls, value: str) -> str:
        return normalise_partita_iva(value)

    @field_validator("codice_fiscale")
    @classmethod
    def _codice_fiscale(cls, value: str | None) -> str | None:
        return normalise_codice_fiscale(value) if value else None


class Company(CompanyProfileFields, table=True):
    id: str = Field(default_factory=new_id, primary_key=True)
    partita_iva: str = Field(unique=True, index=True, max_length=11)
    codice_fiscale: str = Field(max_length=16)
    status: MembershipStatus = enum_column(MembershipStatus, default=MembershipStatus.APPLIED, index=True)
    size_class: SizeClass = enum_column(SizeClass)
    created_at: datetime = timestamp(default_factory=utc_now)
    updated_at: datetime = timestamp(default_factory=utc_now)


class ApplicantCreate(SQLModel):
    given_name: Line = Field(min_length=1, max_length=100)
    family_name: Line = Field(min_length=1, max_length=100)
    email: EmailStr
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=200)
    language: Language = enum_column(Language, default=Language.IT)

    @field_validator("password")
    @classmethod
    def _strong(cls, value: str) -> str:
        check_password_strength(value)
        return value


class CompanyApplication(CompanyProfileFields, CompanyIdentity):
    """A company asks to join; its applicant becomes the company's first admin once approved."""

    applicant: ApplicantCreate


class CompanyUpdate(PartialUpdate):
    """Only the fields sent are changed. A field no edit changes (status, size class...) is refused, named, with
    the reason; so is a field that does not exist, rather than ignored. The Partita IVA and codice fiscale are
    corrected by staff only (commands check who edits)."""

    model_config = ConfigDict(extra="forbid")
    clearable: ClassVar[frozenset[str]] = frozenset({"balance_sheet_eur", "frazione", "website"})

    @model_validator(mode="before")
    @classmethod
    def _no_field_no_edit_changes(cls, data: Any) -> Any:
        if isinstance(data, dict):
            check_not_edited(data)
        return data

    partita_iva: Annotated[str, StringConstraints(pattern=r"^(IT|it)?[0-9]{11}$")] | None = Field(
        default=None, description="Staff only: 11 digits; an IT prefix is accepted"
    )
    codice_fiscale: Annotated[str, StringConstraints(pattern=r"^([0-9]{11}|[A-Za-z0-9]{16})$")] | None = Field(
        default=None, description="Staff only"
    )

    legal_name: Line | None = Field(default=None, min_length=2, max_length=200)
    legal_form: Line | None = Field(default=None, max_length=50)
    ateco_primary: AtecoCode | None = None
    ateco_secondary: list[AtecoCode] | None = None
    employees: int | None = Field(default=None, ge=0, le=1_000_000)
    turnover_eur: int | None = Field(default=None, ge=0, le=10**12)
    balance_sheet_eur: int | None = Field(default=None, ge=0, le=10**12)
    street: Line | None = Field(default=None, max_length=200)
    postal_code: Line | None = Field(default=None, max_length=10)
    comune: Line | None = Field(default=None, max_length=100)
    frazione: Line | None = Field(default=None, max_length=100)
    province: Line | None = Field(default=None, min_length=2, max_length=2)
    region: Line | None = Field(default=None, max_length=50)
    website: WebUrl | None = None
    capabilities: list[Capability] | None = None
    certifications: list[Line] | None = None
    export_markets: list[CountryCode] | None = None
    languages: list[str] | None = None
    interests: list[Line] | None = None
    description_it: Paragraph | None = Field(default=None, max_length=5000)
    description_en: Paragraph | None = Field(default=None, max_length=5000)
    public_listing: bool | None = None

    @field_validator("partita_iva")
    @classmethod
    def _partita_iva(cls, value: str | None) -> str | None:
        return normalise_partita_iva(value) if value is not None else None

    @field_validator("codice_fiscale")
    @classmethod
    def _codice_fiscale(cls, value: str | None) -> str | None:
        return normalise_codice_fiscale(value) if value is not None else None


class CompanyPublic(CompanyProfileFields):
    id: str
    partita_iva: str
    codice_fiscale: str
    status: MembershipStatus
    size_class: SizeClass
    created_at: datetime
    updated_at: datetime


class DirectoryEntry(SQLModel):
    """What an international buyer sees: no fiscal or financial details."""

    id: str
    legal_name: str
    comune: str
    frazione: str | None
    province: str
    website: str | None
    size_class: SizeClass
    ateco_primary: str
    ateco_secondary: list[str]
    capabilities: list[Capability]
    certifications: list[str]
    export_markets: list[str]
    languages: list[str]
    description: str

    @classmethod
    def of(cls, company: Company, lang: str) -> DirectoryEntry:
        """The company as a buyer reads it, described in `lang` when it has a description in it."""
        description = (
            company.description_en if lang == Language.EN and company.description_en else company.description_it
        )
        return cls.model_validate({**company.model_dump(), "description": description})


class MembershipDecision(SQLModel):
    reason: Paragraph | None = Field(default=None, max_length=2000)


class ReasonedMembershipDecision(SQLModel):
    """Rejections and suspensions say why: the company is told."""

    # A Paragraph with at least one visible character.
    reason: Annotated[
        str,
        StringConstraints(
            pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*[^\x00-\x20\x7f][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$",
            max_length=2000,
        ),
    ]


class MembershipStepPublic(SQLModel):
    """One step of a company's membership, with who took it and when."""

    company_id: str = Field(foreign_key="company.id", index=True)
    action: str = Field(max_length=20, description="applied, or one of the membership actions")
    from_status: MembershipStatus | None = enum_column(MembershipStatus, nullable=True)
    to_status: MembershipStatus = enum_column(MembershipStatus)
    actor_id: str | None = Field(description="The person who took the step; none for a public application")
    reason: str | None = None
    at: datetime = timestamp(default_factory=utc_now)


class MembershipStep(MembershipStepPublic, table=True):
    __tablename__ = "membership_step"

    id: str = Field(default_factory=new_id, primary_key=True)
