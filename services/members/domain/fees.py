"""Annual fees: what is overdue, and what a payment leaves to pay."""

from __future__ import annotations

from datetime import date
from typing import Any

from shared.errors import DomainError


def fee_overdue(due_date: Any, paid_cents: Any, amount_cents: Any, today: date) -> Any:
    """What "overdue" means, wherever it is asked: past its due date and not fully paid. Given a fee's values it
    says yes or no; given its columns (store.py), it is the same condition in SQL."""
    return (due_date < today) & (paid_cents < amount_cents)


def paid_after_payment(payment_cents: int, amount_cents: int, paid_cents: int) -> int:
    """What is paid of a fee once a payment is recorded; a payment never exceeds what is still due."""
    outstanding = amount_cents - paid_cents
    if payment_cents > outstanding:
        raise DomainError(f"payment of {payment_cents} cents exceeds the {outstanding} cents outstanding")
    return paid_cents + payment_cents
