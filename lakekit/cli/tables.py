"""``lakekit tables`` and ``lakekit describe``."""

from __future__ import annotations

import click

from lakekit.cli import emit_json, json_option, lake_options
from lakekit.units import human_bytes


@click.command("tables")
@click.argument("database", required=False)
@lake_options
@json_option
def tables_command(database, warehouse, catalog, as_json):
    """List the tables of the catalog (of one DATABASE when given).

    \b
    Example:
      lakekit tables
      lakekit tables analytics --json
    """
    from lakekit.lake import open_lake

    with open_lake(warehouse=warehouse, catalog=catalog) as lake:
        rows = lake.tables(database)
        where = lake.settings.local_catalog_path() if lake.reader.name == "local" else "glue"
        catalog_name = lake.reader.name
    if as_json:
        emit_json(rows)
        return
    from rich.console import Console
    from rich.table import Table as RichTable

    out = RichTable("table", "partitions", "files", "rows", "size", "location", box=None, header_style="bold")
    for r in rows:
        out.add_row(r["table"], f"{r['partitions']:,}", f"{r['files']:,}", f"{r['rows']:,}",
                    human_bytes(r["bytes"]), r["location"])
    console = Console(highlight=False)
    if rows:
        console.print(out)
    else:
        console.print(f"no tables in catalog {catalog_name} ({where})")


@click.command("drop")
@click.argument("table", metavar="DB.TABLE")
@click.option("--purge", is_flag=True, help="Delete the table's data files too (they are kept otherwise).")
@lake_options
@json_option
def drop_command(table, purge, warehouse, catalog, as_json):
    """Remove a table from the catalog, and with --purge its data too.

    Its load history goes with it, so the same sources can be ingested again. Use it
    when a table's layout has to change (a column's type, the partitioning).

    \b
    Example:
      lakekit drop analytics.events
      lakekit drop analytics.events --purge
    """
    from lakekit.lake import open_lake

    with open_lake(warehouse=warehouse, catalog=catalog) as lake:
        result = lake.drop(table, purge=purge)
    if as_json:
        emit_json(result)
        return
    what = "and deleted its data at" if result["purged"] else "kept its data at"
    click.echo(f"dropped {result['table']} from the catalog; {what} {result['location']}", err=True)


@click.command("describe")
@click.argument("table")
@click.option("--partitions", "show_partitions", type=int, default=20, show_default=True,
              help="How many partitions to list (0 for none, -1 for all).")
@lake_options
@json_option
def describe_command(table, show_partitions, warehouse, catalog, as_json):
    """Show a table's columns, partition keys, partitions, files and bytes.

    \b
    Example:
      lakekit describe analytics.events
    """
    from lakekit.lake import open_lake

    with open_lake(warehouse=warehouse, catalog=catalog) as lake:
        info = lake.describe(table)
    if as_json:
        emit_json(info)
        return
    from rich.console import Console
    from rich.table import Table as RichTable

    console = Console(highlight=False)
    console.print(f"[bold]{info['table']}[/bold]  {info['location']}")
    console.print(f"{info['files']:,} files, {info['rows']:,} rows, {human_bytes(info['bytes'])}, "
                  f"{info['partition_count']:,} partitions; parameters: "
                  + ", ".join(f"{k}={v}" for k, v in sorted(info["parameters"].items())))
    cols = RichTable("column", "type", "", box=None, header_style="bold")
    for c in info["columns"]:
        cols.add_row(c["name"], c["type"], "")
    for c in info["partition_keys"]:
        cols.add_row(c["name"], c["type"], "partition key")
    console.print(cols)
    parts = info["partitions"] if show_partitions < 0 else info["partitions"][:show_partitions]
    if parts:
        pt = RichTable("partition", "files", "rows", "size", box=None, header_style="bold")
        for p in parts:
            pt.add_row(p["name"], f"{p['files']:,}", f"{p['rows']:,}", human_bytes(p["bytes"]))
        console.print(pt)
        if len(parts) < info["partition_count"]:
            console.print(f"... {info['partition_count'] - len(parts):,} more (--partitions -1 lists all)")


COMMANDS = [drop_command, tables_command, describe_command]
