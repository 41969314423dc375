"""Annual membership fees and their payments: tables, what staff send, what the API returns."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from services.members.domain import fee_overdue
from shared.clock import utc_now
from shared.columns import timestamp
from shared.ids import new_id
from shared.text import Line


class FeeCreate(SQLModel):
    year: int = Field(ge=2000, le=2100)
    amount_cents: int = Field(gt=0, le=10**9)
    due_date: date


class Fee(FeeCreate, table=True):
    id: str = Field(default_factory=new_id, primary_key=True)
    company_id: str = Field(foreign_key="company.id", index=True)
    paid_cents: int = 0
    created_at: datetime = timestamp(default_factory=utc_now)
    # Set in the transaction that publishes members.fee.overdue, so the fact goes out once per fee.
    overdue_announced_at: datetime | None = timestamp(default=None, nullable=True)


class FeePublic(FeeCreate):
    id: str
    company_id: str
    paid_cents: int
    outstanding_cents: int
    overdue: bool

    @classmethod
    def of(cls, fee: Fee, today: date) -> FeePublic:
        """The fee as its company and staff read it on `today` (the network's day, in Europe/Rome)."""
        return cls(
            **fee.model_dump(),
            outstanding_cents=fee.amount_cents - fee.paid_cents,
            overdue=fee_overdue(fee.due_date, fee.paid_cents, fee.amount_cents, today),
        )


class PaymentCreate(SQLModel):
    amount_cents: int = Field(gt=0, le=10**9)
    paid_on: date
    method: Line = Field(default="bank_transfer", max_length=50)


class Payment(PaymentCreate, table=True):
    id: str = Field(default_factory=new_id, primary_key=True)
    fee_id: str = Field(foreign_key="fee.id", index=True)
    recorded_by: str
    recorded_at: datetime = timestamp(default_factory=utc_now)
