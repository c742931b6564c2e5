"""``lakekit ingest``."""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
import time

import click

from lakekit.cli import emit_json, json_option, lake_options, stderr_console
from lakekit.errors import LakekitError, UsageError
from lakekit.units import human_bytes


def _lean_allocator() -> None:
    """Return freed Arrow memory to the OS promptly: this process exists to stream.

    pyarrow's default allocator keeps freed pages for reuse, which is fast but lets
    peak RSS drift far above what is live; jemalloc with decay 0 keeps RSS close to
    the memory budget at little cost. The library API leaves the allocator alone.
    """
    import pyarrow as pa

    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
        pa.jemalloc_set_decay_ms(0)
    except (NotImplementedError, pa.ArrowNotImplementedError):
        pass


class _NoPandas:
    """An import finder that says pandas is not installed (used for one call, below)."""

    def find_spec(self, name, path=None, target=None):
        if name == "pandas":
            raise ImportError("pandas is not needed to ingest")
        return None


def _skip_pandas_probe() -> None:
    """Stop pyarrow from importing pandas (about 0.3 s) just to look for it.

    pyarrow imports pandas the first time it converts a Python value (``pa.scalar``,
    ``pa.array``, a compute call with a literal) to check whether the value is a pandas
    object; an ingest has none. One such conversion is made here while pandas looks
    absent; pyarrow remembers the answer for its checks, and anything that really asks
    for pandas afterwards (``to_pandas``, ``import pandas``) still gets it.
    """
    import sys

    import pyarrow as pa

    if "pandas" in sys.modules:
        return
    finder = _NoPandas()
    sys.meta_path.insert(0, finder)
    try:
        pa.scalar(0)
    finally:
        sys.meta_path.remove(finder)


@click.command("ingest")
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")
@click.option("--table", "table", metavar="DB.TABLE", help="Target table (or from --layout).")
@click.option("--timestamp-column", metavar="COL", help="Column whose UTC time gives the partition values.")
@click.option("--timestamp-format", metavar="FMT",
              help="strftime pattern of the timestamp column, e.g. '%d/%b/%Y:%H:%M:%S %z' (year-first dates need none).")
@click.option("--partition-by", metavar="GRAINS", help="year,month,day (default), year,month or year.")
@click.option("--input-format", type=click.Choice(["auto", "jsonl", "json", "csv", "tsv"]), default="auto",
              show_default=True, help="json: an array, or values one after another; auto tells by name and content.")
@click.option("--delimiter", metavar="CHAR", help="CSV delimiter instead of the sniffed one (, ; tab |).")
@click.option("--null-value", "null_values", metavar="S", multiple=True,
              help="Text that is NULL (repeatable); replaces the default list (NA, N/A, NULL, null, NaN, ...).")
@click.option("--compression", type=click.Choice(["zstd", "snappy", "gzip", "none"]), default=None,
              help="Parquet codec. [default: zstd]")
@click.option("--target-file-size", metavar="SIZE", help="Target Parquet file size, e.g. 128MiB. [default: 128MiB]")
@click.option("--mode", type=click.Choice(["append", "overwrite-partitions"]), default="append", show_default=True,
              help="overwrite-partitions replaces exactly the partitions the input touches.")
@click.option("--max-rejects", type=click.IntRange(min=0), default=None,
              help="Abort (exit 1, nothing committed) when more records than this are rejected.")
@click.option("--layout", type=click.Path(dir_okay=False), help="Layout file with table, partitioning, codec, columns.")
@click.option("--force", is_flag=True, help="Ingest sources even if their content was ingested before.")
@click.option("--projection/--no-projection", default=None, help="Register Athena partition projection instead of partitions.")
@click.option("--buffer-size", metavar="SIZE", default=None,
              help="stdin: commit a batch when this much has arrived. [default: 64MiB]")
@click.option("--buffer-interval", metavar="DURATION", default=None,
              help="stdin: commit a batch this long after its first record, e.g. 60s, 5m. [default: 60s]")
@click.option("--transform", metavar="MODULE:FUNCTION", default=None,
              help="Python function that transforms each list of records before they are written.")
@click.option("--backup", metavar="URI", default=None,
              help="Folder or s3:// prefix that receives a gzip copy of the raw input.")
