"""Could DuckDB parse (and write) the clean JSON Lines path strictly? A measurement.

Issue 13 asked whether handing clean JSON Lines to DuckDB would close the gap to
DuckDB's own ``COPY``. DuckDB's typed ``read_json`` is lenient where lakekit's value
rules are strict ("123" and 1.5 land in a BIGINT column as 123 and 2, ``true`` in a
VARCHAR column as 'true', unknown keys are dropped, timestamps are parsed its own
way), so a strict clean path must *detect* every such record and give the source to
the exact path. This script times the strict forms against plain ``COPY`` and against
``lakekit ingest`` on the benchmark's clean events, each as its own process
(``_measure.measure``: wall, CPU = user + sys, peak RSS), interleaved, and prints a
Markdown table. Variants:

- ``plain``: the benchmark's DuckDB ``COPY`` (typed ``read_json``, nothing checked).
- ``strict_copy``: the cheapest strict form found. Each line is read as text
  (``read_csv`` with no delimiter or quote), must match one regular expression
  built from the table's schema (every column once, in order, each value of its
  column's JSON kind and lexical form, the timestamp in the one form both sides read
  alike, no escapes, no whitespace), and is parsed with ``json_extract_string``; a
  line that does not match aborts the query (``error()``): the exact path then reads
  the source. DuckDB writes ``COPY ... PARTITION_BY`` itself.
- ``strict_arrow``: the same strict query streamed to Arrow and written by lakekit's
  own ``PartitionedWriter`` (identical files by construction on the write side).
- ``json_columns``: every column read as DuckDB ``JSON`` and checked with
  ``json_type`` (kinds only; unknown keys still dropped), then ``COPY``.
- ``map_validate``: each line read as ``MAP(VARCHAR, JSON)`` (key set checked too),
  checks only, no output.
- ``lakekit``: the installed ``lakekit ingest`` (the exact path).

Usage::

    .venv/bin/python benchmarks/duckdb_strict_probe.py --source /tmp/benchwd/data/events-1000000.jsonl --rounds 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _measure import measure  # noqa: E402

#: the benchmark events' schema as lakekit infers it: column -> kind
COLUMNS = {"event_id": "string", "ts": "timestamp", "user_id": "bigint", "event_type": "string",
           "country": "string", "device": "string", "amount": "double", "quantity": "bigint",
           "session_ms": "bigint"}
_DUCK_TYPES = {"string": "VARCHAR", "bigint": "BIGINT", "double": "DOUBLE", "timestamp": "TIMESTAMPTZ"}

# The one textual timestamp form lakekit's value rules and DuckDB's cast read alike.
TIMESTAMP = (r'"[1-9][0-9]{3}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])'
             r'T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?Z"')
_LEXICAL = {
    "string": r'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt])*"',  # no \u escapes: surrogates are judged differently
    "bigint": r"-?(?:0|[1-9][0-9]{0,17})",  # 18 digits always fit 64 bits
    "double": r"-?(?:0|[1-9][0-9]{0,14})(?:\.[0-9]+)?",  # below 2^53, finite, no exponent
    "timestamp": TIMESTAMP,
}


def line_pattern(columns: dict[str, str]) -> str:
    items = [f'"{name}":(?:{_LEXICAL[kind]}|null)' for name, kind in columns.items()]
    return r"\{" + ",".join(items) + r"\}"


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def strict_select(source: str, columns: dict[str, str]) -> str:
    lines = (f"read_csv({_sql_text(source)}, columns = {{'line': 'VARCHAR'}}, header = false, delim = '\\x01',"
             " quote = '', escape = '', auto_detect = false)")
    paths = ", ".join(_sql_text(f'$."{name}"') for name in columns)
    values = ", ".join(f"v[{i}]::{_DUCK_TYPES[kind]} AS {name}" for i, (name, kind) in enumerate(columns.items(), 1))
    return (f"SELECT {values} FROM (SELECT json_extract_string(line, [{paths}]) AS v,"
            f" regexp_full_match(line, {_sql_text(line_pattern(columns))}) AS ok FROM {lines})"
            " WHERE CASE WHEN ok THEN true ELSE error('a line the strict path cannot vouch for') END")


def _json_columns_select(source: str, columns: dict[str, str]) -> str:
    kinds = {"string": "('VARCHAR')", "bigint": "('BIGINT', 'UBIGINT')", "double": "('BIGINT', 'UBIGINT', 'DOUBLE')",
             "timestamp": "('VARCHAR')"}
    checks = " AND ".join(f"({n} IS NULL OR json_type({n}) IN {kinds[k]})" for n, k in columns.items())
    values = ", ".join(f"({n} ->> '$')::{_DUCK_TYPES[k]} AS {n}" if k in ("string", "timestamp")
                       else f"{n}::{_DUCK_TYPES[k]} AS {n}" for n, k in columns.items())
    spec = ", ".join(f"'{n}': 'JSON'" for n in columns)
    return (f"SELECT {values} FROM read_json({_sql_text(source)}, format = 'newline_delimited', columns = {{{spec}}})"
            f" WHERE CASE WHEN {checks} THEN true ELSE error('unvouched') END")


def _connect():
    import duckdb

    con = duckdb.connect()
    for setting in ("autoinstall_known_extensions = false", "autoload_known_extensions = false", "TimeZone = 'UTC'",
                    "threads = 2", "memory_limit = '350MB'", "preserve_insertion_order = false"):
        con.execute(f"SET {setting}")
    return con


def _copy(con, select: str, out: str) -> None:
    con.execute(f"""COPY (SELECT *, strftime(ts, '%Y') AS year, strftime(ts, '%m') AS month, strftime(ts, '%d') AS day
                          FROM ({select}))
                    TO {_sql_text(out)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (year, month, day),
                                         ROW_GROUP_SIZE 1000000, FILE_SIZE_BYTES '128MB')""")


def child(variant: str, source: str, out: str) -> None:
    con = _connect()
    if variant == "plain":
        from ingest import child_duckdb

        child_duckdb(source, out, False)
    elif variant == "strict_copy":
        _copy(con, strict_select(source, COLUMNS), out)
    elif variant == "json_columns":
        _copy(con, _json_columns_select(source, COLUMNS), out)
    elif variant == "map_validate":
        checks = " AND ".join(f"(j['{n}'] IS NULL OR json_type(j['{n}']) IN ('VARCHAR', 'BIGINT', 'UBIGINT', 'DOUBLE'))"
                              for n in COLUMNS)
        keys = ", ".join(f"'{n}'" for n in COLUMNS)
        con.execute(f"SELECT count(*) FILTER (WHERE NOT ({checks} AND list_has_all([{keys}], map_keys(j))))"
                    f" FROM read_json({_sql_text(source)}, format = 'newline_delimited', records = false,"
                    " columns = {'j': 'MAP(VARCHAR, JSON)'})").fetchall()
    elif variant == "strict_arrow":
        import pyarrow as pa

        from lakekit.ingestion.writer import PartitionedWriter, split_by_partition
        from lakekit.storage import Storage

        writer = PartitionedWriter(Storage(out), out, out, ("year", "month", "day"), "zstd", 128 << 20, 64 << 20, "probe")
        query = f"SELECT *, (year(ts) * 10000 + month(ts) * 100 + day(ts))::BIGINT AS key FROM ({strict_select(source, COLUMNS)})"
        for batch in con.sql(query).to_arrow_reader(1 << 17):
            table = pa.Table.from_batches([batch])
            writer.add_split(split_by_partition(table.drop_columns(["key"]), batch.column("key")))
        writer.close()
    else:
        raise SystemExit(f"unknown variant {variant!r}")


VARIANTS = ("lakekit", "strict_copy", "strict_arrow", "plain", "json_columns", "map_validate")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--child", nargs=2, metavar=("VARIANT", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], args.source, args.child[1])
        return 0
    work = Path(tempfile.mkdtemp(prefix="duckdb-probe-"))
    results: dict[str, list] = {}
    try:
        for _ in range(args.rounds):
            for variant in args.variants.split(","):
                out = work / variant
                shutil.rmtree(out, ignore_errors=True)
                out.mkdir(parents=True)
                if variant == "lakekit":
                    command = [str(Path(sys.executable).with_name("lakekit")), "ingest", args.source, "--table", "bench.events",
                               "--timestamp-column", "ts", "--warehouse", str(out), "--json"]
                else:
                    command = [sys.executable, __file__, "--source", args.source, "--child", variant, str(out)]
                load = os.getloadavg()[0]
                m = measure(command)
                if m.returncode != 0:
                    print(f"{variant} failed: {m.stderr.strip()[-400:]}", file=sys.stderr)
                results.setdefault(variant, []).append((m.seconds, m.cpu_seconds, m.peak_rss_mb, load))
                shutil.rmtree(out, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("| variant | wall s (median) | CPU s (median) | peak RSS MB (max) | load | wall s, each round |")
    print("|---|---:|---:|---:|---:|---|")
    for variant, runs in results.items():
        walls = [r[0] for r in runs]
        print(f"| {variant} | {statistics.median(walls):.2f} | {statistics.median(r[1] for r in runs):.2f} | "
              f"{max(r[2] for r in runs):.0f} | {min(r[3] for r in runs):.1f}-{max(r[3] for r in runs):.1f} | "
              f"{', '.join(f'{w:.2f}' for w in walls)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
