"""Sizes for people to read."""

from __future__ import annotations


def human_bytes(size: float) -> str:
    """Bytes as a short binary size.

    >>> human_bytes(3 * 1024 * 1024), human_bytes(512)
    ('3.0 MiB', '512 B')
    """
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"
