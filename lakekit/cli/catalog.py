"""``lakekit catalog crawl`` and ``lakekit catalog sync``."""

from __future__ import annotations

import click

from lakekit.cli import emit_json, json_option, lake_options, stderr_console
from lakekit.units import human_bytes


def _list(console, label: str, names: list[str], limit: int = 10) -> None:
    if not names:
        return
    console.print(f"  {label} ({len(names)}):")
    for name in names[:limit]:
        console.print(f"    {name}")
    if len(names) > limit:
        console.print(f"    ... and {len(names) - limit} more")


@click.group("catalog")
def catalog() -> None:
    """Register existing data and keep the catalog in step with storage.

    \b
    Example:
      lakekit catalog crawl s3://bucket/exports/clicks --table analytics.clicks --catalog glue
      lakekit catalog sync analytics.clicks --dry-run
    """


@catalog.command("crawl")
@click.argument("location")
@click.option("--table", "table", required=True, metavar="DB.TABLE", help="Table to register the data as.")
@click.option("--replace", is_flag=True,
              help="Register LOCATION in place of an existing table of that name (its data is left alone).")
@lake_options
@json_option
def crawl_command(location: str, table: str, replace: bool, warehouse: str | None, catalog: str | None,
                  as_json: bool) -> None:
    """Register a Parquet key=value layout lakekit did not write (a folder or s3:// prefix).

    Partition keys come from the key=value folders, columns from the files' Parquet
    footers (only footers are read). Columns whose type differs between files are
    reported. Crawling the same location again brings the table up to date; a table of
    that name from elsewhere (or written by lakekit ingest) is replaced only with --replace.

    \b
    Example:
      lakekit catalog crawl ./exports/clicks --table analytics.clicks
      lakekit catalog crawl s3://bucket/exports/clicks --table analytics.clicks --catalog glue --json
    """
    from lakekit.lake import open_lake

    with open_lake(warehouse=warehouse, catalog=catalog) as lake:
        result = lake.crawl(location, table, replace=replace)
    console = stderr_console()
    for conflict in result.schema_conflicts:
        console.print(f"warning: schema disagreement in {result.table}: {conflict.describe()}")
    for column, count in result.missing_columns.items():
        console.print(f"warning: column {column} is missing from {count} file(s); those read it as NULL")
    for skip in result.skipped:
        console.print(f"warning: skipped {skip['uri']}: {skip['reason']}")
    for nanos in result.nanosecond_timestamps:
        console.print(
            f"warning: column {nanos['column']} is stored as nanosecond timestamps in {nanos['files']} file(s) "
            f"(e.g. {nanos['example']}); Athena cannot read them: rewrite them with microsecond timestamps "
            "(pyarrow: coerce_timestamps='us')"
        )
    if as_json:
        emit_json(result.to_dict())
        return
    d = result.to_dict()
    keys = ", ".join(result.partition_keys) or "none"
    console.print(
        f"registered {result.table} at {result.location}: {len(result.columns)} columns, "
        f"partition keys {keys}, {result.partitions:,} partitions, {result.files:,} files, {human_bytes(result.bytes)}"
    )
    _list(console, "partitions added", d["partitions_added"])
    _list(console, "partitions removed", d["partitions_removed"])


@catalog.command("sync")
@click.argument("table", metavar="DB.TABLE")
@click.option("--dry-run", is_flag=True, help="List what would change; change nothing.")
@lake_options
@json_option
def sync_command(table: str, dry_run: bool, warehouse: str | None, catalog: str | None, as_json: bool) -> None:
    """Make the catalog's partitions and file statistics match what storage holds.

    Adds partitions that have data but no catalog entry, removes catalog partitions
    whose data is gone, and refreshes file statistics (footers of new files only).

    \b
    Example:
      lakekit catalog sync analytics.events --dry-run
      lakekit catalog sync analytics.events --catalog glue --warehouse s3://bucket/lake
    """
    from lakekit.lake import open_lake

    with open_lake(warehouse=warehouse, catalog=catalog) as lake:
        result = lake.sync(table, dry_run=dry_run)
    console = stderr_console()
    for skip in result.skipped:
        console.print(f"warning: ignored {skip['uri']}: {skip['reason']}")
    for beyond in result.outside_projection:
        console.print(f"warning: Athena never reads {beyond['partition']}: {beyond['reason']}")
    if as_json:
        emit_json(result.to_dict())
        return
    d = result.to_dict()
    verb = "would" if dry_run else "did"
    if result.projection:
        console.print(f"{result.table}: partition projection is on; Athena computes its partitions, none to register")
    if not result.changed:
        console.print(f"{result.table}: catalog and storage agree; nothing to do")
        return
    console.print(
        f"{result.table}: {verb} add {len(d['partitions_added'])}, remove {len(d['partitions_removed'])}, "
        f"update {len(d['partitions_updated'])} partition(s); {len(d['files_added'])} file(s) new, "
        f"{len(d['files_removed'])} gone"
    )
    _list(console, "partitions to add" if dry_run else "partitions added", d["partitions_added"])
    _list(console, "partitions to remove" if dry_run else "partitions removed", d["partitions_removed"])
    _list(console, "partitions to update" if dry_run else "partitions updated", d["partitions_updated"])


COMMANDS = [catalog]
