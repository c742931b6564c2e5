"""Validation of names that become paths: database, table and partition values.

A name that reaches a path is checked here first, so nothing lakekit writes can land
outside ``<warehouse>/<db>/<table>/`` or ``<warehouse>/_lakekit/``.

>>> parse_table_name("Analytics.Events")
('analytics', 'events')
>>> check_partition_value("month", "03")
'03'
"""

from __future__ import annotations

import re

from lakekit.errors import UnsafeNameError, UsageError

# Glue and Athena fold identifiers to lower case and allow letters, digits and "_".
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,254}")
# Partition values lakekit writes are zero-padded digits; crawled layouts may hold
# other text, but never a path separator, "..", "=", or a control character.
_UNSAFE_VALUE = re.compile(r"[/\\=\x00-\x1f\x7f]|^\.\.?$|^$")


def check_identifier(name: str, what: str = "name") -> str:
    """Return ``name`` lower-cased, or raise if it is not a safe Glue identifier."""
    folded = name.lower()
    if not _IDENTIFIER.fullmatch(folded):
        raise UnsafeNameError(
            f"{what} {name!r} is not allowed: use letters, digits and '_' only "
            "(it becomes a folder name and an Athena identifier)"
        )
    return folded


def parse_table_name(qualified: str) -> tuple[str, str]:
    """Split ``DB.TABLE`` into checked, lower-cased parts.

    A part starting with ``_`` is refused: ``_lakekit`` is lakekit's own area, and
    Athena and Spark skip ``_`` folders, so such a table's data would vanish for them.
    """
    parts = qualified.split(".")
    if len(parts) != 2 or not all(parts):
        raise UsageError(f"table {qualified!r} must be written DB.TABLE, for example analytics.events")
    if any(p.startswith("_") for p in parts):
        suggested = ".".join(p.lstrip("_") or "t" for p in parts)
        raise UsageError(f"table {qualified!r} is not allowed: names are lower-case letters, digits and '_', "
                         f"not starting with '_' (lakekit keeps its own files in _lakekit/); use --table {suggested}")
    return check_identifier(parts[0], "database"), check_identifier(parts[1], "table")


def check_partition_value(key: str, value: str) -> str:
    """Return ``value`` if it is safe as the ``key=value`` folder name, else raise."""
    if _UNSAFE_VALUE.search(value) or ".." in value:
        raise UnsafeNameError(
            f"partition value {key}={value!r} could escape the table folder; "
            "partition values must not contain '/', '\\', '=', '..' or control characters"
        )
    return value
