"""Layout files (``layouts/*.yaml``): a table declared before any data exists.

>>> layout = parse_layout({"table": "analytics.events", "timestamp_column": "ts"})
>>> layout.partition_by, layout.compression, layout.target_file_size
(('year', 'month', 'day'), 'zstd', 134217728)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lakekit.errors import UsageError, first_line

PARTITION_GRAINS = ("year", "month", "day")
COMPRESSIONS = ("zstd", "snappy", "gzip", "none")
FORMATS = ("parquet", "orc", "csv", "json", "text", "avro")

_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1 << 10, "m": 1000**2, "mb": 1000**2,
          "mib": 1 << 20, "g": 1000**3, "gb": 1000**3, "gib": 1 << 30, "t": 1000**4, "tb": 1000**4, "tib": 1 << 40}


def parse_size(text: str | int, what: str = "size") -> int:
    """``'128MiB'`` -> 134217728; plain numbers are bytes.

    >>> parse_size("64KiB"), parse_size("1.5MB"), parse_size(4096)
    (65536, 1500000, 4096)
    """
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    else:
        m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*", str(text))
        if not m or m.group(2).lower() not in _UNITS:
            raise UsageError(f"{what} {text!r} is not a size; write it like 128MiB, 64KiB or 1000000")
        value = int(float(m.group(1)) * _UNITS[m.group(2).lower()])
    if value <= 0:
        raise UsageError(f"{what} must be positive, not {text!r}")
    return value


_DURATION_UNITS = {"": 1.0, "ms": 0.001, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


def parse_duration(text: str | float, what: str = "duration") -> float:
    """``'60s'`` -> 60.0, ``'5m'`` -> 300.0, ``'1h'`` -> 3600.0; plain numbers are seconds.

    >>> parse_duration("90s"), parse_duration("2m"), parse_duration(0.5), parse_duration("250ms")
    (90.0, 120.0, 0.5, 0.25)
    """
    if isinstance(text, int | float) and not isinstance(text, bool):
        value = float(text)
    else:
        m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*", str(text))
        if not m or m.group(2).lower() not in _DURATION_UNITS:
            raise UsageError(f"{what} {text!r} is not a duration; write it like 60s, 5m or 1h")
        value = float(m.group(1)) * _DURATION_UNITS[m.group(2).lower()]
    if value <= 0:
        raise UsageError(f"{what} must be positive, not {text!r}")
    return value


def parse_partition_by(value: str | list | tuple) -> tuple[str, ...]:
    """``'year,month'`` -> ('year', 'month'); only a prefix of year, month, day is allowed."""
    items = [v.strip().lower() for v in (value.split(",") if isinstance(value, str) else value) if str(v).strip()]
    if tuple(items) not in [PARTITION_GRAINS[:n] for n in range(1, 4)]:
        raise UsageError(
            f"--partition-by {','.join(map(str, items)) or value!r} is not a time grain; "
            "use year,month,day or year,month or year"
        )
    return tuple(items)


@dataclass(frozen=True)
class Layout:
    table: str
    format: str = "parquet"
    compression: str = "zstd"
    timestamp_column: str | None = None
    partition_by: tuple[str, ...] = PARTITION_GRAINS
    target_file_size: int = 128 << 20
    columns: dict[str, str] = field(default_factory=dict)
    projection: bool = False
    #: where it came from, for messages and lint positions
    path: str = "<layout>"
    #: the mapping as written, for lint rules that look at raw keys
    raw: Mapping[str, Any] = field(default_factory=dict)


def parse_layout(data: Mapping[str, Any], path: str = "<layout>") -> Layout:
    if not isinstance(data, Mapping):
        raise UsageError(f"{path}: a layout file must be a YAML mapping of settings")
    known = {"table", "format", "compression", "timestamp_column", "partition_by", "target_file_size",
             "columns", "projection", "description", "location"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise UsageError(f"{path}: unknown layout setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    if not data.get("table"):
        raise UsageError(f"{path}: 'table: DB.TABLE' is required")
    fmt = str(data.get("format", "parquet")).lower()
    if fmt not in FORMATS:
        raise UsageError(f"{path}: format {fmt!r} is unknown; use one of {', '.join(FORMATS)}")
    compression = str(data.get("compression", "zstd")).lower()
    if compression in ("uncompressed", "null", "false"):
        compression = "none"
    columns = data.get("columns") or {}
    if not isinstance(columns, Mapping):
        raise UsageError(f"{path}: columns must map column names to Athena types")
    partition_by = data.get("partition_by", list(PARTITION_GRAINS))
    return Layout(
        table=str(data["table"]),
        format=fmt,
        compression=compression,
        timestamp_column=data.get("timestamp_column"),
        partition_by=parse_partition_by(partition_by) if partition_by else (),
        target_file_size=parse_size(data.get("target_file_size", 128 << 20), "target_file_size"),
        columns={str(k): str(v) for k, v in columns.items()},
        projection=bool(data.get("projection", False)),
        path=path,
        raw=dict(data),
    )


def load_layout(path: str) -> Layout:
    import yaml  # only a command given a layout file pays for the YAML parser

    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except FileNotFoundError:
        raise UsageError(f"layout file {path} not found") from None
    except (yaml.YAMLError, UnicodeDecodeError) as ex:
        raise UsageError(f"{path}: not valid YAML ({first_line(ex)})") from ex
    return parse_layout(data, path)
