"""Fixtures shared by every test package. Area-specific fixtures live beside their tests."""

from __future__ import annotations

import gc
import os

import pytest
from hypothesis import settings

from tests.moto_server import MotoServer

# Property tests draw the same examples on every run (HYPOTHESIS_PROFILE=explore draws
# new ones), so `make test` gives one answer on a clean clone; exploring is a separate run.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    """Collect once more, then freeze what survives, before an xdist worker reports that
    it finished. After that report the controller gives the worker 5 s to end (execnet
    then sends it a SIGINT), and pytest still runs full collections; over a worker's
    heap on a loaded machine they took longer, and the KeyboardInterrupt landed in
    hypothesis's gc callback (PytestUnraisableExceptionWarning). Frozen, what lived at
    this collection is not walked again; garbage it found was finalized while pytest
    still reports what finalizers raise."""
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch, tmp_path):
    """No LAKEKIT_*/AWS_* from the developer's shell and no lakekit.toml leak into tests."""
    for key in list(os.environ):
        if key.startswith(("LAKEKIT_", "AWS_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


@pytest.fixture
def warehouse(tmp_path) -> str:
    """An empty local warehouse folder."""
    path = tmp_path / "lake"
    path.mkdir()
    return str(path)


@pytest.fixture(scope="session")
def moto_server():
    """One real moto server process per test session (per xdist worker), on 127.0.0.1."""
    server = MotoServer().start()
    yield server
    server.stop()


@pytest.fixture
def aws(moto_server, monkeypatch):
    """Point boto3 at a freshly reset moto server; returns the server."""
    moto_server.reset()
    for key, value in moto_server.env().items():
        monkeypatch.setenv(key, value)
    return moto_server


# Fixtures with more than one user across packages; the modules say what each lake holds.
from tests.backends import backend_lake, s3_lake  # noqa: E402, F401 - fixtures
from tests.clicks_lake import clicks_lake  # noqa: E402, F401 - fixtures