@lake_options
@json_option
def ingest_command(sources, table, timestamp_column, timestamp_format, partition_by, input_format, delimiter,
                   null_values, compression, target_file_size, mode, max_rejects, layout, force, projection,
                   buffer_size, buffer_interval, transform, backup, warehouse, catalog, as_json):
    """Turn JSON Lines, JSON or CSV records into a partitioned, compressed Parquet table.

    SOURCE is a file, folder, glob, s3:// URI, or - for stdin; .gz, .bz2 and .zst are
    read transparently. Records that cannot be read or converted go to the rejects
    file, one JSON object a line; the table changes only when the ingest commits.
    docs/ingest.md says how formats, nulls, values and names are read.

    From stdin (-) the ingest streams: a batch is committed each time --buffer-size
    bytes have arrived or --buffer-interval has passed since its first record, until
    end of input; SIGTERM or a first Ctrl-C commits what is buffered and stops.
    Records not committed yet are spooled in the warehouse and committed by the next
    run. --json then prints one document per batch, one a line.

    \b
    Example:
      lakekit ingest events.jsonl --table analytics.events --timestamp-column ts
      lakekit ingest 'exports/*.csv.gz' --layout layouts/events.yaml --max-rejects 100
      tail -F app.jsonl | lakekit ingest - --table app.events --timestamp-column ts --buffer-interval 60s
    """
    from lakekit.ingestion.hashing import start_hashing
    from lakekit.lake import open_lake

    # Hashing local sources needs only the standard library: started first, it reads
    # them on the other core while pyarrow and the pipeline are imported.
    early_hashes = start_hashing(list(sources))
    _lean_allocator()
    _skip_pandas_probe()
    if "-" in sources:
        if len(sources) > 1:
            raise UsageError("stdin (-) is streamed in batches and cannot be mixed with other sources; "
                             "ingest the files in a run of their own")
        if mode != "append" or projection:
            raise UsageError("stdin (-) streams appends; --mode overwrite-partitions and --projection "
                             "apply to files")
        _stream(table=table, timestamp_column=timestamp_column, timestamp_format=timestamp_format,
                partition_by=partition_by, input_format=input_format, delimiter=delimiter,
                null_values=null_values or None, compression=compression, target_file_size=target_file_size,
                max_rejects=max_rejects, layout=layout, force=force, buffer_size=buffer_size,
                buffer_interval=buffer_interval, transform=transform, backup=backup, warehouse=warehouse,
                catalog=catalog, as_json=as_json)
        return
    if buffer_size is not None or buffer_interval is not None:
        raise UsageError("--buffer-size and --buffer-interval apply to stdin (-); files are committed whole")
    try:
        with open_lake(warehouse=warehouse, catalog=catalog) as lake:
            result = lake.ingest(
                list(sources), table, timestamp_column=timestamp_column, partition_by=partition_by,
                input_format=input_format, compression=compression, target_file_size=target_file_size, mode=mode,
                max_rejects=max_rejects, layout=layout, force=force, projection=projection, delimiter=delimiter,
                null_values=null_values or None, timestamp_format=timestamp_format, progress=sys.stderr.isatty(),
                transform=transform, backup=backup, early_hashes=early_hashes,
            )
    except LakekitError as ex:
        partial = getattr(ex, "result", None)
        if as_json:
            # The counts of the aborted ingest and the error, as SPEC asks of --json.
            doc = partial.to_dict() if partial is not None else {}
            emit_json({**doc, "error": {"exit_code": ex.exit_code, "message": str(ex)}})
        raise
    if as_json:
        emit_json(result.to_dict())
        return
    _print_summary(stderr_console(), result)


def _print_summary(console, result) -> None:
    lines = []
    if result.skipped_sources:
        lines.append(f"skipped {len(result.skipped_sources)} source(s) already ingested into {result.table} "
                     f"(use --force to ingest again): {', '.join(result.skipped_sources)}")
    if result.records_read or not result.skipped_sources:
        lines.append(
            f"{result.table}: read {result.records_read:,} records, wrote {result.records_written:,} "
            f"in {result.files_written} file(s) ({human_bytes(result.bytes_written)}) across "
            f"{result.partitions_written} partition(s), rejected {result.records_rejected:,} "
            f"in {result.seconds:.2f}s  [ingest {result.ingest_id}]"
        )
    if result.renamed_columns:
        lines.append("renamed for Glue and Athena: " + ", ".join(f"{a!r} -> {b}" for a, b in result.renamed_columns.items()))
    for line in lines:
        console.print(line, markup=False, soft_wrap=True)
    if result.reject_errors:
        _print_reject_errors(console, result.reject_errors)
    if result.rejects_uri:
        console.print(f"rejected records: {result.rejects_uri}", markup=False, soft_wrap=True)
    for warning in result.warnings:
        console.print(f"warning: {warning}", markup=False, soft_wrap=True)


