"""Blocks of raw lines -> Arrow tables, with every bad record set aside, not lost.

The fast path hands a whole block to pyarrow's C++ JSON or CSV reader. Only when that
fails does the block get split: pyarrow names the failing row for most errors, so the
good run before it is parsed in one piece, the bad row is rejected, and parsing goes on
after it; errors without a row number are narrowed down by halving. A block with one
bad line costs about two parses, not one per line.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Callable, Sequence

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson

from lakekit.ingest.sources import Block


@dataclass(frozen=True)
class Reject:
    source: str
    line: int
    error: str
    raw: bytes

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "line": self.line,
            "error": self.error,
            "raw": self.raw.decode("utf-8", "backslashreplace"),
        }


@dataclass
class Parsed:
    """What one block became: tables (in line order) and rejects."""

    tables: list[pa.Table] = field(default_factory=list)
    #: for each table, the source line number of each of its rows (only kept when a
    #: later step may need to reject single rows; None means "first_line + i")
    line_numbers: list[list[int] | None] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    records: int = 0


_ROW_JSON = re.compile(r"in row (\d+)")
_ROW_CSV = re.compile(r"Row #(\d+)")


class _RowError(Exception):
    def __init__(self, index: int | None, message: str):
        self.index, self.message = index, message


def _first_line(message: str) -> str:
    """The error's first line, without pyarrow's block-relative row number."""
    if not message.strip():
        return "unparseable record"
    line = message.strip().splitlines()[0]
    return _ROW_CSV.sub("", _ROW_JSON.sub("", line)).replace(": :", ":").strip().rstrip(".").strip()


def _pinnable(t: pa.DataType) -> pa.DataType | None:
    """The type to parse a column as once inferred: timestamps stay text (converted
    later, whatever their format), null-typed columns stay open."""
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return pa.string()
    if pa.types.is_null(t):
        return None
    return t


class JsonParser:
    """JSON Lines, parsed against the schema known so far; new fields are inferred."""

    def __init__(self, schema: pa.Schema | None):
        self.schema = schema

    def pin(self, inferred: pa.Schema) -> None:
        """Parse the rest of a split block with the types its first piece settled, so
        the pieces of one block cannot disagree about a column's type."""
        known = set(self.schema.names) if self.schema is not None else set()
        extra = [(f.name, _pinnable(f.type)) for f in inferred if f.name not in known]
        extra = [(n, t) for n, t in extra if t is not None]
        if extra:
            self.schema = pa.schema(list(self.schema or []) + [pa.field(n, t) for n, t in extra])

    def __call__(self, data: bytes) -> pa.Table:
        opts = pajson.ParseOptions(explicit_schema=self.schema, unexpected_field_behavior="infer")
        # One block, one thread: the row numbers in errors then index this block, and
        # blocks are parsed in parallel one level up.
        read = pajson.ReadOptions(use_threads=False, block_size=max(len(data) + 1, 1 << 16))
        try:
            return pajson.read_json(io.BytesIO(data), read_options=read, parse_options=opts)
        except pa.ArrowInvalid as ex:
            msg = str(ex)
            m = _ROW_JSON.search(msg)
            raise _RowError(int(m.group(1)) if m else None, _first_line(msg)) from None


class CsvParser:
    """CSV with a known header; column types fixed after the first block."""

    def __init__(self, column_names: list[str], column_types: dict[str, pa.DataType] | None, delimiter: str = ","):
        self.column_names = column_names
        self.column_types = column_types
        self.delimiter = delimiter

    def pin(self, inferred: pa.Schema) -> None:
        """As :meth:`JsonParser.pin`: later pieces of a split block keep these types."""
        types = dict(self.column_types or {})
        for f in inferred:
            t = _pinnable(f.type)
            if f.name not in types and t is not None:
                types[f.name] = t
        self.column_types = types

    def __call__(self, data: bytes) -> pa.Table:
        bad: list[tuple[int, str]] = []

        def on_invalid(row) -> str:
            bad.append((row.number, f"expected {row.expected_columns} fields, found {row.actual_columns}"))
            return "skip"

        read = pacsv.ReadOptions(
            use_threads=False, block_size=max(len(data) + 1, 1 << 16), column_names=self.column_names
        )
        parse = pacsv.ParseOptions(delimiter=self.delimiter, invalid_row_handler=on_invalid, newlines_in_values=True)
        convert = pacsv.ConvertOptions(column_types=self.column_types or {}, strings_can_be_null=False)
        try:
            table = pacsv.read_csv(io.BytesIO(data), read_options=read, parse_options=parse, convert_options=convert)
        except pa.ArrowInvalid as ex:
            msg = str(ex)
            m = _ROW_CSV.search(msg)
            raise _RowError(int(m.group(1)) - 1 if m else None, _first_line(msg)) from None
        if bad:
            # A wrong field count is a reject like any other; the row trick splits there.
            number, message = bad[0]
            raise _RowError(number - 1 if number else None, message)
        return table


