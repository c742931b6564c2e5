"""``lakekit history``: past query runs, the estimate beside what the engine scanned."""

from __future__ import annotations

import click

from lakekit.cli import emit_json, json_option, lake_options
from lakekit.units import format_bytes


@click.command("history")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, metavar="N",
              help="Show the N most recent runs.")
@lake_options
@json_option
def history_command(limit, warehouse, catalog, as_json):
    """Past queries: SQL, engine, estimate, scanned, cost, time; and the estimate's error per engine.

    Every `lakekit query` run is recorded where the catalog can be written (the local
    catalog's file, or _lakekit/history/ in the warehouse for Glue). The error is
    (estimate - scanned) / scanned, against the bytes the engine reported (Athena's
    DataScannedInBytes, the bytes DuckDB read).

    \b
    Example:
      lakekit history
      lakekit history --limit 100 --json
    """
    from lakekit.catalog.history import error_by_engine
    from lakekit.lake import open_lake

    with open_lake(warehouse=warehouse, catalog=catalog) as lake:
        records = lake.history(limit=limit)
    errors = error_by_engine(records)
    if as_json:
        emit_json({"queries": [r.to_dict() for r in records], "estimate_error": errors})
        return
    if not records:
        click.echo("no query runs recorded yet (lakekit query records each run)", err=True)
        return
    from rich.console import Console
    from rich.table import Table as RichTable

    out = RichTable("started", "engine", "estimate", "scanned", "error", "cost", "seconds", "sql",
                    box=None, header_style="bold")
    for r in records:
        error = "" if r.error is None else f"{r.error:+.1%}"
        sql = " ".join(r.sql.split())
        out.add_row(r.started_at[:19].replace("T", " "), r.engine, format_bytes(r.estimate_bytes_scanned),
                    format_bytes(r.bytes_scanned), error, f"${r.cost_usd:.6f}", f"{r.seconds:.2f}",
                    sql if len(sql) <= 60 else sql[:57] + "...")
    console = Console(highlight=False)
    console.print(out)
    for engine, e in errors.items():
        if e["measured"]:
            console.print(f"{engine}: estimate error median {e['median_error']:+.1%}, worst {e['worst_error']:+.1%} "
                          f"over {e['measured']} run(s)")


COMMANDS = [history_command]
