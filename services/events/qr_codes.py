"""The QR code of a check-in code, as the registrant shows it at the door and the door's scanner reads it."""

from __future__ import annotations

import io

import segno


def qr_svg(check_in_code: str) -> bytes:
    """An SVG image of the code; error correction M survives a scratched phone screen or a creased printout."""
    image = io.BytesIO()
    segno.make_qr(check_in_code, error="m").save(image, kind="svg", scale=8, border=2)
    return image.getvalue()
