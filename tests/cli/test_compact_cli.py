"""``lakekit compact`` through click: exact lines for the plan, the summary and every
refusal (exit 2, one line, nothing changed)."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from lakekit.cli import main
from tests.helpers import write_jsonl


@pytest.fixture
def small_files(tmp_path, warehouse):
    """c.t: two ingests of one record each into day 2024-01-01, one into 2024-01-02."""
    for i, day in enumerate(["01", "01", "02"]):
        src = write_jsonl(tmp_path / f"{i}.jsonl", [{"id": i, "ts": f"2024-01-{day}T00:00:00Z", "v": 1.5}])
        result = CliRunner().invoke(main, ["ingest", src, "--table", "c.t", "--timestamp-column", "ts",
                                           "--warehouse", warehouse])
        assert result.exit_code == 0, result.output
    return warehouse


def _tree(root):
    return sorted(os.path.join(d, f) for d, _, names in os.walk(root) for f in names
                  if not f.endswith(("-wal", "-shm")))


def _run(*args):
    return CliRunner().invoke(main, ["compact", *args])


def test_help_has_an_example():
    result = _run("--help")
    assert result.exit_code == 0 and "Example:" in result.output and "--where PREDICATE" in result.output


def test_plan_then_compaction_then_nothing_to_do(small_files):
    files = _tree(small_files)
    plan = _run("c.t", "--warehouse", small_files, "--dry-run")
    assert plan.exit_code == 0, plan.output
    lines = plan.stderr.splitlines()
    assert lines[0].startswith("c.t: would rewrite 1 partition(s): 2 file(s) -> 1, ")
    assert lines[1].startswith("  year=2024/month=01/day=01: 2 -> 1 file(s), ")
    assert len(lines) == 2 and plan.stdout == ""
    assert _tree(small_files) == files

    done = _run("c.t", "--warehouse", small_files, "--json")
    assert done.exit_code == 0, done.output
    doc = json.loads(done.stdout)
    assert list(doc) == ["table", "dry_run", "target_file_size", "retain_seconds", "partitions_considered",
                         "partitions_compacted", "partitions", "files_before", "files_after", "bytes_rewritten",
                         "bytes_written", "files_deleted", "seconds", "warnings"]
    assert (doc["partitions_considered"], doc["partitions_compacted"], doc["files_before"], doc["files_after"]) == \
        (2, 1, 2, 1)
    assert doc["retain_seconds"] == 3600 and doc["target_file_size"] == 128 << 20

    again = _run("c.t", "--warehouse", small_files)
    assert again.exit_code == 0
    assert again.stderr == "c.t: no partition holds more than one file under 96.0 MiB (2 considered); nothing to do\n"


@pytest.mark.parametrize("args, message", [
    (["--where", "v > 1"],
     "error: --where may only use partition keys (year, month, day); v is a column of c.t, not a partition key\n"),
    (["--where", "nope = '1'"],
     "error: --where may only use partition keys (year, month, day); nope is not a column of c.t, not a partition key\n"),
    (["--where", "year = 2024"],
     "error: --where 'year = 2024': '=' cannot be applied to varchar, integer "
     "(partition keys are strings: write year = '2024')\n"),
    (["--where", "year ="], None),
    (["--retain", "soon"], "error: --retain 'soon' is not a duration; write it like 60s, 5m or 1h\n"),
    (["--target-file-size", "big"], "error: --target-file-size 'big' is not a size; write it like 128MiB, 64KiB or 1000000\n"),
])
def test_refusals_are_one_line_exit_2_and_change_nothing(small_files, args, message):
    files = _tree(small_files)
    result = _run("c.t", "--warehouse", small_files, *args)
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    if message is not None:
        assert result.stderr == message
    assert _tree(small_files) == files


def test_an_unknown_table_is_exit_2_with_the_closest_name(small_files):
    result = _run("c.tt", "--warehouse", small_files)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: table c.tt not found in catalog local (")
    assert result.stderr.endswith("; did you mean c.t?\n")


def test_where_keeps_only_the_partitions_it_selects(small_files):
    result = _run("c.t", "--warehouse", small_files, "--where", "day = '02'", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert (doc["partitions_considered"], doc["partitions"]) == (1, [])
