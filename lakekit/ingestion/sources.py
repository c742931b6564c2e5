"""Where records come from: files, folders, globs, ``s3://`` URIs and stdin.

A source is read as a stream of *blocks*: runs of whole lines (whole records for
CSV, whose quoted fields may hold line breaks), each tagged with the line number it
starts at, so that a bad record anywhere can be reported by line.
"""

from __future__ import annotations

import glob
import hashlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import pyarrow as pa

from lakekit.errors import InputError, UsageError
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

    @property
    def name(self) -> str:
        return "<stdin>" if self.uri == STDIN else self.uri

    @property
    def compression(self) -> str | None:
        return COMPRESSED_SUFFIXES.get(os.path.splitext(self.uri)[1].lower())

    def format_from_name(self) -> str | None:
        base = self.uri
        if self.compression:
            base = os.path.splitext(base)[0]
        ext = os.path.splitext(base)[1].lower()
        if ext in JSON_SUFFIXES:
            return "jsonl"
        if ext in CSV_SUFFIXES:
            return "csv"
        return None


def expand_sources(args: list[str], storage: Storage) -> list[Source]:
    """Files, folders (every non-hidden file inside, recursively), globs, s3:// and '-'.

    ``storage`` (a :class:`lakekit.storage.Storage`) lists ``s3://`` sources.
    """
    if not args:
        raise UsageError("no SOURCE given; pass files, folders, globs, s3:// URIs or - for stdin")
    out: list[Source] = []
    for arg in args:
        if arg == STDIN:
            out.append(Source(STDIN, None))
        elif is_s3(arg):
            out.extend(_s3_sources(arg, storage))
        else:
            out.extend(_local_sources(arg))
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


def _local_sources(arg: str) -> list[Source]:
    """A file, every non-hidden file of a folder (recursively), or a glob's files."""
    if os.path.isdir(arg):
        out = []
        for root, dirs, files in os.walk(arg):
            dirs[:] = sorted(d for d in dirs if not is_hidden_name(d))
            for f in sorted(files):
                if not is_hidden_name(f):
                    path = os.path.abspath(os.path.join(root, f))
                    out.append(Source(path, os.path.getsize(path)))
        return out
    if os.path.isfile(arg):
        return [Source(os.path.abspath(arg), os.path.getsize(arg))]
    if glob.has_magic(arg):
        matches = sorted(p for p in glob.glob(arg, recursive=True) if os.path.isfile(p))
        if not matches:
            raise InputError(f"source pattern {arg!r} matches no files")
        return [Source(os.path.abspath(p), os.path.getsize(p)) for p in matches]
    raise InputError(f"source {arg} not found; pass an existing file, folder, glob or - for stdin")


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

    Returns (stream, stdin hasher or None, raw handle whose position tells progress).
    """
    if source.uri == STDIN:
        hasher = HashingReader(sys.stdin.buffer)
        head = hasher.read(4)
        codec = next((c for magic, c in _MAGIC.items() if head.startswith(magic)), None)
        stream = PeekedStream(head, hasher)
        if codec:
            return pa.CompressedInputStream(pa.PythonFile(stream, mode="r"), codec), hasher, hasher
        return stream, hasher, hasher
    raw = storage.open_input(source.uri)
    if source.compression:
        try:
            return pa.CompressedInputStream(raw, source.compression), None, raw
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
    data: bytes  # whole records, ending with a newline (except maybe the last block)
    first_line: int  # 1-based line number of the block's first line
    source: Source


def read_blocks(stream, source: Source, block_size: int, csv: bool = False) -> Iterator[Block]:
    """Split a decompressed stream into blocks of whole lines (of about ``block_size``).

    A line longer than ``block_size`` makes a bigger block rather than being cut. For
    CSV, a block never ends inside a quoted field: the count of '"' before the cut
    must be even (CSV escapes a quote by doubling it, so parity tells).
    """
    line = 1
    carry = b""
    while True:
        try:
            chunk = stream.read(block_size)
        except (pa.ArrowException, OSError, EOFError) as ex:
            raise InputError(f"cannot read {source.name}: {ex}; is the file truncated or not what its name says?") from ex
        if not chunk:
            break
        buf = carry + chunk if carry else chunk
        cut = _cut_point(buf, csv)
        if cut < 0:  # no complete line yet: a long line, keep reading
            carry = buf
            continue
        data, carry = buf[: cut + 1], buf[cut + 1 :]
        yield Block(data, line, source)
        line += data.count(b"\n")
    if carry:
        yield Block(carry, line, source)


def _cut_point(buf: bytes, csv: bool) -> int:
    cut = buf.rfind(b"\n")
    if not csv:
        return cut
    while cut >= 0 and buf.count(b'"', 0, cut) % 2:
        cut = buf.rfind(b"\n", 0, cut)
    return cut
