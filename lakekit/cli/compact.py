"""``lakekit compact``."""

from __future__ import annotations

import click

from lakekit.cli import emit_json, json_option, lake_options, stderr_console
from lakekit.units import human_bytes

#: partitions listed one by one in the plan and the summary; the rest are counted
_LISTED = 20


@click.command("compact")
@click.argument("table", metavar="DB.TABLE")
@click.option("--where", "where", metavar="PREDICATE", default=None,
              help="Only the partitions this predicate on partition keys keeps (Athena SQL).")
@click.option("--target-file-size", default="128MiB", show_default=True, metavar="SIZE",
              help="Size the rewritten files are written at; files under 3/4 of it are small.")
@click.option("--retain", default="1h", show_default=True, metavar="DURATION",
              help="How long replaced files stay for queries already reading them (0: delete at once, local only).")
@click.option("--dry-run", is_flag=True, help="Print the plan (partitions, files before and after, bytes); change nothing.")
@lake_options
@json_option
def compact_command(table: str, where: str | None, target_file_size: str, retain: str, dry_run: bool,
                    warehouse: str | None, catalog: str | None, as_json: bool) -> None:
    """Rewrite partitions holding many small files into files near the target size.

    A partition is compacted when it holds more than one file under 3/4 of the target
    size; those files are rewritten (same rows, types and codec), its other files are
    kept. Each partition switches to its new files in one commit: every catalog reader
    (lakekit, Athena through Glue) sees the old files or the new, never both, never
    neither. Replaced files are deleted by a later compact or ingest once --retain has
    passed.

    \b
    Example:
      lakekit compact app.events --dry-run
      lakekit compact app.events --where "year = '2024' AND month = '06' AND day = '01'"
      lakekit compact app.events --catalog glue --warehouse s3://bucket/lake --json
    """
    from lakekit.lake import open_lake

    with open_lake(warehouse=warehouse, catalog=catalog) as lake:
        result = lake.compact(table, where=where, target_file_size=target_file_size, retain=retain, dry_run=dry_run)
    console = stderr_console()

    def say(line: str) -> None:
        console.print(line, soft_wrap=True)  # one line a fact, whatever the terminal's width

    for warning in result.warnings:
        say(f"warning: {warning}")
    if as_json:
        emit_json(result.to_dict())
        return
    d = result.to_dict()
    if not result.partitions:
        say(f"{result.table}: no partition holds more than one file under "
                      f"{human_bytes(result.target_file_size * 3 / 4)} ({d['partitions_considered']} considered); "
                      "nothing to do")
        return
    verb = "would rewrite" if dry_run else "rewrote"
    say(f"{result.table}: {verb} {len(result.compacted)} partition(s): {d['files_before']:,} file(s) -> "
                  f"{d['files_after']:,}, {human_bytes(d['bytes_rewritten'])} rewritten"
                  + ("" if dry_run else f" into {human_bytes(d['bytes_written'])} in {d['seconds']}s"))
    for part in result.partitions[:_LISTED]:
        name = part.partition or "(unpartitioned)"
        if part.skipped:
            say(f"  {name}: skipped, {part.skipped}")
        else:
            say(f"  {name}: {part.files_before:,} -> {part.files_after:,} file(s), "
                          f"{human_bytes(part.bytes)} rewritten")
    if len(result.partitions) > _LISTED:
        say(f"  ... and {len(result.partitions) - _LISTED} more")
    if not dry_run and result.retain_seconds > 0:
        say(f"replaced files stay {_duration(result.retain_seconds)} for queries already reading them; "
                      "a later compact or ingest deletes them")


def _duration(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{int(seconds // 3600)}h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)}m"
    return f"{seconds:g}s"


COMMANDS = [compact_command]
