"""Run one command in its own process; report wall time, CPU time and peak memory.

Shared by the benchmarks in this folder. Peak memory is measured two ways, because
each misses something the other sees:

* ``rusage_peak_bytes``: the kernel's high-water mark (``ru_maxrss``) returned by
  ``os.wait4`` for exactly this child. It is exact and catches spikes shorter than
  any sampling interval, but it is the peak of the single largest process in the
  child's tree (Linux folds reaped grandchildren in as a max, not a sum).
* ``sampled_tree_peak_bytes``: the largest *sum* of RSS over the child and all its
  descendants, sampled with psutil every ``sample_interval`` seconds. It sees
  worker processes running at the same time, but can miss a short spike.

``peak_rss_bytes`` is the larger of the two, and is what the benchmarks report.

Two traps this avoids. ``RUSAGE_CHILDREN`` deltas: that maximum never goes down, so a
small run after a big one would report the big one's peak; ``wait4`` gives each
child's own. And Linux counts the memory a child had *before* ``exec`` (its copy of
the parent's address space) in ``ru_maxrss``, so a child spawned by a benchmark
that holds 600 MB reports at least 600 MB. The command is therefore started by a
tiny launcher process (a fresh interpreter, a few MB) that forks, execs the command,
``wait4``s for it and hands back its rusage and wall time; the launcher itself is
left out of the sampled tree.

>>> import sys
>>> m = measure([sys.executable, "-c", "print('hi')"])
>>> m.returncode, m.stdout.strip(), m.seconds > 0, m.peak_rss_bytes > 1_000_000
(0, 'hi', True, True)
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import psutil

MIB = 1024 * 1024

# Runs in a fresh interpreter: forks (from a small address space), execs the command,
# waits for it, writes its rusage and wall time as JSON to the file in argv[1], and
# exits with the command's exit code.
_LAUNCHER = """
import json, os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    except OSError as ex:
        os.write(2, f"cannot run {argv[0]}: {ex}\\n".encode())
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - started
with open(report, "w") as f:
    json.dump({"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime, "maxrss_kib": usage.ru_maxrss}, f)
sys.exit(os.waitstatus_to_exitcode(status) & 0xFF if os.waitstatus_to_exitcode(status) >= 0
         else 128 - os.waitstatus_to_exitcode(status))
"""


@dataclass(frozen=True)
class Measurement:
    """What one run of a command cost."""

    argv: tuple[str, ...]
    returncode: int
    seconds: float
    cpu_seconds: float
    rusage_peak_bytes: int
    sampled_tree_peak_bytes: int
    stdout: str
    stderr: str
    timed_out: bool = False

    @property
    def peak_rss_bytes(self) -> int:
        return max(self.rusage_peak_bytes, self.sampled_tree_peak_bytes)

    @property
    def peak_rss_mb(self) -> float:
        """Peak RSS in MiB (the "MB" of the benchmark tables)."""
        return self.peak_rss_bytes / MIB

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def failure(self) -> str:
        """One line saying why the run failed: the exit code and the last stderr line."""
        if self.timed_out:
            return f"timed out after {self.seconds:.0f}s"
        tail = [line for line in self.stderr.strip().splitlines() if line.strip()]
        return f"exit {self.returncode}: {tail[-1] if tail else '(no stderr)'}"


def _tree_rss(launcher: psutil.Process) -> int:
    """RSS summed over the launcher's descendants (the command and whatever it started)."""
    total = 0
    try:
        members = launcher.children(recursive=True)
    except psutil.Error:
        return 0
    for member in members:
        try:
            total += member.memory_info().rss
        except psutil.Error:
            pass  # exited between listing and reading: its memory is gone anyway
    return total


def measure(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike | None = None,
    timeout: float | None = None,
    sample_interval: float = 0.1,
) -> Measurement:
    """Run ``argv`` to completion in a new process group and measure it.

    Args:
        argv: the command and its arguments.
        env: the child's full environment (``None``: inherit ours).
        cwd: the child's working directory.
        timeout: seconds before the whole process group is killed (``timed_out``).
        sample_interval: seconds between psutil samples of the process tree's RSS.

    Returns:
        A Measurement; stdout and stderr are captured through temporary files so a
        chatty child can never block on a full pipe.

    >>> import sys
    >>> measure([sys.executable, "-c", "import sys; sys.exit(3)"]).returncode
    3
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r", suffix=".json") as report:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-S", "-c", _LAUNCHER, report.name, *argv], stdout=out, stderr=err,
            env=dict(env) if env is not None else None, cwd=cwd, start_new_session=True,
        )
        sampled_peak = 0
        done = threading.Event()
        timed_out = threading.Event()

        def sample() -> None:
            nonlocal sampled_peak
            try:
                proc = psutil.Process(child.pid)
            except psutil.Error:
                return
            while not done.is_set():
                sampled_peak = max(sampled_peak, _tree_rss(proc))
                if timeout is not None and time.perf_counter() - started > timeout:
                    timed_out.set()
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(child.pid, signal.SIGKILL)
                    return
                done.wait(sample_interval)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        child.wait()
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        try:
            # The launcher's own figures: exact for the command, without its start-up.
            with open(report.name) as launcher_report:
                usage = json.loads(launcher_report.read())
            seconds, cpu, maxrss = usage["seconds"], usage["cpu"], usage["maxrss_kib"] * 1024  # Linux: KiB
        except (OSError, ValueError, KeyError):
            cpu, maxrss = 0.0, 0  # killed on timeout before it could report
        out.seek(0)
        err.seek(0)
        return Measurement(
            argv=tuple(argv),
            returncode=child.returncode,
            seconds=seconds,
            cpu_seconds=cpu,
            rusage_peak_bytes=maxrss,
            sampled_tree_peak_bytes=sampled_peak,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            timed_out=timed_out.is_set(),
        )


def rtt_session(rtt_ms: float):
    """A boto3 session; with ``rtt_ms`` > 0 every request first sleeps that long (a
    simulated round trip to AWS, for benchmarks against a local moto server)."""
    import boto3

    session = boto3.Session()
    if rtt_ms > 0:
        def simulated_round_trip(**_):
            time.sleep(rtt_ms / 1000)

        session.events.register("before-send", simulated_round_trip)
    return session
