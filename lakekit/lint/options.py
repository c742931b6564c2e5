"""Lint options: rule selection and thresholds, from flags and ``[lint]`` in lakekit.toml.

Thresholds default to the numbers SPEC gives; each can be set in ``[lint]``::

    [lint]
    select = ["Q", "L"]
    ignore = ["Q009"]
    partition_keys = ["dt"]        # assumed partition keys when there is no catalog
    small_file_size = "64MiB"

>>> opts = lint_options({"ignore": "Q009", "small_file_size": "64MiB"})
>>> opts.ignore, opts.small_file_size
(('Q009',), 67108864)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from lakekit.errors import UsageError
from lakekit.layout import parse_size
from lakekit.lint.baseline import read_baseline

#: partition keys assumed when no catalog says which columns are partition keys.
ASSUMED_PARTITION_KEYS = ("year", "month", "day", "dt", "date")

_SIZE_SETTINGS = {
    "not_partitioned_size", "unsplittable_size", "small_file_size", "small_partition_size",
    "small_row_group_size", "row_group_file_size",
}
_COUNT_SETTINGS = {"many_partitions", "max_partitions", "many_like"}


@dataclass(frozen=True)
class LintOptions:
    """Which rules run and the thresholds layout rules compare against."""

    #: rule codes or prefixes to run (``Q``, ``L00``, ``Q001``, ``ALL``); empty means all
    select: tuple[str, ...] = ()
    #: rule codes or prefixes to skip
    ignore: tuple[str, ...] = ()
    #: partition keys assumed without a catalog (Q002, Q003)
    partition_keys: tuple[str, ...] = ASSUMED_PARTITION_KEYS
    #: whether ``partition_keys`` came from the config file rather than the default
    partition_keys_configured: bool = False
    #: L001: a table bigger than this should be partitioned
    not_partitioned_size: int = 1 << 30
    #: L005: gzip/zip text files bigger than this cannot be split across workers
    unsplittable_size: int = 128 << 20
    #: L006: files smaller than this on average are small files
    small_file_size: int = 128 << 20
    #: L007: partitions smaller than this on average are small partitions ...
    small_partition_size: int = 128 << 20
    #: ... when there are more than this many partitions
    many_partitions: int = 1000
    #: L007: more partitions than this is too many, whatever their size
    max_partitions: int = 100_000
    #: L011: row groups smaller than this on average are small ...
    small_row_group_size: int = 8 << 20
    #: ... in files bigger than this
    row_group_file_size: int = 32 << 20
    #: Q005: this many LIKEs OR-ed on one column make one regexp_like
    many_like: int = 3
    #: Q011: dollars a statement's estimate may cost (None: no budget)
    max_cost: float | None = None
    #: Q012: path -> bytes scanned recorded by --write-baseline (None: no baseline)
    baseline: Mapping[str, int] | None = None


def _codes(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, Sequence):
        raise UsageError(f"[lint] {what} must be a list of rule codes like [\"Q001\", \"L\"]")
    return tuple(str(item).strip().upper() for item in items if str(item).strip())


def _baseline(value: Any) -> Mapping[str, int]:
    """``[lint] baseline``: a baseline file's path, or the path -> bytes mapping itself."""
    if isinstance(value, str):
        return read_baseline(value)
    if isinstance(value, Mapping) and all(isinstance(v, int) and not isinstance(v, bool) for v in value.values()):
        return {str(k): int(v) for k, v in value.items()}
    raise UsageError("[lint] baseline must be a baseline file's path (written by --write-baseline)")


def lint_options(
    config: Mapping[str, Any] | None = None,
    *,
    select: str | Sequence[str] | None = None,
    ignore: str | Sequence[str] | None = None,
) -> LintOptions:
    """Options from the ``[lint]`` table, then flags (a flag replaces the file's value)."""
    config = dict(config or {})
    known = {f.name for f in fields(LintOptions)} - {"partition_keys_configured"}
    unknown = sorted(set(config) - known)
    if unknown:
        raise UsageError(f"[lint] has unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    values: dict[str, Any] = {}
    for key, value in config.items():
        if key in _SIZE_SETTINGS:
            values[key] = parse_size(value, f"[lint] {key}")
        elif key in _COUNT_SETTINGS:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"[lint] {key} must be a positive whole number, not {value!r}")
            values[key] = value
        elif key == "max_cost":
            from lakekit.config import check_max_cost

            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise UsageError(f"[lint] max_cost must be dollars, a number, not {value!r}")
            values[key] = check_max_cost(float(value), "[lint] max_cost")
        elif key == "baseline":
            values[key] = _baseline(value)
        elif key == "partition_keys":
            keys = _codes(value, key)
            values[key] = tuple(k.lower() for k in keys)
            values["partition_keys_configured"] = True
        else:
            values[key] = _codes(value, key)
    options = LintOptions(**values)
    if select is not None:
        options = replace(options, select=_codes(select, "select"))
    if ignore is not None:
        options = replace(options, ignore=_codes(ignore, "ignore"))
    return options
