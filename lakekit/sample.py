"""Synthetic event records for demos, tests and benchmarks.

>>> rec = next(iter(events(1, seed=1)))
>>> sorted(rec)
['amount', 'country', 'device', 'event_id', 'event_type', 'quantity', 'session_ms', 'ts', 'user_id']
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator

EVENT_TYPES = ("page_view", "click", "add_to_cart", "purchase", "search", "signup")
COUNTRIES = ("US", "DE", "FR", "GB", "JP", "BR", "IN", "CA", "AU", "ES")
DEVICES = ("ios", "android", "web", "desktop")


def events(
    rows: int,
    *,
    days: int = 60,
    start: dt.datetime = dt.datetime(2024, 3, 1, tzinfo=dt.UTC),
    seed: int = 42,
    bad_fraction: float = 0.0,
) -> Iterator[dict | str]:
    """``rows`` click-stream events spread over ``days`` days (about 200 bytes each as JSON).

    With ``bad_fraction`` > 0, that share of records comes out as a malformed JSON
    string (truncated or with a wrong type) instead of a dict: test input for rejects.
    """
    rnd = random.Random(seed)
    span = days * 86400
    base = start.timestamp()
    for i in range(rows):
        ts = dt.datetime.fromtimestamp(base + rnd.random() * span, dt.UTC)
        event_type = rnd.choice(EVENT_TYPES)
        record = {
            "event_id": f"e{seed:02d}-{i:09d}",
            "ts": ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "user_id": rnd.randrange(1, 50_000),
            "event_type": event_type,
            "country": rnd.choice(COUNTRIES),
            "device": rnd.choice(DEVICES),
            "amount": round(rnd.uniform(1, 500), 2) if event_type == "purchase" else 0.0,
            "quantity": rnd.randrange(1, 5) if event_type == "purchase" else 0,
            "session_ms": rnd.randrange(10, 3_600_000),
        }
        if bad_fraction and rnd.random() < bad_fraction:
            if rnd.random() < 0.5:
                yield json.dumps(record)[: rnd.randrange(5, 60)]  # truncated line
            else:
                record["user_id"] = "not-a-number"
                yield json.dumps(record)
            continue
        yield record


def events_jsonl(rows: int, **kwargs) -> Iterator[str]:
    """The same events as JSON Lines text, one line per record, newline included."""
    for rec in events(rows, **kwargs):
        yield (rec if isinstance(rec, str) else json.dumps(rec, separators=(",", ":"))) + "\n"
