"""The local backend's listing while other writers add and remove folders and files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time

import pytest

from lakekit.errors import StorageError
from lakekit.storage.local import LocalBackend


def _churn(folder, stop):
    """What concurrent ingests do beside a listing: staging folders and temporary files
    that appear and are removed a moment later."""
    i = 0
    while not stop.is_set():
        staging = folder / "_staging" / f"commit-{i}" / "year=2024"
        staging.mkdir(parents=True)
        (staging / "part-0.parquet").write_bytes(b"x")
        (folder / f".tmp-{i}").write_bytes(b"y")
        shutil.rmtree(folder / "_staging" / f"commit-{i}")
        os.unlink(folder / f".tmp-{i}")
        i += 1


def test_a_listing_skips_what_vanishes_under_it_and_keeps_what_stays(tmp_path):
    table = tmp_path / "t"
    stable = []
    for day in range(1, 21):
        part = table / "year=2024" / "month=05" / f"day={day:02d}"
        part.mkdir(parents=True)
        (part / "part-0.parquet").write_bytes(b"z" * day)
        stable.append(str(part / "part-0.parquet"))
    stop = threading.Event()
    churner = threading.Thread(target=_churn, args=(table, stop))
    churner.start()
    backend = LocalBackend()
    try:
        for _ in range(300):
            files = {e.uri: e.size for e in backend.list_files(str(table))}
            assert {p: files[p] for p in stable} == {p: os.path.getsize(p) for p in stable}
            assert str(table / "year=2024") in backend.list_dirs(str(table))
    finally:
        stop.set()
        churner.join()


def test_a_missing_folder_lists_nothing_and_a_file_is_refused(tmp_path):
    backend = LocalBackend()
    assert list(backend.list_files(str(tmp_path / "nope"))) == []
    assert backend.list_dirs(str(tmp_path / "nope")) == []
    (tmp_path / "f").write_text("x")
    with pytest.raises(StorageError, match="not a folder"):
        list(backend.list_files(str(tmp_path / "f")))


def test_the_listing_matches_the_folder_tree(tmp_path):
    """Files at every depth with their sizes, followed symbolic links included, as
    os.walk sees them."""
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "one").write_bytes(b"1")
    (tmp_path / "a" / "b" / "two").write_bytes(b"22")
    (tmp_path / "top").write_bytes(b"333")
    os.symlink(tmp_path / "top", tmp_path / "a" / "link")
    expected = {os.path.join(d, f): os.path.getsize(os.path.join(d, f))
                for d, _, names in os.walk(tmp_path) for f in names}
    backend = LocalBackend()
    assert {e.uri: e.size for e in backend.list_files(str(tmp_path))} == expected
    assert {e.uri for e in backend.list_files(str(tmp_path), recursive=False)} == {str(tmp_path / "top")}
    assert backend.list_dirs(str(tmp_path)) == [str(tmp_path / "a")]


def test_a_folder_created_while_it_is_listed_is_not_an_error(tmp_path):
    """Eight first ingests into one new table: one lists the table's folder while
    another process creates it. Not there when listed is empty, whatever exists a
    moment later."""
    table = tmp_path / "c" / "t"
    creator = subprocess.Popen([sys.executable, "-c", (
        "import os, sys, time\n"
        "table, end = sys.argv[1], time.monotonic() + 20\n"
        "while time.monotonic() < end:\n"
        "    os.makedirs(table, exist_ok=True)\n"
        "    os.rmdir(table)\n"), str(table)])
    backend = LocalBackend()
    try:
        started = time.monotonic()
        while not table.exists() and time.monotonic() - started < 10:
            pass  # the creator is running
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            assert list(backend.list_files(str(table))) == []
            assert backend.list_dirs(str(table)) == []
    finally:
        creator.kill()
        creator.wait()


def test_files_are_listed_depth_first_in_name_order(tmp_path):
    for name in ("b/2", "a/z", "a/b/1", "c", "a/a"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    listed = [os.path.relpath(e.uri, tmp_path) for e in LocalBackend().list_files(str(tmp_path))]
    assert listed == ["a/a", "a/b/1", "a/z", "b/2", "c"]
