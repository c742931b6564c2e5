"""``--transform MODULE:FUNCTION``: a Lambda-style record transformation before parsing.

The function receives a list of records (dicts parsed from JSON Lines) and returns one
result per record, in order, as a delivery stream's transformation Lambda does:

- a ``dict`` or :class:`Ok` ``(record)``: the record to write;
- :class:`ProcessingFailed` ``(error)``: the record is a reject (error type
  ``transform``), kept with its raw text.

A call that raises is retried on halves of its list until the records it fails on are
found; each of those is a reject with the exception as its error, the others are
written. A result list of the wrong length, or a result of another type, rejects the
records it covers. So every record still ends up exactly once: in the table or in the
rejects file.

>>> def upper_name(records):
...     return [{**r, "name": r["name"].upper()} if r.get("name") else ProcessingFailed("no name")
...             for r in records]
>>> from lakekit.ingestion.sources import Block, Source
>>> block = Block(b'{"name": "ada"}\\n{"id": 2}\\n', 1, Source("x.jsonl", 0))
>>> out, rejects = Transformer(upper_name, "m:upper_name").apply(block)
>>> out.data, [(r.line, r.error) for r in rejects]
(b'{"name": "ADA"}\\n\\n', [(2, 'transform: no name')])
"""

from __future__ import annotations

import datetime as dt
import decimal
import importlib
import json
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lakekit.errors import UsageError, first_line
from lakekit.ingestion.framing import split_values
from lakekit.ingestion.parse import Reject
from lakekit.ingestion.sources import Block

__all__ = ["Ok", "ProcessingFailed", "Transformer", "load_transform"]

ERROR_PREFIX = "transform: "


@dataclass(frozen=True)
class Ok:
    """The record to write (a plain ``dict`` result means the same)."""

    record: dict


@dataclass(frozen=True)
class ProcessingFailed:
    """The record could not be transformed: it becomes a reject carrying ``error``."""

    error: str = "processing failed"


def load_transform(spec: str) -> Transformer:
    """Import ``MODULE:FUNCTION`` (the working directory is on the import path).

    >>> load_transform("json:dumps").name
    'json:dumps'
    """
    module_name, sep, function_name = spec.partition(":")
    if not sep or not module_name or not function_name:
        raise UsageError(f"--transform {spec!r}: write it as MODULE:FUNCTION, e.g. mytransforms:enrich")
    if "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, "")  # `lakekit ingest --transform mymod:f` finds ./mymod.py, as `python -m` would
    try:
        module = importlib.import_module(module_name)
    except Exception as ex:  # whatever the user's module raises on import, said in one line
        raise UsageError(f"--transform {spec}: cannot import {module_name}: {first_line(ex)}") from ex
    fn = getattr(module, function_name, None)
    if not callable(fn):
        raise UsageError(f"--transform {spec}: {module_name} has no function {function_name}")
    return Transformer(fn, spec)


def _objects(line: bytes) -> list[tuple[bytes, dict]]:
    """The JSON objects on one line (JSON Lines may hold several, ``{...} {...}``); a
    line that is not JSON objects is none, left for the parser to reject."""
    if not line.strip():
        return []
    try:
        value = json.loads(line)
    except ValueError:
        values = split_values(line.decode("utf-8", "surrogateescape"))
        if not values:
            return []
        try:
            parsed = [(text.encode("utf-8", "surrogateescape"), json.loads(text)) for _, text in values]
        except ValueError:
            return []
        return parsed if all(isinstance(v, dict) for _, v in parsed) else []
    return [(line, value)] if isinstance(value, dict) else []


def _json_default(value: Any) -> Any:
    """What a transformed record may hold beyond JSON's types: times and decimals."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


class Transformer:
    """Applies a transformation function to blocks of JSON Lines."""

    def __init__(self, fn: Callable[[list[dict]], list], name: str):
        self.fn = fn
        self.name = name
        # Blocks are prepared on two threads; the user's function is called by one at a
        # time, so it need not be thread-safe (it holds the GIL anyway).
        self._lock = threading.Lock()

    def apply(self, block: Block) -> tuple[Block, list[Reject]]:
        """The block with each record replaced by its transformation (a failed one by a
        blank line, so every other keeps its line number), and the rejects."""
        lines = block.data.split(b"\n")
        records: list[dict] = []
        where: list[tuple[int, bytes]] = []  # (index in ``lines``, raw text) of each record
        for i, line in enumerate(lines):
            for raw, value in _objects(line):
                records.append(value)
                where.append((i, raw))
        rejects: list[Reject] = []
        kept: dict[int, list[bytes]] = {}
        for (index, raw), result in zip(where, self._results(records)):
            text = self._encode(result)
            if isinstance(text, ProcessingFailed):
                rejects.append(Reject(block.source.name, block.first_line + index, ERROR_PREFIX + text.error, raw,
                                      "transform"))
                kept.setdefault(index, [])
            else:
                kept.setdefault(index, []).append(text)
        for index, texts in kept.items():
            lines[index] = b" ".join(texts)  # a line of several objects stays one line
        return Block(b"\n".join(lines), block.first_line, block.source, block.kind), rejects

    def _encode(self, result: Any) -> bytes | ProcessingFailed:
        if isinstance(result, ProcessingFailed):
            return ProcessingFailed(str(result.error))
        record = result.record if isinstance(result, Ok) else result
        if not isinstance(record, dict):
            return ProcessingFailed(f"{self.name} returned {type(record).__name__} for a record; "
                                    "return a dict, Ok(record) or ProcessingFailed(error)")
        try:
            return json.dumps(record, ensure_ascii=False, default=_json_default, allow_nan=False).encode("utf-8")
        except (TypeError, ValueError) as ex:
            return ProcessingFailed(f"{self.name} returned a record JSON cannot hold: {first_line(ex)}")

    def _results(self, records: list[dict]) -> list[Any]:
        """One result per record; the records a call fails on found by halving."""
        if not records:
            return []
        try:
            with self._lock:
                results = self.fn([dict(r) for r in records])
        except Exception as ex:  # noqa: BLE001 - the user's code failing on a record is a reject, not a crash
            if len(records) == 1:
                return [ProcessingFailed(f"{type(ex).__name__}: {first_line(ex)}")]
            half = len(records) // 2
            return self._results(records[:half]) + self._results(records[half:])
        if not isinstance(results, list | tuple) or len(results) != len(records):
            got = f"{len(results)} results" if isinstance(results, list | tuple) else type(results).__name__
            return [ProcessingFailed(f"{self.name} returned {got} for {len(records)} records; "
                                     "return one result per record, in order")] * len(records)
        return list(results)
