"""Reading what people type in the forms of the people who type it: amounts in euros with Italian thousands dots
and decimal commas, lists separated by commas, codes with spaces; and checking a Partita IVA and an ATECO code as
the applicant types them. The API keeps its exact types: these turn the typing into them."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError
from stdnum.it import iva

from web.i18n import N_

ATECO = re.compile(r"^[0-9]{2}(\.[0-9]{1,2}(\.[0-9]{1,2})?)?$")  # as the members service checks it


def euros(typed: str) -> Decimal | None:
    """1.250.000 / 1.250.000,50 / 1250000 / 1,250,000.50 / € 1.250 → the amount; None when it is not one."""
    text = typed.replace("€", "").replace("EUR", "").replace(" ", "").replace("\u00a0", "").strip()
    if not text:
        return None
    if "," in text and "." in text:
        decimal_mark = "," if text.rfind(",") > text.rfind(".") else "."
    elif "," in text:
        decimal_mark = "," if len(text.rsplit(",", 1)[1]) != 3 else ""
    elif text.count(".") == 1 and len(text.rsplit(".", 1)[1]) != 3:
        decimal_mark = "."
    else:
        decimal_mark = ""
    thousands = {",": ".", ".": ",", "": ".,"}[decimal_mark]
    for mark in thousands:
        text = text.replace(mark, "")
    try:
        amount = Decimal(text.replace(",", ".")) if text else None
    except InvalidOperation:
        return None
    return amount if amount is not None and amount.is_finite() else None


def whole_number(typed: str) -> int | None:
    amount = euros(typed)
    return int(amount) if amount is not None and amount == amount.to_integral_value() else None


def comma_list(typed: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,;\n]", typed) if part.strip()]


def partita_iva_problem(typed: str) -> str | None:
    """Why a Partita IVA is not one (a msgid), or None: 11 digits, the last one a check digit."""
    number = typed.strip().upper().removeprefix("IT").replace(" ", "")
    if not number:
        return N_("Please fill this in.")
    try:
        iva.validate(number)
    except InvalidLength:
        return N_("A Partita IVA has 11 digits.")
    except InvalidFormat:
        return N_("A Partita IVA is made of digits only.")
    except InvalidChecksum:
        return N_("This is not a valid Partita IVA: check the digits (the last one is a check digit).")
    except ValidationError:
        return N_("This is not a valid Partita IVA.")
    return None


def ateco_problem(typed: str, required: bool = True) -> str | None:
    codes = comma_list(typed)
    if not codes:
        return N_("Please fill this in.") if required else None
    if any(not ATECO.match(code) for code in codes):
        return N_("An ATECO code is written like 15.20 or 15.20.10.")
    return None
