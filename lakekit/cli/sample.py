"""``lakekit sample``: synthetic data for trying lakekit out."""

from __future__ import annotations

import sys

import click

from lakekit import sample as samples


@click.group("sample")
def sample() -> None:
    """Generate sample data.

    \b
    Example:
      lakekit sample events --rows 100000 > events.jsonl
    """


@sample.command("events")
@click.option("--rows", type=click.IntRange(min=0), default=10_000, show_default=True, help="Records to write.")
@click.option("--days", type=click.IntRange(min=1), default=60, show_default=True, help="Days the timestamps span.")
@click.option("--seed", type=int, default=42, show_default=True, help="Random seed (same seed, same records).")
@click.option("--bad-fraction", type=click.FloatRange(0, 1), default=0.0, help="Share of malformed records.")
def sample_events(rows: int, days: int, seed: int, bad_fraction: float) -> None:
    """Write click-stream events as JSON Lines on stdout (timestamps in `ts`, UTC).

    \b
    Example:
      lakekit sample events --rows 1000 --days 7 > events.jsonl
    """
    write = sys.stdout.write
    for line in samples.events_jsonl(rows, days=days, seed=seed, bad_fraction=bad_fraction):
        write(line)


COMMANDS = [sample]
