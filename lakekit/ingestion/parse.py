"""Blocks of raw lines -> Arrow tables, with every bad record set aside, not lost.

The fast path hands a whole block to pyarrow's C++ JSON or CSV reader. Only when that
fails does the block get split: pyarrow names the failing row for most errors, so the
good run before it is parsed in one piece, the bad row is rejected, and parsing goes on
after it; errors without a row number are narrowed down by halving. A block with one
bad line costs about two parses, not one per line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson

from lakekit.ingestion.sources import Block


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
            return pajson.read_json(pa.BufferReader(data), read_options=read, parse_options=opts)
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
            table = pacsv.read_csv(pa.BufferReader(data), read_options=read, parse_options=parse, convert_options=convert)
        except pa.ArrowInvalid as ex:
            msg = str(ex)
            m = _ROW_CSV.search(msg)
            raise _RowError(int(m.group(1)) - 1 if m else None, _first_line(msg)) from None
        if bad:
            # A wrong field count is a reject like any other; the row trick splits there.
            number, message = bad[0]
            raise _RowError(number - 1 if number else None, message)
        return table


def line_records(block: Block) -> list[tuple[int, bytes]]:
    """(line number, bytes) of each non-blank line; blank lines are not records."""
    out = []
    line = block.first_line
    for raw in block.data.split(b"\n"):
        if raw.strip():
            out.append((line, raw))
        line += 1
    return out


def _csv_records(block: Block) -> list[tuple[int, bytes]]:
    """Like :func:`line_records`, joining lines while a quoted field is open."""
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


def _check_utf8(block: Block, csv: bool) -> tuple[list[tuple[int, bytes]] | None, list[Reject]]:
    """Invalid UTF-8 records become rejects; the others are returned split into records
    (``None`` when the whole block is valid). Decoding is fast: clean blocks pay little."""
    if block.data.isascii():  # no allocation, and true for most machine-made data
        return None, []
    try:
        block.data.decode("utf-8")
        return None, []
    except UnicodeDecodeError:
        pass
    records = _csv_records(block) if csv else line_records(block)
    good, rejects = [], []
    for line, raw in records:
        try:
            raw.decode("utf-8")
            good.append((line, raw))
        except UnicodeDecodeError as ex:
            rejects.append(Reject(block.source.name, line, f"invalid UTF-8 at byte {ex.start}", raw))
    return good, rejects


def parse_block(block: Block, parser: Callable[[bytes], pa.Table], csv: bool = False) -> Parsed:
    """Parse one block; never raises for bad records, returns them as rejects."""
    records, rejects = _check_utf8(block, csv)
    out = Parsed(rejects=rejects)
    if records is None:
        try:
            table = parser(block.data)
            out.tables.append(table)
            out.line_numbers.append(None)
            out.records = table.num_rows
            return out
        except _RowError:
            records = _csv_records(block) if csv else line_records(block)
    out.records = len(records) + len(rejects)
    if not csv:
        records = _unframed_aside(records, block.source.name, out)
    if records:
        splitter = _Splitter(records, parser, block.source.name, out)
        splitter.run(0, len(records))
        splitter.finish()
    _merge_pieces(out)
    return out


def _unframed_aside(records: Sequence[tuple[int, bytes]], source: str, out: Parsed) -> list[tuple[int, bytes]]:
    """Reject lines that cannot be a JSON object, without parsing them.

    A truncated line (a crashed writer, a cut-off log) is the commonest bad record;
    a byte check finds it for a fraction of what a parse attempt costs.
    """
    kept = []
    for line, raw in records:
        body = raw.strip()
        if body[:1] == b"{" and body[-1:] == b"}":
            kept.append((line, raw))
        else:
            what = "start with '{'" if body[:1] != b"{" else "end with '}' (truncated?)"
            out.rejects.append(Reject(source, line, f"malformed JSON: the record does not {what}", raw))
    return kept


class _Splitter:
    """Parses the records of a failing block in windows, setting bad ones aside.

    Records sit in one buffer with their offsets, so any run of them is a zero-copy
    slice. A window that parses doubles the next one (clean stretches go fast); a
    window that fails shrinks it, so each bad record costs a parse of a short run,
    not of the rest of the block.
    """

    SMALL, LARGE = 128, 1 << 16

    def __init__(self, records: Sequence[tuple[int, bytes]], parser, source: str, out: Parsed):
        self.lines = [line for line, _ in records]
        self.raws = [raw for _, raw in records]
        self.parser, self.source, self.out = parser, source, out
        self.offsets = [0]
        for raw in self.raws:
            self.offsets.append(self.offsets[-1] + len(raw) + 1)
        self.view = memoryview(b"\n".join(self.raws) + b"\n")
        self.window = self.SMALL
        #: runs known good (they came before a bad record in a failed window), parsed
        #: together at the end: one parse for all of them instead of one each
        self.deferred: list[tuple[int, int]] = []
        self.defer = True

    def _data(self, i: int, j: int):
        return self.view[self.offsets[i] : self.offsets[j] - 1]

    def _reject(self, i: int, message: str) -> None:
        self.out.rejects.append(Reject(self.source, self.lines[i], message, self.raws[i]))

    def run(self, i: int, j: int) -> None:
        pos = i
        while pos < j:
            end = min(pos + self.window, j)
            try:
                table = self.parser(self._data(pos, end))
            except _RowError as err:
                self.window = self.SMALL
                if err.index is not None and 0 <= err.index < end - pos:
                    bad = pos + err.index
                    if bad > pos:
                        # Until one piece has parsed, its types are not pinned yet: parse
                        # now, so the earliest good records settle them, as in a clean block.
                        if self.defer and self.out.tables:
                            self.deferred.append((pos, bad))
                        else:
                            self.run(pos, bad)
                    self._reject(bad, err.message)
                    pos = bad + 1
                elif end - pos == 1:
                    self._reject(pos, err.message)
                    pos = end
                else:  # no row named: halve until the bad record is alone
                    mid = pos + (end - pos) // 2
                    self.run(pos, mid)
                    self.run(mid, end)
                    pos = end
                continue
            if table.num_rows != end - pos:  # a record that is not exactly one row
                if end - pos == 1:
                    self._reject(pos, "record did not parse to exactly one row")
                else:
                    mid = pos + (end - pos) // 2
                    self.run(pos, mid)
                    self.run(mid, end)
                pos = end
                continue
            self.out.tables.append(table)
            self.out.line_numbers.append(self.lines[pos:end])
            self.parser.pin(table.schema)
            self.window = min(self.window * 2, self.LARGE)
            pos = end


    def finish(self) -> None:
        """Parse the deferred good runs, all in one call when they agree."""
        runs, self.deferred, self.defer = self.deferred, [], False
        if not runs:
            return
        total = sum(j - i for i, j in runs)
        try:
            table = self.parser(b"\n".join(self._data(i, j) for i, j in runs))
        except _RowError:
            table = None
        if table is not None and table.num_rows == total:
            self.out.tables.append(table)
            self.out.line_numbers.append([line for i, j in runs for line in self.lines[i:j]])
            return
        for i, j in runs:  # they disagree (say, a new field typed two ways): one by one
            self.run(i, j)


def _merge_pieces(out: Parsed) -> None:
    """One table for a split block, so it is conformed and written as one."""
    if len(out.tables) < 2:
        return
    try:
        merged = pa.concat_tables(out.tables, promote_options="default")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return  # pieces disagree on a type: conform them one by one
    lines: list[int] = []
    for piece_lines in out.line_numbers:
        lines.extend(piece_lines)
    out.tables, out.line_numbers = [merged], [lines]
