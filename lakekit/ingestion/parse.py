"""Blocks of records -> Arrow tables, with every bad record set aside, not lost.

The fast path hands a whole block to pyarrow's C++ JSON or CSV reader. Only when that
fails does the block get split into its records (framed exactly, so each reject has
its own line and text): for JSON, pyarrow names the failing row for most errors, so
the good run before it is parsed in one piece, the bad row is rejected, and parsing
goes on after it; errors without a row number are narrowed down by halving. A block
with one bad line costs about two parses, not one per line. CSV is read as text (the
value rules type it later), so only a wrong field count fails a CSV record here, and
the framer counts fields itself.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson

from lakekit.ingestion.arrays import bool_mask
from lakekit.ingestion.framing import MAX_NESTING, may_be_too_deep, nesting_depth, refrain_damaged, split_values
from lakekit.ingestion.sources import Block
from lakekit.ingestion.values import NULL_MARKERS

_VALUE_IN_ERROR = re.compile(r"(couldn't parse:).*$")


@dataclass(frozen=True)
class Reject:
    source: str
    line: int
    error: str
    raw: bytes
    #: the error without the value, which the summary of common errors counts
    kind: str | None = None

    @property
    def summary(self) -> str:
        return self.kind or _VALUE_IN_ERROR.sub(r"\1 ...", self.error)

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
    #: for each table, the (line, raw) record of each of its rows; None when the table
    #: is the whole block parsed at once (its rows are then the block's records)
    row_records: list[list[tuple[int, bytes]] | None] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    records: int = 0


_ROW_JSON = re.compile(r"in row (\d+)")
_ROW_CSV = re.compile(r"Row #(\d+)")


class _RowError(Exception):
    def __init__(self, index: int | None, message: str):
        self.index, self.message = index, message


class _FieldCountError(_RowError):
    """CSV records with the wrong number of fields: pyarrow skipped them and read the
    rest; ``numbers`` are their 1-based positions among the block's records."""

    def __init__(self, numbers: list[int], table: pa.Table):
        super().__init__(None, "wrong number of fields")
        self.numbers, self.table = numbers, table


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

    def __init__(self, schema: pa.Schema | None, multiline: bool = False):
        self.schema = schema
        # JSON arrays and pretty-printed values hold records across lines.
        self.multiline = multiline

    def pin(self, inferred: pa.Schema) -> None:
        """Parse the rest of a split block with the types its first piece settled, so
        the pieces of one block cannot disagree about a column's type."""
        known = set(self.schema.names) if self.schema is not None else set()
        extra = [(f.name, _pinnable(f.type)) for f in inferred if f.name not in known]
        extra = [(n, t) for n, t in extra if t is not None]
        if extra:
            self.schema = pa.schema(list(self.schema or []) + [pa.field(n, t) for n, t in extra])

    def __call__(self, data: bytes) -> pa.Table:
        try:
            table = self._read(data, self.schema)
        except _RowError as err:
            # A bigint column holding 1.0 (an integral number written as a double):
            # read those columns unpinned, and let the value rules take 1.0 as 1.
            ints = [f.name for f in self.schema or [] if pa.types.is_int64(f.type)]
            if "Failed to convert JSON to int64" not in err.message or not ints:
                raise
            loose = pa.schema([f for f in self.schema if f.name not in ints])
            table = self._read(data, loose if len(loose) else None)
        # pyarrow guesses timestamps from text, losing what tells a date from a
        # timestamp; new top-level columns it typed so are read again as text, which
        # the value rules type (once per new column, not per block).
        guessed = [f.name for f in table.schema if pa.types.is_timestamp(f.type)
                   and (self.schema is None or f.name not in self.schema.names)]
        if guessed:
            order = table.column_names
            pinned = pa.schema(list(self.schema or []) + [pa.field(n, pa.string()) for n in guessed])
            table = self._read(data, pinned)
            # An explicit schema puts its fields first; keep the source's order.
            table = table.select(order + [n for n in table.column_names if n not in order])
        return table

    def _read(self, data: bytes, schema: pa.Schema | None) -> pa.Table:
        opts = pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer",
                                   newlines_in_values=self.multiline)
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
    """CSV read as text: every column a string, null markers already NULL.

    Types come later from the value rules, which keep ``02134`` text and tell dates
    apart; pyarrow's own inference would turn codes into numbers. Columns are named
    by position (``f0``, ``f1``, ...), the header mapped on by the caller.
    """

    def __init__(self, width: int, delimiter: str = ",", null_values: tuple[str, ...] = NULL_MARKERS):
        self.names = [f"f{i}" for i in range(width)]
        self.delimiter = delimiter
        self.null_values = list(null_values)

    def pin(self, inferred: pa.Schema) -> None:
        """Text stays text: nothing to pin."""

    def __call__(self, data: bytes) -> pa.Table:
        bad: list[int] = []

        def on_invalid(row) -> str:
            bad.append(row.number)
            return "skip"

        read = pacsv.ReadOptions(use_threads=False, block_size=max(len(data) + 1, 1 << 16), column_names=self.names)
        parse = pacsv.ParseOptions(delimiter=self.delimiter, invalid_row_handler=on_invalid, newlines_in_values=True)
        convert = pacsv.ConvertOptions(column_types=dict.fromkeys(self.names, pa.string()), null_values=self.null_values,
                                       strings_can_be_null=True, quoted_strings_can_be_null=True)
        try:
            table = pacsv.read_csv(pa.BufferReader(data), read_options=read, parse_options=parse, convert_options=convert)
        except pa.ArrowInvalid as ex:
            raise _RowError(None, _first_line(str(ex))) from None
        if bad:
            raise _FieldCountError(bad, table)
        return table


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
    records = block.records()
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
    pre = [Reject(block.source.name, line, error, raw) for line, error, raw in block.rejects]
    if not csv and block.data and may_be_too_deep(block.data, block.data.count(b"\n") or 1):
        block, deep = _set_aside_deep(block)
        pre.extend(deep)
    records, rejects = _check_utf8(block, csv)
    out = Parsed(rejects=pre + rejects)
    if records is None:
        try:
            table = parser(block.data) if block.data else None
        except _FieldCountError as err:
            if _short_rows_aside(block, err, out, len(parser.names)):
                return out
            records = block.records()
        except _RowError:
            records = block.records()
        else:
            if table is not None:
                out.tables.append(table)
                out.row_records.append(None)
                out.records = table.num_rows + len(pre)
            else:
                out.records = len(pre)
            return out
    out.records = len(records) + len(out.rejects)
    if csv:
        _parse_csv_records(records, parser, block, out)
        return out
    records = _unframed_aside(records, block.source.name, out)
    before = len(out.rejects)
    records = _wrong_kinds_aside(records, getattr(parser, "schema", None), block.source.name, out)
    if records:
        splitter = _Splitter(records, parser, block.source.name, out)
        if len(out.rejects) > before:
            # The bad records the pre-pass could name are out: most likely the rest
            # parses in one call, and one failed attempt costs no more than the
            # doubling windows would have.
            splitter.window = splitter.LARGE
        splitter.run(0, len(records))
        splitter.finish()
    _merge_pieces(out)
    return out