def _print_reject_errors(console, errors: list[dict]) -> None:
    console.print("most common reject errors:", markup=False)
    for e in errors:
        console.print(f"  {e['count']:,} x {e['error']}", markup=False, soft_wrap=True)


class _Signals:
    """SIGTERM and a first SIGINT ask the stream to commit what it holds and stop; a
    second SIGINT stops at once (what was not committed stays in the spool)."""

    def __init__(self, stop: threading.Event):
        self.stop = stop
        self.interrupted = False
        self._old: dict[int, object] = {}

    def __enter__(self) -> _Signals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if signum == signal.SIGINT:
            if self.interrupted:
                raise KeyboardInterrupt
            self.interrupted = True
        self.stop.set()

    def __exit__(self, *exc) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


class _ProgressLine:
    """One line on a terminal: records/s, batches committed, last commit time."""

    def __init__(self, console, table: str):
        from rich.live import Live

        self.table = table
        self.live = Live("", console=console, transient=True, refresh_per_second=4)

    def __enter__(self) -> _ProgressLine:
        self.live.start()
        return self

    def __exit__(self, *exc) -> None:
        self.live.stop()

    def update(self, st) -> None:
        last = "never" if st.last_commit_at is None else time.strftime("%H:%M:%S", time.localtime(st.last_commit_at))
        self.live.update(
            f"{self.table}: {st.records_received:,} records received ({st.records_per_second:,.0f}/s), "
            f"{human_bytes(st.buffered_bytes)} buffered, {st.batches_committed} batch(es) committed, "
            f"last commit {last}")


def _stream(*, table, timestamp_column, timestamp_format, partition_by, input_format, delimiter, null_values,
            compression, target_file_size, max_rejects, layout, force, buffer_size, buffer_interval, transform, backup,
            warehouse, catalog, as_json) -> None:
    from lakekit.lake import open_lake

    stop = threading.Event()
    console = stderr_console()
    progress = _ProgressLine(console, table or "stream") if console.is_terminal else None

    def on_batch(result) -> None:
        if as_json:
            click.echo(json.dumps(result.to_dict(), default=str))
            sys.stdout.flush()
        else:
            _print_summary(console, result)

    with _Signals(stop) as signals, open_lake(warehouse=warehouse, catalog=catalog) as lake:
        results: list = []
        try:
            with progress or contextlib.nullcontext():
                results = lake.ingest_stream(
                    None, table, timestamp_column=timestamp_column, timestamp_format=timestamp_format,
                    partition_by=partition_by, input_format=input_format, delimiter=delimiter,
                    null_values=null_values, compression=compression, target_file_size=target_file_size,
                    max_rejects=max_rejects, layout=layout, force=force, buffer_size=buffer_size,
                    buffer_interval=buffer_interval, transform=transform, backup=backup, on_batch=on_batch,
                    on_progress=progress.update if progress else None, stop=stop)
        except LakekitError as ex:
            if as_json:
                partial = getattr(ex.__cause__, "result", None) or getattr(ex, "result", None)
                doc = partial.to_dict() if partial is not None else {"table": table}
                click.echo(json.dumps({**doc, "error": {"exit_code": ex.exit_code, "message": str(ex)}}, default=str))
            raise
        if as_json and not results:
            # Nothing arrived: still one document, as every --json command prints.
            click.echo(json.dumps({"table": table, "ingest_id": None, "records_read": 0, "records_written": 0,
                                   "records_rejected": 0, "files_written": 0, "bytes_written": 0,
                                   "partitions_written": 0, "rejects_uri": None, "skipped_sources": [],
                                   "seconds": 0.0, "renamed_columns": {}, "reject_errors": []}))
        if signals.interrupted:
            raise KeyboardInterrupt


COMMANDS = [ingest_command]
