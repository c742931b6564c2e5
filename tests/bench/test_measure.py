"""The benchmark harness measures what it claims: wall time, exit code, peak memory."""

from __future__ import annotations

import sys
import time

import pytest

from tests.helpers import ROOT

pytest.importorskip("psutil", reason="the benchmark harness needs psutil (the dev extra)")
sys.path.insert(0, str(ROOT / "benchmarks"))

from _measure import MIB, measure

ALLOC = "import time; b = bytearray({mib} * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); time.sleep({sleep})"


def test_peak_rss_of_a_child_that_allocates_200_mib():
    m = measure([sys.executable, "-c", ALLOC.format(mib=200, sleep=0.2)])
    assert m.ok
    assert 200 <= m.peak_rss_mb < 260


def test_a_small_run_after_a_big_one_reports_its_own_peak():
    # RUSAGE_CHILDREN's maximum never decreases; wait4 per child must not inherit it.
    big = measure([sys.executable, "-c", ALLOC.format(mib=300, sleep=0)])
    small = measure([sys.executable, "-c", "pass"])
    assert big.peak_rss_mb >= 300
    assert small.peak_rss_mb < 60


def test_concurrent_processes_in_the_tree_are_summed():
    one = f"{sys.executable} -c \"{ALLOC.format(mib=150, sleep=1.0)}\""
    m = measure(["bash", "-c", f"{one} & {one}; wait"])
    assert m.ok
    assert m.rusage_peak_bytes < 250 * MIB  # the kernel's figure is the largest single process
    assert m.sampled_tree_peak_bytes >= 300 * MIB
    assert m.peak_rss_mb >= 300


def test_exit_code_output_and_wall_time():
    script = "import sys, time; time.sleep(0.3); print('out'); print('oops', file=sys.stderr); sys.exit(5)"
    m = measure([sys.executable, "-c", script])
    assert (m.returncode, m.stdout, m.stderr) == (5, "out\n", "oops\n")
    assert 0.3 <= m.seconds < 5
    assert not m.ok
    assert m.failure() == "exit 5: oops"


def test_timeout_kills_the_whole_process_group():
    started = time.perf_counter()
    m = measure(["bash", "-c", f"{sys.executable} -c 'import time; time.sleep(30)' & wait"], timeout=0.5)
    assert m.timed_out and not m.ok
    assert time.perf_counter() - started < 10
    assert m.failure().startswith("timed out")


def test_a_big_parent_does_not_inflate_a_small_childs_peak():
    # Linux counts a child's pre-exec copy of its parent in ru_maxrss; the launcher
    # keeps this benchmark's own memory out of the figure.
    ballast = bytearray(400 * MIB)
    ballast[:: 4096] = b"x" * len(ballast[:: 4096])
    m = measure([sys.executable, "-c", "pass"])
    assert m.ok
    assert m.peak_rss_mb < 60
    del ballast