def _short_rows_aside(block: Block, err: _FieldCountError, out: Parsed, width: int) -> bool:
    """The common CSV case, rows with a wrong field count: pyarrow has read the others,
    so only the bad ones are looked up among the framed records. False when a bad row
    spans lines (it may be a stray quote that swallowed others: the slow path re-frames
    it) or the framing and pyarrow disagree."""
    records = block.records()
    bad = {n - 1 for n in err.numbers}
    if len(records) != err.table.num_rows + len(bad) or any(
            n >= len(records) or b"\n" in records[n][1] or b"\r" in records[n][1] for n in bad):
        return False
    for n in sorted(bad):
        line, raw = records[n]
        count = block.grammar.field_count(raw)
        kind = f"expected {width} fields, found {count}" if count >= 0 else "malformed CSV record"
        out.rejects.append(Reject(block.source.name, line, kind, raw, kind))
    out.tables.append(err.table)
    out.row_records.append([r for i, r in enumerate(records) if i not in bad])
    out.records = len(records) + len(out.rejects) - len(bad)
    return True


def _set_aside_deep(block: Block) -> tuple[Block, list[Reject]]:
    """Reject records nested deeper than MAX_NESTING before a parser sees them (pyarrow
    crashes the process on a record some thousands of levels deep)."""
    keep, deep = [], []
    for line, raw in block.records(split_lines=True):
        if raw.count(b"{") + raw.count(b"[") > MAX_NESTING and \
                nesting_depth(raw.decode("utf-8", "surrogateescape")) > MAX_NESTING:
            deep.append(Reject(block.source.name, line, f"record nested deeper than {MAX_NESTING} levels", raw))
        else:
            keep.append((line, raw))
    if not deep:
        return block, []
    data = b"\n".join(raw for _, raw in keep) + b"\n" if keep else b""
    kept = Block(data, keep[0][0] if keep else block.first_line, block.source, block.kind, keep, [], block.grammar)
    return kept, deep


