"""A QR code read back from its picture, as a scanner sees it: the PNG's pixels (read with the standard library:
zlib and PNG's row filters), then one dark or light value per module, whatever the picture's scale and margin."""

from __future__ import annotations

import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
GREYSCALE = 0
FINDER_WIDTH = 7  # modules across the square in each corner of a QR code


def pixels_of(png: bytes) -> list[list[bool]]:
    """The picture's rows of pixels, True where dark: 1-bit greyscale, as segno writes a black and white code."""
    assert png.startswith(PNG_SIGNATURE), "not a PNG"
    chunks: dict[bytes, bytes] = {}
    position = len(PNG_SIGNATURE)
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        chunks[kind] = chunks.get(kind, b"") + png[position + 8 : position + 8 + length]
        position += 12 + length
    width, height, depth, colour, _compression, _filter, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, colour, interlace) == (1, GREYSCALE, 0), "expected a 1-bit greyscale, non-interlaced PNG"
    stride = (width + 7) // 8
    raw = zlib.decompress(chunks[b"IDAT"])
    rows: list[list[bool]] = []
    previous = bytearray(stride)
    for index in range(height):
        start = index * (stride + 1)
        row = _unfiltered(raw[start], bytearray(raw[start + 1 : start + 1 + stride]), previous)
        bits = [(row[column // 8] >> (7 - column % 8)) & 1 for column in range(width)]
        rows.append([bit == 0 for bit in bits])  # greyscale: 0 is black
        previous = row
    return rows


def _unfiltered(kind: int, row: bytearray, previous: bytearray) -> bytearray:
    """PNG's five row filters undone (one byte per pixel step at this depth)."""
    for index in range(len(row)):
        left = row[index - 1] if index else 0
        up = previous[index]
        corner = previous[index - 1] if index else 0
        if kind == 1:
            row[index] = (row[index] + left) & 0xFF
        elif kind == 2:
            row[index] = (row[index] + up) & 0xFF
        elif kind == 3:
            row[index] = (row[index] + (left + up) // 2) & 0xFF
        elif kind == 4:
            row[index] = (row[index] + _paeth(left, up, corner)) & 0xFF
    return row


def _paeth(left: int, up: int, corner: int) -> int:
    estimate = left + up - corner
    distances = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
    return (left, up, corner)[distances.index(min(distances))]


def modules_of(png: bytes) -> list[list[bool]]:
    """The code's modules, True where dark: the top-left finder square gives where the code starts and how many
    pixels a module is."""
    pixels = pixels_of(png)
    top = next(y for y, row in enumerate(pixels) if any(row))
    left = pixels[top].index(True)
    finder = next(x for x in range(left, len(pixels[top])) if not pixels[top][x]) - left
    scale = finder // FINDER_WIDTH
    right = len(pixels[top]) - 1 - pixels[top][::-1].index(True)
    size = (right - left + 1) // scale
    return [
        [pixels[top + y * scale + scale // 2][left + x * scale + scale // 2] for x in range(size)] for y in range(size)
    ]
