"""``lakekit query``: run SQL with the estimate beside what the engine really read."""

from __future__ import annotations

import sys
from typing import Any

import click

from lakekit.cli import emit_json, json_option, lake_options
from lakekit.cli.rows import FORMATS, check_output_path, jsonable_row, output_format, write_file, write_rows
from lakekit.units import format_bytes


@click.command("query")
@click.argument("sql", required=False)
@click.option("-f", "--file", "sql_file", type=click.File("r", encoding="utf-8"), default=None,
              help="Read the SQL from FILE ('-' for stdin) instead of the argument.")
@click.option("--engine", type=click.Choice(["local", "athena"]), default=None,
              help="local: DuckDB in-process; athena: Amazon Athena. [env LAKEKIT_ENGINE; default local]")
@click.option("--estimate-cost", is_flag=True, help="Print the estimate, run, then print what was scanned beside it.")
@click.option("--dry-run", is_flag=True, help="Estimate and check the query; run nothing.")
@click.option("--max-cost", type=float, default=None, metavar="USD",
              help="Refuse (exit 3) a query whose estimated cost is over USD, before it runs.")
@click.option("--price-per-tb", type=float, default=None, metavar="USD",
              help="Price per TB scanned (1 TB = 2^40 bytes). [price_per_tb in lakekit.toml; default 5.0]")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="How to write the rows. [default: from --output's extension (.csv .json .parquet), else table]")
@click.option("--output", "-o", default=None, metavar="PATH",
              help="Write the rows to PATH instead of stdout (checked before the query runs).")
@click.option("--max-rows", type=click.IntRange(min=0), default=1000, show_default=True, metavar="N",
              help="Rows the table format shows (csv, json and parquet write every row).")
@click.option("--timeout", type=float, default=None, metavar="SECONDS",
              help="Cancel the query when it runs longer than SECONDS.")
@lake_options
@json_option
def query(sql, sql_file, engine, estimate_cost, dry_run, max_cost, price_per_tb, fmt, output, max_rows, timeout,
          warehouse, catalog, as_json):
    """Run SQL (Athena's dialect) on the lake; know what it scans before it runs.

    \b
    Example:
      lakekit query "SELECT count(*) FROM analytics.events WHERE year = '2024'" --estimate-cost
      lakekit query -f queries/daily_revenue.sql --dry-run --json
      lakekit query -f q.sql --max-cost 0.01 --output out.csv
    """
    from lakekit.errors import LakekitError, UsageError
    from lakekit.lake import open_lake
    from lakekit.plan import check_budget

    if (sql is None) == (sql_file is None):
        raise UsageError("give the SQL as an argument or with -f FILE (one of the two)")
    text = sql if sql is not None else sql_file.read()
    # Everything about the output is settled before the query runs (and is billed, on Athena).
    fmt = output_format(fmt, output)
    path = check_output_path(output) if output is not None else None
    if fmt == "parquet" and path is None and sys.stdout.isatty():
        raise UsageError("--format parquet writes binary; add --output PATH or redirect stdout")

    known: dict[str, Any] = {}

    def on_estimate(est) -> None:
        known["estimate"] = est.to_dict()
        _show_estimate(est, estimate_cost and not as_json)

    try:
        with open_lake(warehouse=warehouse, catalog=catalog, engine=engine) as lake:
            if dry_run:
                est = lake.dry_run(text, price_per_tb=price_per_tb)
                known["estimate"] = est.to_dict()
                if not as_json:
                    click.echo(render_estimate(est))
                check_budget(est, max_cost)
            else:
                result = lake.run_query(text, max_cost=max_cost, price_per_tb=price_per_tb, timeout=timeout,
                                        on_estimate=on_estimate)
            if path is not None and not dry_run:
                write_file(result.table, fmt, path)
    except LakekitError as ex:
        ex.known = known  # the --json document of a refusal or failure carries what was known
        raise
    except OSError as ex:  # writing --output failed after the checks (disk full, ...)
        error = UsageError(f"cannot write --output {output}: {ex.strerror or ex}")
        error.known = known
        raise error from ex
    if dry_run:
        if as_json:
            emit_json(est.to_dict())
        return

    if as_json:
        doc = result.to_dict(rows=False)
        doc["engine"] = result.engine
        if path is None:
            doc["rows"] = [jsonable_row(r) for r in result.table.to_pylist()]
        emit_json(doc)
    elif path is None:
        write_rows(result.table, fmt, sys.stdout.buffer, max_rows=max_rows)
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
    """Athena's console readout: run time and data scanned (and the estimate beside it).

    Only Athena's own figure is a bill. The local engine's is its I/O (whole pages,
    footers read twice, read-ahead), which is neither what Athena would scan nor a
    cost, so it is labelled as such and priced by the estimate alone.
    """
    from lakekit.plan import billed_bytes, cost_usd

    scanned = result.actual.bytes_scanned
    engine_time = result.actual.engine_seconds
    engine_note = (
        f" (engine {engine_time:.2f} sec)"
        if engine_time is not None and abs(engine_time - result.actual.seconds) > 0.005 else ""
    )
    est = result.estimate
    estimate = (
        f"estimated {format_bytes(est.bytes_scanned)}, billed {format_bytes(est.bytes_billed)}, ${est.cost_usd:.6f}"
    )
    rows = f"{result.actual.rows:,} rows"
    if result.engine == "local":
        read = f", read {format_bytes(scanned)} from disk" if scanned is not None else ""
        line = f"Run time: {result.actual.seconds:.2f} sec{engine_note}{read} (local engine, {rows})"
        if with_estimate:
            line += f"; Athena would scan what the estimate counts: {estimate}"
        return line
    cost = (
        f", cost ${cost_usd(billed_bytes(scanned), est.price_per_tb_usd):.6f}"
        if scanned is not None else ""
    )
    line = (
        f"Run time: {result.actual.seconds:.2f} sec{engine_note}, Data scanned: {format_bytes(scanned)}{cost}"
        f" ({result.engine} engine, {rows})"
    )
    if with_estimate:
        line += f"; {estimate}"
    return line


COMMANDS = [query]