def _parse_csv_records(records: list[tuple[int, bytes]], parser, block: Block, out: Parsed) -> None:
    """The slow path for CSV: the framer counts each record's fields; records with the
    wrong count are rejects (a multi-line one is re-framed: its first line is the
    damaged record), the rest are parsed together."""
    width = len(parser.names)
    grammar = block.grammar
    records, damaged = refrain_damaged(grammar, records, width)
    for line, raw in damaged:
        out.rejects.append(Reject(block.source.name, line, "unterminated quoted field (a stray quote?)", raw,
                                  "unterminated quoted field (a stray quote?)"))
    good = []
    for line, raw in records:
        count = grammar.field_count(raw)
        if count == width:
            good.append((line, raw))
        else:
            kind = f"expected {width} fields, found {count}" if count >= 0 else "malformed CSV record"
            out.rejects.append(Reject(block.source.name, line, kind, raw, kind))
    out.records = len(good) + len(out.rejects)
    if not good:
        return
    try:
        table = parser(b"\n".join(raw for _, raw in good) + b"\n")
        if table.num_rows != len(good):
            raise _RowError(None, "record did not parse to exactly one row")
        out.tables.append(table)
        out.row_records.append(good)
    except _RowError:
        for line, raw in good:  # the framer and the parser disagree: one at a time
            try:
                table = parser(raw + b"\n")
            except _RowError as err:
                table, message = None, err.message
            if table is not None and table.num_rows == 1:
                out.tables.append(table)
                out.row_records.append([(line, raw)])
            else:
                out.rejects.append(Reject(block.source.name, line, message if table is None else "unparseable CSV record", raw))
        _merge_pieces(out)


def _unframed_aside(records: Sequence[tuple[int, bytes]], source: str, out: Parsed) -> list[tuple[int, bytes]]:
    """Reject lines that cannot be a JSON object, without parsing them.

    A truncated line (a crashed writer, a cut-off log) is the commonest bad record;
    a byte check finds it for a fraction of what a parse attempt costs.
    """
    kept = []
    for line, raw in records:
        if raw[:1] == b"{" and raw[-1:] == b"}":  # nearly every record: no copy to strip
            kept.append((line, raw))
            continue
        body = raw.strip()
        if body[:1] == b"{" and body[-1:] == b"}":
            kept.append((line, raw))
        else:
            what = "start with '{'" if body[:1] != b"{" else "end with '}' (truncated?)"
            out.rejects.append(Reject(source, line, f"malformed JSON: the record does not {what}", raw))
    return kept


#: the JSON kind pyarrow's reader expects for a column of each type, as its errors name them
def _expected_kind(t: pa.DataType) -> str | None:
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "number"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return "array"
    if pa.types.is_struct(t):
        return "object"
    return None  # other types: the parser decides


#: the characters a JSON value of each kind can start with
_KIND_STARTS = {"number": "-0-9", "string": '"', "boolean": "tf", "array": r"\[", "object": "{"}
_ALL_STARTS = "".join(_KIND_STARTS.values())


class _Pairs(list):
    """A JSON object's (key, value) pairs in document order, duplicates kept."""


def _kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object" if isinstance(value, _Pairs) else "array"


