"""``lakekit query``: run SQL with the estimate beside what the engine really read."""

from __future__ import annotations

import datetime as dt
import decimal
import sys
from typing import Any

import click

from lakekit.cli import emit_json, json_option, lake_options
from lakekit.units import format_bytes

FORMATS = ("table", "csv", "json", "parquet")


@click.command("query")
@click.argument("sql", required=False)
@click.option("-f", "--file", "sql_file", type=click.File("r", encoding="utf-8"), default=None,
              help="Read the SQL from FILE ('-' for stdin) instead of the argument.")
@click.option("--engine", type=click.Choice(["local", "athena"]), default=None,
              help="local: DuckDB in-process; athena: Amazon Athena. [env LAKEKIT_ENGINE; default local]")
@click.option("--estimate-cost", is_flag=True, help="Print the estimate, run, then print what was scanned beside it.")
@click.option("--dry-run", is_flag=True, help="Estimate only; run nothing.")
@click.option("--max-cost", type=float, default=None, metavar="USD",
              help="Refuse (exit 3) a query whose estimated cost is over USD, before it runs.")
@click.option("--price-per-tb", type=float, default=None, metavar="USD",
              help="Price per TB scanned (1 TB = 2^40 bytes). [price_per_tb in lakekit.toml; default 5.0]")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="How to write the rows.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None, metavar="PATH",
              help="Write the rows to PATH instead of stdout.")
@click.option("--timeout", type=float, default=None, metavar="SECONDS",
              help="Cancel the query when it runs longer than SECONDS.")
@lake_options
@json_option
def query(sql, sql_file, engine, estimate_cost, dry_run, max_cost, price_per_tb, fmt, output, timeout,
          warehouse, catalog, as_json):
    """Run SQL (Athena's dialect) on the lake; know what it scans before it runs.

    \b
    Example:
      lakekit query "SELECT count(*) FROM analytics.events WHERE year = '2024'" --estimate-cost
      lakekit query -f queries/daily_revenue.sql --dry-run --json
      lakekit query -f q.sql --max-cost 0.01 --format csv --output out.csv
    """
    from lakekit.errors import UsageError
    from lakekit.lake import open_lake
    from lakekit.plan import check_budget

    if (sql is None) == (sql_file is None):
        raise UsageError("give the SQL as an argument or with -f FILE (one of the two)")
    text = sql if sql is not None else sql_file.read()
    if fmt == "parquet" and output is None and sys.stdout.isatty():
        raise UsageError("--format parquet writes binary; add --output PATH or redirect stdout")
    with open_lake(warehouse=warehouse, catalog=catalog, engine=engine) as lake:
        if dry_run:
            est = lake.estimate(text, price_per_tb=price_per_tb)
        else:
            result = lake.run_query(text, max_cost=max_cost, price_per_tb=price_per_tb, timeout=timeout,
                                    on_estimate=lambda est: _show_estimate(est, estimate_cost and not as_json))
    if dry_run:
        if as_json:
            emit_json(est.to_dict())
        else:
            click.echo(render_estimate(est))
        check_budget(est, max_cost)
        return

    if output is not None:
        with open(output, "wb") as out:
            write_rows(result.table, fmt, out)
    if as_json:
        doc = result.to_dict(rows=False)
        doc["engine"] = result.engine
        if output is None:
            doc["rows"] = [jsonable_row(r) for r in result.table.to_pylist()]
        emit_json(doc)
    elif output is None:
        if fmt == "table":
            print_table(result.table)
        else:
            write_rows(result.table, fmt, sys.stdout.buffer)
            sys.stdout.flush()
    if not as_json:
        click.echo(render_actual(result, with_estimate=estimate_cost), err=True)


def _show_estimate(est, show: bool) -> None:
    if show:
        click.echo(render_estimate(est), err=True)


def render_estimate(est) -> str:
    """The estimate as a few lines of text."""

    lines = [
        f"Estimate: {format_bytes(est.bytes_scanned)} scanned, {format_bytes(est.bytes_billed)} billed, "
        f"${est.cost_usd:.6f} at ${est.price_per_tb_usd:.2f}/TB"
    ]
    for t in est.tables:
        parts = f"{t.partitions_scanned}/{t.partitions_total} partitions, " if t.partitions_total else ""
        columns = ", ".join(t.columns) if t.columns else "no columns (footers only)"
        lines.append(
            f"  {t.table}: {parts}{t.files_scanned} files, {t.row_groups_scanned} row groups, "
            f"{format_bytes(t.bytes_scanned)}; columns: {columns}"
        )
        if t.partitions_total and t.partitions_scanned == t.partitions_total and t.partitions_total > 1:
            reason = t.note or "no predicate prunes its partitions"
            lines.append(f"    every partition is scanned: {reason}")
        elif t.note:
            lines.append(f"    note: {t.note}")
    for a in est.advice:
        lines.append(f"  advice: {a.table}: {a.message}")
    return "\n".join(lines)


def render_actual(result, with_estimate: bool) -> str:
    """Athena's console readout: run time and data scanned (and the estimate beside it)."""
    from lakekit.plan import billed_bytes, cost_usd

    scanned = result.actual.bytes_scanned
    cost = (
        f", cost ${cost_usd(billed_bytes(scanned), result.estimate.price_per_tb_usd):.6f}"
        if scanned is not None else ""
    )
    engine_time = result.actual.engine_seconds
    engine_note = (
        f" (engine {engine_time:.2f} sec)"
        if engine_time is not None and abs(engine_time - result.actual.seconds) > 0.005 else ""
    )
    line = (
        f"Run time: {result.actual.seconds:.2f} sec{engine_note}, Data scanned: {format_bytes(scanned)}{cost}"
        f" ({result.engine} engine, {result.actual.rows:,} rows)"
    )
    if with_estimate:
        est = result.estimate
        line += f"; estimated {format_bytes(est.bytes_scanned)}, billed {format_bytes(est.bytes_billed)}, ${est.cost_usd:.6f}"
    return line


def jsonable_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: _jsonable(v) for k, v in row.items()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, float) and value != value:
        return None
    return value


def write_rows(table, fmt: str, out) -> None:
    """Write an Arrow table as csv, json (an array of objects), parquet or a text table."""
    import json

    if fmt == "csv":
        import pyarrow.csv as pacsv

        pacsv.write_csv(_naive(table), out)
    elif fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, out, compression="zstd")
    elif fmt == "json":
        rows = [jsonable_row(r) for r in table.to_pylist()]
        out.write((json.dumps(rows, indent=2) + "\n").encode("utf-8"))
    else:
        from io import StringIO

        from rich.console import Console

        buffer = StringIO()
        Console(file=buffer, width=200, highlight=False).print(_rich_table(table))
        out.write(buffer.getvalue().encode("utf-8"))


def _naive(table):
    """Timestamps shown in UTC without an offset, the way Athena prints them."""
    import pyarrow as pa

    columns = []
    for field, column in zip(table.schema, table.columns):
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            column = column.cast(pa.timestamp(field.type.unit))
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def _rich_table(table):
    from rich.table import Table as RichTable

    out = RichTable(*table.column_names, box=None, header_style="bold")
    for row in _naive(table).to_pylist():
        out.add_row(*("NULL" if v is None else str(_jsonable(v)) for v in row.values()))
    return out


def print_table(table) -> None:
    from rich.console import Console

    Console(highlight=False).print(_rich_table(table))


COMMANDS = [query]