def _records(block: Block) -> list[tuple[int, bytes]]:
    """(line number, bytes) of each non-blank line; blank lines are not records."""
    out = []
    line = block.first_line
    for raw in block.data.split(b"\n"):
        if raw.strip():
            out.append((line, raw))
        line += 1
    return out


def _csv_records(block: Block) -> list[tuple[int, bytes]]:
    """Like :func:`_records`, joining lines while a quoted field is open."""
    out = []
    line = block.first_line
    pending: list[bytes] = []
    start = line
    for raw in block.data.split(b"\n"):
        if not pending:
            start = line
        pending.append(raw)
        line += 1
        joined = b"\n".join(pending)
        if joined.count(b'"') % 2 == 0:
            if joined.strip():
                out.append((start, joined))
            pending = []
    if pending and b"\n".join(pending).strip():
        out.append((start, b"\n".join(pending)))
    return out


def _check_utf8(block: Block, records: list[tuple[int, bytes]] | None) -> tuple[list[tuple[int, bytes]] | None, list[Reject]]:
    """Invalid UTF-8 lines become rejects. Decoding is fast, so clean blocks pay little."""
    if block.data.isascii():  # no allocation, and true for most machine-made data
        return records, []
    try:
        block.data.decode("utf-8")
        return records, []
    except UnicodeDecodeError:
        pass
    records = records if records is not None else _records(block)
    good, rejects = [], []
    for line, raw in records:
        try:
            raw.decode("utf-8")
            good.append((line, raw))
        except UnicodeDecodeError as ex:
            rejects.append(Reject(block.source.name, line, f"invalid UTF-8 at byte {ex.start}", raw))
    return good, rejects


def parse_block(block: Block, parser: Callable[[bytes], pa.Table], csv: bool = False, header: bytes = b"") -> Parsed:
    """Parse one block; never raises for bad records, returns them as rejects."""
    records, rejects = _check_utf8(block, None)
    out = Parsed(rejects=rejects)
    if records is None:
        try:
            table = parser(block.data)
            out.tables.append(table)
            out.line_numbers.append(None)
            out.records = table.num_rows
            return out
        except _RowError:
            records = _csv_records(block) if csv else _records(block)
    out.records = len(records) + len(rejects)
    _parse_records(records, parser, block.source.name, out)
    return out


def _parse_records(records: Sequence[tuple[int, bytes]], parser, source: str, out: Parsed) -> None:
    start = 0
    while start < len(records):
        segment = records[start:]
        try:
            table = parser(b"\n".join(raw for _, raw in segment))
        except _RowError as err:
            if err.index is not None and 0 <= err.index < len(segment):
                if err.index > 0:
                    _parse_records(segment[: err.index], parser, source, out)
                line, raw = segment[err.index]
                out.rejects.append(Reject(source, line, err.message, raw))
                start += err.index + 1
                continue
            if len(segment) == 1:
                line, raw = segment[0]
                out.rejects.append(Reject(source, line, err.message, raw))
                return
            half = len(segment) // 2
            _parse_records(segment[:half], parser, source, out)
            _parse_records(segment[half:], parser, source, out)
            return
        if table.num_rows != len(segment):  # the parser dropped or merged something
            _bisect_mismatch(segment, parser, source, out)
            return
        out.tables.append(table)
        out.line_numbers.append([line for line, _ in segment])
        parser.pin(table.schema)
        return


def _bisect_mismatch(segment, parser, source: str, out: Parsed) -> None:
    if len(segment) == 1:
        line, raw = segment[0]
        out.rejects.append(Reject(source, line, "record did not parse to exactly one row", raw))
        return
    half = len(segment) // 2
    _parse_records(segment[:half], parser, source, out)
    _parse_records(segment[half:], parser, source, out)
