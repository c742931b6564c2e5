"""The pause points of the commit protocol: where crash tests stop a process to kill it.

With ``LAKEKIT_TEST_PAUSE_AT=<name>`` in its environment, a lakekit process that reaches
the point ``<name>`` writes the name to ``LAKEKIT_TEST_PAUSE_FILE`` (when set) and
sleeps ``LAKEKIT_TEST_PAUSE_SECONDS`` (60 by default), so a test can SIGKILL it there
and check what every reader sees. Unset, a pause point costs one dictionary lookup.

The points, in the order a commit passes them (``docs/ingest.md`` lists what each
reader sees after a kill at each):

``parsed``, ``staged`` (ingest: records read, files written into the commit folder;
compaction: a partition's new files written),
``commit-locked`` (the catalog's write lock held: SQLite transaction or Glue lease),
``carried`` (files the partitions keep linked or copied into the new folders),
``commit-applied`` (inside the SQLite transaction, before COMMIT), ``logged`` (Glue:
the log entry, the commit point, is written; nothing published yet),
``published-partly`` (Glue: between two publication requests: new partitions created,
moved ones not yet), ``published`` (Glue: every partition switched), ``committed``
(after the commit, before its pending record goes), ``collected`` (superseded files
deleted, not yet forgotten by the catalog).
"""

from __future__ import annotations

import os
import time


def pause_point(name: str) -> None:
    """Stop here when a test asked to (see the module's docstring)."""
    if os.environ.get("LAKEKIT_TEST_PAUSE_AT") != name:
        return
    marker = os.environ.get("LAKEKIT_TEST_PAUSE_FILE")
    if marker:
        with open(marker, "w") as f:
            f.write(name)
    time.sleep(float(os.environ.get("LAKEKIT_TEST_PAUSE_SECONDS", "60")))
