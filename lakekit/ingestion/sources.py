"""Where records come from: files, folders, globs, ``s3://`` URIs and stdin.

A source is read as a stream of *blocks*: runs of whole records (lines for JSON
Lines; records framed by their syntax for CSV and JSON arrays, see
:mod:`lakekit.ingestion.framing`), each tagged with the line number it starts at,
so that a bad record anywhere can be reported by its line and its exact text.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import pyarrow as pa

from lakekit.errors import InputError, UsageError
from lakekit.ingestion.framing import CsvGrammar, JsonValuesReader, line_breaks, line_end, split_values
from lakekit.paths import is_hidden, is_hidden_name, is_s3
from lakekit.storage import Storage

COMPRESSED_SUFFIXES = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd", ".zstd": "zstd"}
JSON_SUFFIXES = (".jsonl", ".json", ".ndjson")
CSV_SUFFIXES = (".csv", ".tsv")
_MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bz2", b"\x28\xb5\x2f\xfd": "zstd"}
STDIN = "-"


@dataclass(frozen=True)
class Source:
    uri: str  # absolute path, s3:// URI, or "-" for stdin
    size: int | None  # bytes as stored (compressed), None for stdin
    #: the name reports and rejects give it, when not its URI (a stream batch is "<stdin>")
    label: str | None = None
    #: its identity when the caller knows it (a stream batch's chained hash); else hashed
    digest: str | None = None
    #: lines of the stream before this source's first line (a stream batch's position)
    line_offset: int = 0

    @property
    def name(self) -> str:
        if self.label is not None:
            return self.label
        return "<stdin>" if self.uri == STDIN else self.uri

    @property
    def compression(self) -> str | None:
        return COMPRESSED_SUFFIXES.get(os.path.splitext(self.uri)[1].lower())


def expand_sources(args: list[str | Source], storage: Storage) -> list[Source]:
    """Files, folders (every non-hidden file inside, recursively), globs, s3:// and '-'.

    ``storage`` (a :class:`lakekit.storage.Storage`) lists ``s3://`` sources. The
    warehouse itself is never a source, even when it lies inside a source folder:
    its Parquet files would be read back in as records on the next run.
    """
    if not args:
        raise UsageError("no SOURCE given; pass files, folders, globs, s3:// URIs or - for stdin")
    out: list[Source] = []
    for arg in args:
        if isinstance(arg, Source):  # given as such (a stream batch): taken as it is
            out.append(arg)
        elif arg == STDIN:
            out.append(Source(STDIN, None))
        elif is_s3(arg):
            out.extend(_s3_sources(arg, storage))
        else:
            out.extend(_local_sources(arg, None if storage.is_remote else storage.root))
    if not out:
        raise InputError(f"no files found in {' '.join(args)}")
    if sum(s.uri == STDIN for s in out) > 1:
        raise UsageError("stdin (-) can be given only once")
    return out


def _s3_sources(arg: str, storage: Storage) -> list[Source]:
    """An ``s3://`` object, or every non-hidden object under a prefix."""
    if arg.endswith("/") or storage.is_dir(arg):
        found = sorted((e for e in storage.list_files(arg.rstrip("/")) if not is_hidden(e.uri)), key=lambda e: e.uri)
        return [Source(e.uri, e.size) for e in found]
    if storage.exists(arg):
        return [Source(arg, storage.size(arg))]
    raise InputError(f"source {arg} not found; check the bucket and key")


def _local_sources(arg: str, warehouse: str | None) -> list[Source]:
    """A file, every non-hidden file of a folder (recursively), or a glob's files."""
    if os.path.isdir(arg):
        skip = os.path.realpath(warehouse) if warehouse else None
        out = []
        for root, dirs, files in os.walk(arg):
            dirs[:] = sorted(d for d in dirs if not is_hidden_name(d)
                             and os.path.realpath(os.path.join(root, d)) != skip)
            for f in sorted(files):
                if not is_hidden_name(f):
                    path = os.path.abspath(os.path.join(root, f))
                    out.append(Source(path, _size(path)))
        return out
    if os.path.isfile(arg):
        return [Source(os.path.abspath(arg), os.path.getsize(arg))]
    if glob.has_magic(arg):
        matches = sorted(p for p in glob.glob(arg, recursive=True) if os.path.isfile(p))
        if not matches:
            raise InputError(f"source pattern {arg!r} matches no files")
        return [Source(os.path.abspath(p), os.path.getsize(p)) for p in matches]
    if os.path.islink(arg):
        _size(arg)
    raise InputError(f"source {arg} not found; pass an existing file, folder, glob or - for stdin")


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise InputError(f"source {path} is a broken symbolic link (its target {os.readlink(path)} is missing); "
                             "fix or remove the link") from None
        raise InputError(f"source {path} disappeared while the sources were listed; run the ingest again") from None


