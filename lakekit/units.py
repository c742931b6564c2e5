"""Byte counts for people to read: one unit system, binary (KiB, MiB, GiB, TiB).

Athena's console and its billing count in 2^20-byte megabytes; lakekit prints those
as MiB, so a size reads the same after an ingest, in an estimate and in a lint
message.
"""

from __future__ import annotations

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def human_bytes(size: float) -> str:
    """Bytes as a short binary size (one decimal).

    >>> human_bytes(3 * 1024 * 1024), human_bytes(512)
    ('3.0 MiB', '512 B')
    """
    value = float(size)
    for unit in _UNITS[:-1]:
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def format_bytes(n: int | None) -> str:
    """Bytes with two decimals, as estimates and query readouts show them.

    >>> format_bytes(0), format_bytes(1536), format_bytes(10 * 2**20), format_bytes(None)
    ('0 B', '1.50 KiB', '10.00 MiB', 'unknown')
    """
    if n is None:
        return "unknown"
    value = float(n)
    for unit in _UNITS:
        if value < 1024 or unit == _UNITS[-1]:
            return f"{int(value)} B" if unit == "B" else f"{value:.2f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover
