"""Content hashes of local sources, computed while the ingest is still starting.

An ingest needs each source's hash before it reads it (a source ingested before is
skipped, not read). Hashing is a pass over the file at about 1 GB/s; the command's
imports take a few hundred milliseconds on one core. :func:`start_hashing` runs on
the standard library alone, so it can start before pyarrow is imported: the hashes of
plain local files are then ready, or nearly, when the ingest asks for them, and the
other core did the work while the first was importing.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence

CHUNK = 4 << 20


def sha256_of(path: str) -> str:
    """``sha256:<hex>`` of a file's bytes (the form the catalog stores)."""
    sha = hashlib.sha256()
    buf = bytearray(CHUNK)  # one buffer, reused: no allocation per chunk
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            sha.update(view[:n])  # hashlib releases the GIL on large updates
    return "sha256:" + sha.hexdigest()


class EarlyHashes:
    """Hashes of local files, computed one after another on a background thread."""

    def __init__(self, paths: Sequence[str]):
        self._paths = list(dict.fromkeys(os.path.abspath(p) for p in paths))
        self._done: dict[str, str | None] = {}
        self._ready = {p: threading.Event() for p in self._paths}
        self._thread = threading.Thread(target=self._run, name="lakekit-hash", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for path in self._paths:
            try:
                self._done[path] = sha256_of(path)
            except OSError:
                self._done[path] = None  # the ingest reports it when it opens the file
            self._ready[path].set()

    def get(self, path: str) -> str | None:
        """The hash of ``path`` (waiting for it), or None when it was not hashed here."""
        event = self._ready.get(path)
        if event is None:
            return None
        event.wait()
        return self._done.get(path)


def start_hashing(sources: str | Sequence[str]) -> EarlyHashes:
    """Start hashing the sources that are plain local files; others are hashed later."""
    args = [sources] if isinstance(sources, str) else list(sources)
    return EarlyHashes([a for a in args if isinstance(a, str) and "://" not in a and a != "-" and os.path.isfile(a)])
