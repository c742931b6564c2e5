"""The cost baseline of ``lakekit lint query --baseline/--write-baseline``: one JSON
object, SQL file path -> the estimated bytes its statements scan, kept in the
repository so CI sees when a change makes a query dearer (Q012 cost-increase).

>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "baseline.json")
>>> write_baseline(path, {"queries/daily.sql": 1048576})
>>> read_baseline(path)
{'queries/daily.sql': 1048576}
"""

from __future__ import annotations

import json

from lakekit.errors import UsageError


def write_baseline(path: str, estimates: dict[str, int]) -> None:
    """Record a run's estimates (path -> bytes scanned) for a later ``--baseline``."""

    try:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(dict(sorted(estimates.items())), f, indent=2)
            f.write("\n")
    except OSError as ex:
        raise UsageError(f"cannot write the baseline {path}: {ex.strerror}") from ex


def read_baseline(path: str) -> dict[str, int]:
    """A baseline written by ``--write-baseline``: one JSON object, path -> bytes."""

    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise UsageError(f"baseline {path} not found; write one with --write-baseline {path}") from None
    except (OSError, ValueError) as ex:
        raise UsageError(f"baseline {path} is not a JSON object of path -> bytes ({ex})") from ex
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) for k, v in data.items()
    ):
        raise UsageError(f"baseline {path} is not a JSON object of path -> bytes; rewrite it with --write-baseline")
    return data
