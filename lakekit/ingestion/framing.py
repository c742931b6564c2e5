"""Record framing: where each record of a source starts and ends, exactly.

A record's reject must carry the line it starts on and exactly its text, and a block
handed to a parser must end on a record boundary. Framing is done once, by rules
that agree with the parsers:

- CSV: a quote opens a quoted field only at the start of a field (a ``"`` inside an
  unquoted field is text, as pyarrow and Python's csv module read it); inside a
  quoted field ``""`` is a quote and line breaks are text; ``\\r\\n``, ``\\n`` and a
  lone ``\\r`` end a record. A regular expression with possessive repeats follows
  those rules in one C-level pass, so a block boundary costs no Python loop per line,
  and a stray quote cannot make the boundary search quadratic.
- JSON values (a JSON array, or values one after another with or without whitespace
  between them): ``json.JSONDecoder.raw_decode`` finds where each value ends.
- JSON Lines: lines; a line holding several objects is several records.

A quoted CSV field that never closes, or that runs past the size limit, damages one
record: its first line is rejected and framing resumes on the next line, so a stray
quote costs the records it really damages, not the rest of the file.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

# Deeper than this, a record cannot be written (Parquet and Arrow's schema
# serialisation give out near 200 levels, pyarrow's JSON reader crashes near 10,000).
MAX_NESTING = 100


# -- CSV ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvGrammar:
    """The record grammar for one delimiter.

    With ``width`` (the header's field count), a record that spans lines must hold
    exactly that many fields: a stray quote "closed" by another quote lines later
    makes one record of many with a wrong count, and the grammar then refuses it, so
    only the stray quote's own line is damaged and framing resumes on the next line
    with the source's exact text. A record on one line may hold any number of fields
    (it is a reject of its own with its field count).
    """

    delimiter: str
    width: int | None = None

    def __post_init__(self):
        d = re.escape(self.delimiter.encode())
        # A quoted field on one line may carry text after its closing quote (``"ab"c``
        # reads ``abc``, as Python's csv module and pyarrow read it). One that spans
        # lines must close right before a delimiter or a line break: a stray quote
        # "closed" by the opening quote of a later quoted field (``1,"oops`` lines
        # before ``0,"multi-line"``) fails here, so only its own line is damaged.
        one_line = rb'"(?:[^"\r\n]|"")*+"[^' + d + rb'\r\n]*+'
        spanning = rb'"(?:[^"]|"")*+"(?=' + d + rb'|\r|\n|\Z)'
        unquoted = rb'[^"' + d + rb'\r\n][^' + d + rb'\r\n]*+'
        field_ = rb"(?:" + one_line + rb"|" + spanning + rb"|" + unquoted + rb"|)"
        any_record = field_ + rb"(?:" + d + field_ + rb")*+"
        if self.width:
            line_field = rb"(?:" + one_line + rb"|" + unquoted + rb"|)"
            exact = rb"(?>" + field_ + (rb"(?:" + d + field_ + rb"){" + str(self.width - 1).encode() + rb"}"
                                        if self.width > 1 else b"") + rb")"
            record = rb"(?:" + exact + rb"(?=\r|\n|\Z)|" + line_field + rb"(?:" + d + line_field + rb")*+)"
        else:
            record = any_record
        object.__setattr__(self, "_field", re.compile(field_))
        object.__setattr__(self, "_record", re.compile(record + rb"(?:\r\n|\n|\r)"))
        object.__setattr__(self, "_any_record", re.compile(any_record + rb"(?:\r\n|\n|\r)"))
        object.__setattr__(self, "_last", re.compile(record + rb"\Z"))
        object.__setattr__(self, "_records", re.compile(rb"(?:" + record + rb"(?:\r\n|\n|\r))*+"))

    def damaged_first_line(self, buf: bytes, over_limit: bool) -> bool:
        """Is the record at the start of ``buf`` (which :meth:`cut` could not end) damaged
        whatever follows? Yes when it is a whole record by the quoting alone but has the
        wrong field count for a record spanning lines, or when its quote has stayed open
        past the size limit (``over_limit``); no while more input may close it."""
        return over_limit or self._any_record.match(buf) is not None

    def first_record(self, data: bytes) -> tuple[int, int, bytes] | None:
        """(start, end past its line break, raw) of the first record, skipping empty lines."""
        pos = 0
        while pos < len(data):
            m = self._record.match(data, pos) or self._last.match(data, pos)
            if m is None:
                return None
            raw = _strip_break(data[pos:m.end()])
            if raw:
                return pos, m.end(), raw
            pos = m.end()
        return None

    def cut(self, buf: bytes) -> int:
        """Offset just past the last whole record (with its line break) in ``buf``.

        Both ways below find the same offset; which is cheaper depends on how many
        lines hold a quote. Python's regular-expression engine holds the interpreter's
        lock while it runs over the block, on the main thread (it was most of that
        thread's work on a CSV with a quoted field every 50 lines), so a block with few
        quotes jumps between them; one with quotes on most lines (every field quoted)
        is matched whole, one pass being cheaper than a Python step per record.
        """
        if buf.count(b'"') * 2 > buf.count(b"\n") + 1:
            return self.cut_by_grammar(buf)
        return self.cut_between_quotes(buf)

    def cut_between_quotes(self, buf: bytes) -> int:
        """:meth:`cut` matching the grammar only on lines with a quote: every line break
        of a line without one, reached at a record boundary, ends a record, so the
        search jumps from one quoted line to the next with ``bytes.find`` and matches
        one record at a time there."""
        pos, n = 0, len(buf)
        match = self._record.match
        while pos < n:
            quote = buf.find(b'"', pos)
            if quote < 0:
                return max(pos, buf.rfind(b"\n", pos) + 1, buf.rfind(b"\r", pos) + 1)
            # The quoted line starts just past the last line break before its quote.
            start = max(pos, buf.rfind(b"\n", pos, quote) + 1, buf.rfind(b"\r", pos, quote) + 1)
            m = match(buf, start)
            if m is None:
                return start  # a quote still open (or a damaged record): the caller decides
            pos = m.end()
        return pos

    def cut_by_grammar(self, buf: bytes) -> int:
        """:meth:`cut` by matching the whole buffer with the grammar in one pass."""
        return self._records.match(buf).end()

    def records(self, data: bytes, first_line: int, eof: bool = True
                ) -> tuple[list[tuple[int, bytes]], list[tuple[int, bytes]]]:
        """Split ``data`` into (line, raw) records, and damaged first lines of records
        whose quoted field never closes.

        Empty lines are not records. ``raw`` excludes the record's line break.
        """
        out: list[tuple[int, bytes]] = []
        damaged: list[tuple[int, bytes]] = []
        pos, line, n = 0, first_line, len(data)
        match = self._record.match
        while pos < n:
            m = match(data, pos)
            if m is None:
                last = self._last.match(data, pos) if eof else None
                if last is not None:
                    raw = data[pos:]
                    if raw:
                        out.append((line, raw))
                    break
                # An unclosed quote: the record is its first line alone.
                end = line_end(data, pos)
                damaged.append((line, _strip_break(data[pos:end])))
                line += line_breaks(data[pos:end])
                pos = end
                continue
            raw = data[pos:m.end()]
            text = _strip_break(raw)
            if text:  # an empty line is no record (pyarrow skips it too)
                out.append((line, text))
            line += line_breaks(raw)
            pos = m.end()
        return out, damaged

    def field_count(self, raw: bytes) -> int:
        """How many fields a record (without its line break) holds; -1 if malformed."""
        count, pos, n = 0, 0, len(raw)
        delim = self.delimiter.encode()
        while True:
            pos = self._field.match(raw, pos).end()  # always matches: a field may be empty
            count += 1
            if pos == n:
                return count
            if not raw.startswith(delim, pos):
                return -1
            pos += len(delim)


def _strip_break(raw: bytes) -> bytes:
    if raw.endswith(b"\r\n"):
        return raw[:-2]
    if raw.endswith((b"\n", b"\r")):
        return raw[:-1]
    return raw


def line_end(data: bytes, pos: int = 0) -> int:
    """Offset just past the line break that ends the line at ``pos`` (or the end)."""
    nl = data.find(b"\n", pos)
    cr = data.find(b"\r", pos)
    ends = [i for i in (nl, cr) if i >= 0]
    if not ends:
        return len(data)
    i = min(ends)
    if data[i:i + 2] == b"\r\n":
        return i + 2
    return i + 1


def line_breaks(raw: bytes) -> int:
    """Line breaks as ``grep -n`` and ``sed -n`` count them: each ``\\n``. (A lone
    ``\\r`` ends a CSV record, as pyarrow reads it, but starts no new line number.)"""
    return raw.count(b"\n")


def refrain_damaged(grammar: CsvGrammar, records: list[tuple[int, bytes]], expected_fields: int,
                    data: bytes | None = None) -> tuple[list[tuple[int, bytes]], list[tuple[int, bytes]]]:
    """Re-frame records that span lines and hold the wrong number of fields.

    A stray opening quote closed by another one lines later makes one record of many;
    its field count then is wrong. Such a record's first line is the damaged record;
    the lines after it are framed again as records of their own. ``data``, when given,
    is the exact text ``records`` were framed from: the re-framing then reads on past
    the damaged record's end, because the quote that "closed" the stray one may have
    opened a real field that goes on in the record after it.
    Returns (records, damaged first lines).
    """
    out: list[tuple[int, bytes]] = []
    damaged: list[tuple[int, bytes]] = []
    pending = list(reversed(records))
    pos = 0  # in ``data``: the end of the last record taken from ``pending``
    while pending:
        line, raw = pending.pop()
        at = data.find(raw, pos) if data is not None else -1
        if at < 0:
            data = None  # not framed from ``data`` after all: re-frame within records
        else:
            pos = at + len(raw)
        if line_breaks(raw) == 0 or grammar.field_count(raw) == expected_fields:
            out.append((line, raw))
            continue
        end = line_end(raw, 0)
        damaged.append((line, raw[:end].rstrip(b"\r\n")))
        next_line = line + line_breaks(raw[:end])
        if data is not None:
            data, pos = data[at + end:], 0
            again, broken = grammar.records(data, next_line)
            pending = list(reversed(again))
        else:
            again, broken = grammar.records(raw[end:], next_line)
            pending.extend(reversed(again))
        damaged.extend(broken)
    damaged.sort()
    return out, damaged


# -- JSON -----------------------------------------------------------------------------

_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)
_WS = re.compile(r"[ \t\r\n]*")
_DECODER = json.JSONDecoder()


def nesting_depth(text: str) -> int:
    """Deepest nesting of arrays and objects in JSON text (strings skipped).

    >>> nesting_depth('{"a": [1, {"b": "]]]"}]}')
    3
    """
    depth = deepest = 0
    for m in _TOKENS.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth -= 1
    return deepest


def may_be_too_deep(data: bytes, records: int) -> bool:
    """A cheap bound: can any record in ``data`` nest deeper than MAX_NESTING?

    Every JSON object record has at least one ``{``, so the openers beyond one a
    record bound the depth of the deepest one. Two ``bytes.count`` passes (memchr
    speed, nothing allocated), no parse.
    """
    return data.count(b"{") + data.count(b"[") - records >= MAX_NESTING


def split_values(text: str) -> list[tuple[int, str]] | None:
    """(offset, text) of each JSON value on a line holding one or more of them, or
    None when the line is not a sequence of whole JSON values."""
    out = []
    pos = _WS.match(text, 0).end()
    while pos < len(text):
        try:
            _, end = _DECODER.raw_decode(text, pos)
        except (json.JSONDecodeError, RecursionError):
            return None
        out.append((pos, text[pos:end]))
        pos = _WS.match(text, end).end()
    return out


@dataclass
class ValuesBlock:
    """Records framed from a JSON array or from JSON values one after another."""

    data: bytes  # the good records, one after another, for the JSON reader
    first_line: int
    lines: list[int]  # start line of each record in ``data``
    pieces: list[str]  # each record's exact text
    #: records the framer already knows are bad: (line, error, raw)
    rejects: list[tuple[int, str, bytes]] = field(default_factory=list)

    def records(self) -> list[tuple[int, bytes]]:
        return [(line, piece.encode("utf-8", "surrogateescape")) for line, piece in zip(self.lines, self.pieces)]


class JsonValuesReader:
    """Frames a JSON array (or several), or JSON values one after another with or
    without whitespace between them, into blocks of about ``block_size`` bytes.

    Memory holds one block and the record being read however the file is laid out:
    a 200 MB array on one line is read a block at a time. Offsets into the buffer
    stay valid while one record is read; consumed text is dropped between records.
    """

    def __init__(self, stream, block_size: int, on_read_error=None):
        self.stream = stream
        self.block_size = block_size
        self.on_read_error = on_read_error
        self.decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        self.buf = ""
        self.pos = 0
        self.line = 1  # the line number at offset self.counted
        self.counted = 0
        self.eof = False
        self.in_array = False

    # -- buffer ---------------------------------------------------------------------
    def _fill(self) -> bool:
        """Append the next chunk; False at the end of input."""
        if self.eof:
            return False
        try:
            chunk = self.stream.read(self.block_size)
        except Exception as ex:
            if self.on_read_error:
                raise self.on_read_error(ex) from ex
            raise
        if not chunk:
            self.eof = True
            self.buf += self.decoder.decode(b"", final=True)
            return False
        self.buf += self.decoder.decode(chunk)
        return True

    def _compact(self) -> None:
        """Drop consumed text (between records only, so no offset is held)."""
        if self.pos > self.block_size:
            self._line_at(self.pos)
            self.buf = self.buf[self.pos:]
            self.counted -= self.pos
            self.pos = 0

    def _line_at(self, pos: int) -> int:
        if pos > self.counted:
            self.line += self.buf.count("\n", self.counted, pos)
            self.counted = pos
        return self.line

    def _peek(self) -> str:
        """The next non-blank character (reading more when needed), or '' at the end."""
        while True:
            self.pos = _WS.match(self.buf, self.pos).end()
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._fill():
                return ""

    def _prev(self, j: int) -> str:
        """The last non-blank character before offset ``j`` ('' at the start)."""
        k = j
        while k > 0 and self.buf[k - 1] in " \t\r\n":
            k -= 1
        return self.buf[k - 1] if k > 0 else ""

    # -- blocks ---------------------------------------------------------------------
    def __iter__(self) -> Iterator[ValuesBlock]:
        lines: list[int] = []
        pieces: list[str] = []
        rejects: list[tuple[int, str, bytes]] = []
        size = 0
        first = None
        while (item := self._next()) is not None:
            line, text, error = item
            first = line if first is None else first
            if error is None:
                lines.append(line)
                pieces.append(text)
            else:
                rejects.append((line, error, text.encode("utf-8", "surrogateescape")))
            size += len(text) + 1
            if size >= self.block_size:
                yield _values_block(first, lines, pieces, rejects)
                lines, pieces, rejects, size, first = [], [], [], 0, None
        if lines or rejects:
            yield _values_block(first, lines, pieces, rejects)

    def _next(self) -> tuple[int, str, str | None] | None:
        """The next record: (line, text, None), or (line, text, error) for a bad one."""
        self._compact()
        while True:
            c = self._peek()
            if c == "\ufeff" and self.pos == 0 and self.line == 1:
                self.pos += 1
                continue
            if not c:
                return None
            if c == "[" and not self.in_array:
                self.in_array = True
                self.pos += 1
            elif self.in_array and c == "]":
                self.in_array = False
                self.pos += 1
            elif self.in_array and c == ",":
                self.pos += 1  # a trailing comma before ']' is tolerated, as most readers do
            else:
                return self._value()

    def _value(self) -> tuple[int, str, str | None]:
        start = self.pos
        line = self._line_at(start)
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, start)
            except RecursionError:
                end = self._skip_deep(start)
                self.pos = end
                return line, self.buf[start:end], f"record nested deeper than {MAX_NESTING} levels"
            except json.JSONDecodeError as ex:
                if self._maybe_truncated(ex) and self._fill():
                    continue
                end = self._resync(start, ex.pos)
                self.pos = end
                return line, self.buf[start:end].rstrip(" \t\r\n,"), f"malformed JSON: {ex.msg}"
            if end == len(self.buf) and not isinstance(value, (dict, list)) and self._fill():
                continue  # a number may go on in the next chunk
            self.pos = end
            text = self.buf[start:end]
            if not isinstance(value, dict):
                return line, text, "a JSON value that is not an object is not a record"
            return line, text, None

    def _maybe_truncated(self, ex: json.JSONDecodeError) -> bool:
        """Could more input make this value parse? Only if the error is at its end."""
        if self.eof:
            return False
        if ex.msg.startswith("Unterminated string"):
            return "\n" not in self.buf[ex.pos:]
        return len(self.buf) - ex.pos < 1024

    def _resync(self, start: int, err: int) -> int:
        """Where the next record starts after a malformed one at ``start``: the first
        ``{`` after the error that follows a separator (``,`` in an array, the end of
        a value or a line break otherwise), begins a value that parses, and is itself
        followed by what may follow a record."""
        pos = max(err, start + 1)
        while True:
            j = self.buf.find("{", pos)
            if j < 0:
                if self._fill():
                    continue
                return len(self.buf)
            before = self._prev(j)
            separated = before == "," if self.in_array else (before in ("}", "") or self.buf[j - 1:j] == "\n")
            if separated:
                try:
                    _, end = _DECODER.raw_decode(self.buf, j)
                except (json.JSONDecodeError, RecursionError):
                    end = None
                if end is not None:
                    after = _WS.match(self.buf, end).end()
                    following = self.buf[after:after + 1]
                    if following in ("", ",", "]") if self.in_array else following in ("", "{"):
                        if self.in_array:  # resume at the comma, so it is read as one
                            return self.buf.rindex(",", start, j)
                        return j
            pos = j + 1

    def _skip_deep(self, start: int) -> int:
        """End of a value too deep for the decoder, found by counting its brackets."""
        while True:
            depth = 0
            for m in _TOKENS.finditer(self.buf, start):
                c = m.group()
                if c in "[{":
                    depth += 1
                elif c in "]}":
                    depth -= 1
                    if depth == 0:
                        return m.end()
            if not self._fill():
                return len(self.buf)


def _values_block(first, lines, pieces, rejects) -> ValuesBlock:
    data = "\n".join(pieces).encode("utf-8", "surrogateescape") + b"\n" if pieces else b""
    if pieces and may_be_too_deep(data, len(pieces)):
        keep = [i for i, p in enumerate(pieces) if nesting_depth(p) <= MAX_NESTING]
        if len(keep) < len(pieces):
            kept = set(keep)
            for i, (line, piece) in enumerate(zip(lines, pieces)):
                if i not in kept:
                    rejects.append((line, f"record nested deeper than {MAX_NESTING} levels",
                                    piece.encode("utf-8", "surrogateescape")))
            rejects.sort()
            lines = [lines[i] for i in keep]
            pieces = [pieces[i] for i in keep]
            data = "\n".join(pieces).encode("utf-8", "surrogateescape") + b"\n" if pieces else b""
    return ValuesBlock(data, first or 1, lines, pieces, rejects)