class CountingReader:
    """A raw byte stream that counts what passes through: the progress bar's position
    (``tell()`` is not available on every input stream)."""

    def __init__(self, raw):
        self.raw = raw
        self.bytes_read = 0
        self.closed = False

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.bytes_read += len(data)
        return data

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.closed = True
        self.raw.close()


class HashingReader:
    """A raw byte stream that hashes what passes through (used for stdin)."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.sha = hashlib.sha256()
        self.bytes_read = 0
        self.closed = False

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.sha.update(data)
        self.bytes_read += len(data)
        return data

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.closed = True


def file_hash(source: Source, storage: Storage) -> str:
    """Content hash of a stored source: sha256 of its bytes, or the S3 ETag."""
    etag = storage.etag(source.uri)  # a fingerprint the storage keeps for free (S3), else None
    if etag:
        return f"etag:{etag}"
    sha = hashlib.sha256()
    with storage.open_input(source.uri) as f:
        # Arrow buffers come from its own pool and go back promptly; 8 MiB Python
        # bytes objects would grow the C heap by tens of MiB for the whole run.
        while (chunk := f.read_buffer(4 << 20)).size:
            sha.update(chunk)
    return "sha256:" + sha.hexdigest()


def open_source(source: Source, storage) -> tuple[object, HashingReader | None, object]:
    """Open ``source`` for reading decompressed bytes.

    Returns (stream, stdin hasher or None, counter of the stored bytes read so far).
    """
    if source.uri == STDIN:
        hasher = HashingReader(sys.stdin.buffer)
        head = hasher.read(4)
        codec = next((c for magic, c in _MAGIC.items() if head.startswith(magic)), None)
        stream = PeekedStream(head, hasher)
        if codec:
            return pa.CompressedInputStream(pa.PythonFile(stream, mode="r"), codec), hasher, hasher
        return stream, hasher, hasher
    raw = CountingReader(storage.open_input(source.uri))
    if source.compression:
        try:
            return pa.CompressedInputStream(pa.PythonFile(raw, mode="r"), source.compression), None, raw
        except (pa.ArrowException, OSError) as ex:
            raise InputError(f"cannot decompress {source.name}: {ex}") from ex
    return raw, None, raw


class PeekedStream:
    """A stream that first returns bytes already peeked from another, then the rest."""

    def __init__(self, head: bytes, rest):
        self.head = head
        self.rest = rest
        self.closed = False

    def read(self, n: int = -1) -> bytes:
        if self.head:
            if n is None or n < 0:
                data, self.head = self.head + self.rest.read(), b""
                return data
            data, self.head = self.head[:n], self.head[n:]
            if len(data) < n:
                data += self.rest.read(n - len(data))
            return data
        return self.rest.read(n)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.closed = True


@dataclass
class Block:
    """Whole records of one source, ready for a parser."""

    data: bytes  # what the parser reads
    first_line: int  # 1-based line number of the block's first line
    source: Source
    kind: str = "jsonl"  # "jsonl", "json" or "csv"
    #: the exact (line, raw) of each record, when framing already knows them
    framed: list[tuple[int, bytes]] | None = None
    #: records framing found bad: (line, error, raw)
    rejects: list[tuple[int, str, bytes]] = field(default_factory=list)
    grammar: CsvGrammar | None = None

    def records(self, split_lines: bool = False) -> list[tuple[int, bytes]]:
        """(line, raw) of every record, in the order a parser reads them.

        For JSON Lines a blank line is no record; with ``split_lines`` a line holding
        several objects (``{...} {...}``) is one record for each.
        """
        if self.framed is not None:
            return self.framed
        if self.kind == "csv":
            records, _ = self.grammar.records(self.data, self.first_line)
            return records
        out = []
        line = self.first_line
        for raw in self.data.split(b"\n"):
            if raw.strip():
                values = None
                if split_lines and not _one_object_at_most(raw):
                    values = split_values(raw.decode("utf-8", "surrogateescape"))
                if values and len(values) > 1:
                    out.extend((line, v.encode("utf-8", "surrogateescape")) for _, v in values)
                else:
                    out.append((line, raw))
            line += 1
        return out


#: a ``{`` that could open a second value: after something other than JSON whitespace,
#: ``:``, ``,`` or ``[`` (inside one object, ``{`` only ever follows those)
_ANOTHER_VALUE = re.compile(rb"[^ \t\r\n:,\[][ \t\r\n]*\{")


def _one_object_at_most(raw: bytes) -> bool:
    """True when ``raw`` cannot hold several JSON values, so splitting it (a JSON parse
    in Python, the costly part of framing a failing block) would find one or none.

    Several values ending with an object need a ``{`` that follows the end of the
    value before it; a line that is one ``{...}`` without such a ``{`` is one record.
    """
    body = raw.strip(b" \t\r\n")
    return body[:1] == b"{" and body[-1:] == b"}" and _ANOTHER_VALUE.search(body) is None


def _read_error(source: Source):
    def make(ex: Exception) -> InputError:
        return InputError(f"cannot read {source.name}: {ex}; is the file truncated or not what its name says?")
    return make


def _read(stream, size: int, source: Source) -> bytes:
    try:
        return stream.read(size)
    except (pa.ArrowException, OSError, EOFError) as ex:
        raise _read_error(source)(ex) from ex


def read_blocks(stream, source: Source, block_size: int) -> Iterator[Block]:
    """Split a decompressed JSON Lines stream into blocks of whole lines (of about
    ``block_size``). A line longer than ``block_size`` makes a bigger block."""
    line = 1 + source.line_offset
    carry = b""
    while True:
        chunk = _read(stream, block_size, source)
        if not chunk:
            break
        cut = chunk.rfind(b"\n")
        if cut < 0:  # no complete line yet: a long line, keep reading
            carry += chunk
            continue
        # One copy of the block's bytes at most (none when it ends on a line break and
        # nothing is carried): this loop runs on the thread that feeds the parsers.
        if cut + 1 == len(chunk):
            data = carry + chunk if carry else chunk
            carry = b""
        else:
            data, carry = b"".join((carry, memoryview(chunk)[: cut + 1])), chunk[cut + 1 :]
        yield Block(data, line, source)
        line += data.count(b"\n")
    if carry:
        yield Block(carry, line, source)


def read_value_blocks(stream, source: Source, block_size: int) -> Iterator[Block]:
    """Blocks of a JSON array or of JSON values one after another."""
    for vb in JsonValuesReader(stream, block_size, _read_error(source)):
        yield Block(vb.data, vb.first_line, source, "json", vb.records(), vb.rejects)


def read_csv_blocks(stream, source: Source, block_size: int, grammar: CsvGrammar) -> Iterator[Block]:
    """Blocks of whole CSV records; a block never ends inside a quoted field.

    A record the grammar refuses at the start of what is left (a quote that stays open
    past ``8 * block_size`` bytes or to the end of the input, or a record spanning lines
    with the wrong field count: a stray quote) is damaged: its first line is a reject
    and framing resumes, on the exact bytes, on the next line.
    """
    line = 1 + source.line_offset
    carry = b""
    limit = 8 * block_size
    eof = False
    while not eof:
        chunk = _read(stream, block_size, source)
        eof = not chunk
        buf = carry + chunk if carry else chunk
        damaged: list[tuple[int, bytes]] = []
        cut = 0
        while buf and not eof:
            # With no quote in it, every line break ends a record.
            cut = grammar.cut(buf) if b'"' in buf else max(buf.rfind(b"\n"), buf.rfind(b"\r")) + 1
            if cut or not grammar.damaged_first_line(buf, len(buf) > limit):
                break
            end = line_end(buf)
            damaged.append((line, buf[:end].rstrip(b"\r\n")))
            line += line_breaks(buf[:end])
            buf = buf[end:]
        if damaged:
            rejects = [(ln, UNTERMINATED, raw) for ln, raw in damaged]
            yield Block(b"", damaged[0][0], source, "csv", [], rejects, grammar)
        if not buf:
            carry = b""
            continue
        if eof:  # frame what is left exactly: a quote still open damages its line only
            records, damaged = grammar.records(buf, line, eof=True)
            rejects = [(ln, UNTERMINATED, raw) for ln, raw in damaged]
            if records or rejects:
                data = b"\n".join(raw for _, raw in records) + b"\n" if records else b""
                yield Block(data, records[0][0] if records else line, source, "csv", records, rejects, grammar)
            break
        if cut == 0:  # a quote still open: wait for more
            carry = buf
            continue
        data, carry = buf[:cut], buf[cut:]
        yield Block(data, line, source, "csv", grammar=grammar)
        line += line_breaks(data)


UNTERMINATED = "unterminated quoted field (a stray quote?)"
