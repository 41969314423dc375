"""Annual fees: assessing them, recording payments, announcing the overdue ones, and reading them."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.members import store
from services.members.commands.access import ensure_staff
from services.members.commands.companies import get_company
from services.members.domain import paid_after_payment
from services.members.events import FeeAssessed, FeeOverdue, FeePaymentRecorded
from services.members.models import Fee, FeeCreate, FeePublic, Payment, PaymentCreate
from shared.auth import Principal
from shared.clock import rome_date
from shared.errors import Conflict
from shared.unit_of_work import UnitOfWork


def _fee_event_fields(fee: Fee) -> dict[str, Any]:
    return {
        "fee_id": fee.id,
        "company_id": fee.company_id,
        "year": fee.year,
        "amount_cents": fee.amount_cents,
        "paid_cents": fee.paid_cents,
        "due_date": fee.due_date,
    }


def _as_read_today(uow: UnitOfWork, fee: Fee) -> FeePublic:
    return FeePublic.of(fee, rome_date(uow.now()))


async def assess_fee(uow: UnitOfWork, company_id: str, data: FeeCreate, actor: Principal) -> FeePublic:
    ensure_staff(actor)
    await store.get_company(uow.session, company_id)
    if any(f.year == data.year for f in await store.fees_of(uow.session, company_id)):
        raise Conflict(f"the {data.year} fee of this company is already assessed")
    fee = Fee.model_validate({**data.model_dump(), "company_id": company_id})
    uow.session.add(fee)
    uow.publish(FeeAssessed(**_fee_event_fields(fee)))
    await uow.commit()
    return _as_read_today(uow, fee)


async def record_payment(uow: UnitOfWork, fee_id: str, data: PaymentCreate, actor: Principal) -> FeePublic:
    ensure_staff(actor)
    fee = await store.get_fee(uow.session, fee_id)
    fee.paid_cents = paid_after_payment(data.amount_cents, fee.amount_cents, fee.paid_cents)
    uow.session.add(fee)
    uow.session.add(Payment.model_validate({**data.model_dump(), "fee_id": fee.id, "recorded_by": actor.subject}))
    uow.publish(FeePaymentRecorded(**_fee_event_fields(fee), payment_cents=data.amount_cents))
    await uow.commit()
    return _as_read_today(uow, fee)


async def announce_overdue_fees(uow: UnitOfWork, today: date) -> int:
    """Announce each fee of an active company that is overdue on `today`, once: the mark and the fact commit
    together, so a second run, a restart or another replica finds it announced."""
    now = uow.now()
    fees = await store.overdue_fees_to_announce(uow.session, today)
    for fee in fees:
        fee.overdue_announced_at = now
        uow.session.add(fee)
        uow.publish(FeeOverdue(**_fee_event_fields(fee)))
    await uow.commit()
    return len(fees)


async def company_fees(uow: UnitOfWork, company_id: str, actor: Principal) -> list[FeePublic]:
    """A company's fees, for staff and its own people."""
    await get_company(uow, company_id, actor)
    return [_as_read_today(uow, fee) for fee in await store.fees_of(uow.session, company_id)]


async def overdue_fees(uow: UnitOfWork, actor: Principal) -> list[FeePublic]:
    """Every fee overdue today, for staff."""
    ensure_staff(actor)
    today = rome_date(uow.now())
    return [FeePublic.of(fee, today) for fee in await store.overdue_fees(uow.session, today)]