def _wrong_kinds_aside(records: list[tuple[int, bytes]], schema: pa.Schema | None, source: str,
                       out: Parsed) -> list[tuple[int, bytes]]:
    """Reject, in one pass over a failing block, the records whose value for a known
    column has the wrong JSON kind (``"user_id": "n/a"`` in a bigint column), with the
    error pyarrow's reader gives for them; returns the other records.

    This is the commonest bad record after a truncated line, and finding each by
    parsing costs a parser call per record. A regular expression over all lines at
    once (Arrow's RE2 kernel) picks the candidates; each is decoded with ``json``,
    and rejected only when that settles what pyarrow would say: valid JSON whose
    first top-level field pyarrow would refuse is a known column of the wrong kind,
    every field before it known, flat and of the right kind. Anything less certain
    stays for the parser, which names its error itself.
    """
    kinds = {f.name: k for f in schema or [] if (k := _expected_kind(f.type)) is not None} if schema else {}
    if not kinds or len(records) < 2:
        return records
    pattern = "|".join(
        f'{re.escape(json.dumps(name))}\\s*:\\s*[{_ALL_STARTS.replace(_KIND_STARTS[kind], "")}]'
        for name, kind in kinds.items())
    raws = [raw for _, raw in records]
    offsets = np.zeros(len(raws) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, raws), dtype=np.int64, count=len(raws)), out=offsets[1:])
    lines = pa.Array.from_buffers(pa.large_string(), len(raws), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(raws))])
    candidates = np.flatnonzero(bool_mask(pc.match_substring_regex(lines, pattern)))
    if not len(candidates):
        return records
    decoder = json.JSONDecoder(object_pairs_hook=_Pairs)
    rejected = set()
    for i in candidates.tolist():
        line, raw = records[i]
        message = _wrong_kind(raw, kinds, decoder)
        if message is not None:
            out.rejects.append(Reject(source, line, message, raw))
            rejected.add(i)
    if not rejected:
        return records
    return [r for i, r in enumerate(records) if i not in rejected]


def _wrong_kind(raw: bytes, kinds: dict[str, str], decoder) -> str | None:
    """pyarrow's error for a record refused for a known column's kind, or None when not certain."""
    if b"\\u" in raw or b"NaN" in raw or b"Infinity" in raw:
        return None  # escapes and literals the two decoders may judge differently
    try:
        pairs = decoder.decode(raw.decode("utf-8"))
    except ValueError:
        return None
    if not isinstance(pairs, _Pairs) or len({k for k, _ in pairs}) != len(pairs):
        return None
    for key, value in pairs:
        expected = kinds.get(key)
        if expected is None:
            return None  # a field the schema does not know: its type is inferred with the others
        kind = _kind(value)
        if kind == "null":
            continue
        if kind != expected:
            return f"JSON parse error: Column(/{key}) changed from {expected} to {kind}"
        if kind in ("array", "object"):
            return None  # nested values: their own fields may be refused first
    return None


class _Splitter:
    """Parses the records of a failing block in windows, setting bad ones aside.

    Records sit in one buffer with their offsets, so any run of them is a zero-copy
    slice. A window that parses doubles the next one (clean stretches go fast); a
    window that fails shrinks it, so each bad record costs a parse of a short run,
    not of the rest of the block.
    """

    SMALL, LARGE = 128, 1 << 16

    def __init__(self, records: Sequence[tuple[int, bytes]], parser, source: str, out: Parsed):
        self.records = records
        self.lines = [line for line, _ in records]
        self.raws = [raw for _, raw in records]
        self.parser, self.source, self.out = parser, source, out
        self.offsets = [0, *itertools.accumulate(len(raw) + 1 for raw in self.raws)]
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

    def _records(self, i: int, j: int) -> list[tuple[int, bytes]]:
        if i == 0 and j == len(self.raws):
            return list(self.records)  # the whole block in one window: the common case
        return list(zip(self.lines[i:j], self.raws[i:j]))

    def _several_values(self, i: int, table: pa.Table) -> None:
        """A line that parsed to several rows: objects one after another on one line
        (``{...} {...}``) are a record each; anything else is a reject."""
        values = split_values(self.raws[i].decode("utf-8", "surrogateescape"))
        if values is None or len(values) != table.num_rows:
            self._reject(i, "record did not parse to exactly one row")
            return
        self.out.tables.append(table)
        self.out.row_records.append([(self.lines[i], v.encode("utf-8", "surrogateescape")) for _, v in values])
        self.parser.pin(table.schema)

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
                    self._several_values(pos, table)
                else:
                    mid = pos + (end - pos) // 2
                    self.run(pos, mid)
                    self.run(mid, end)
                pos = end
                continue
            self.out.tables.append(table)
            self.out.row_records.append(self._records(pos, end))
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
            self.out.row_records.append([r for i, j in runs for r in self._records(i, j)])
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
    records: list[tuple[int, bytes]] = []
    for piece in out.row_records:
        records.extend(piece)
    out.tables, out.row_records = [merged], [records]
