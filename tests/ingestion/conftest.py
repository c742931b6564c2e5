"""Fixtures for the ingestion tests."""

from __future__ import annotations

import pytest

from tests.helpers import write_events


@pytest.fixture
def events_file(tmp_path) -> str:
    """3,000 sample events over ten days, as JSON Lines."""
    return write_events(tmp_path / "events.jsonl", 3000, days=10, seed=7)
