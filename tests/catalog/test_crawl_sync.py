"""crawl and sync on a local folder + SQLite and on s3:// + Glue (moto)."""

from __future__ import annotations

import json
import os
import subprocess

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakekit import crawl, sync
from lakekit.catalog.crawl import scan_paths
from lakekit.errors import InputError, TableNotFound
from tests.helpers import LAKEKIT, cli


def _clicks(n: int = 600) -> pa.Table:
    return pa.table({
        "user_id": pa.array(range(n), pa.int64()),
        "url": [f"/p/{i % 7}" for i in range(n)],
        "ms": pa.array([float(i) for i in range(n)]),
        "dt": [f"2024-0{1 + i % 3}" for i in range(n)],
        "region": [("eu", "us")[i % 2] for i in range(n)],
    })


def _write_dataset(backend_lake, name: str = "clicks", table: pa.Table | None = None) -> str:
    """A hive layout written by pyarrow itself, as another tool would leave it."""
    fs, base = backend_lake.filesystem()
    root = f"{base}/{name}"
    pq.write_to_dataset(table if table is not None else _clicks(), root, filesystem=fs,
                        partition_cols=["dt", "region"])
    with fs.open_output_stream(f"{root}/_SUCCESS") as f:
        f.write(b"")
    with fs.open_output_stream(f"{root}/dt=2024-01/.crc") as f:
        f.write(b"junk")
    return f"{backend_lake.raw}/{name}"


def _write_file(backend_lake, rel: str, table: pa.Table) -> None:
    fs, base = backend_lake.filesystem()
    path = f"{base}/{rel}"
    if backend_lake.kind == "local":
        os.makedirs(os.path.dirname(path), exist_ok=True)
    with fs.open_output_stream(path) as f:
        pq.write_table(table, f)


def _delete_partition(backend_lake, location: str, rel: str) -> None:
    st = backend_lake.storage()
    st.delete_dir(f"{location}/{rel}")


def test_crawl_registers_a_layout_written_by_pyarrow(backend_lake):
    location = _write_dataset(backend_lake)
    result = crawl(location, "web.clicks", warehouse=backend_lake.warehouse, catalog=backend_lake.catalog)
    assert [(c.name, c.type) for c in result.columns] == [("user_id", "bigint"), ("url", "string"), ("ms", "double")]
    assert result.partition_keys == ["dt", "region"] and result.partitions == 6
    assert result.schema_conflicts == [] and result.skipped == []
    cat = backend_lake.open_catalog()
    try:
        table = cat.get_table("web", "clicks")
        assert table.location == location and table.parameters["classification"] == "parquet"
        assert table.parameters["compression"] == "snappy"  # pyarrow's default codec
        assert [(c.name, c.type) for c in table.partition_keys] == [("dt", "string"), ("region", "string")]
        parts = cat.list_partitions("web", "clicks")
        assert [p.values for p in parts] == [(f"2024-0{m}", r) for m in (1, 2, 3) for r in ("eu", "us")]
        assert parts[0].location.rstrip("/") == f"{location}/dt=2024-01/region=eu"
        files = cat.list_files("web", "clicks")
        assert len(files) == result.files == 6 and sum(f.rows for f in files) == 600
        assert all(f.row_groups[0].columns["user_id"].min is not None for f in files)
    finally:
        cat.close()


def test_crawl_reports_schema_disagreement(backend_lake):
    base = _clicks(10).drop_columns(["dt", "region"])
    _write_file(backend_lake, "mixed/day=1/a.parquet", base)
    _write_file(backend_lake, "mixed/day=2/b.parquet", base)
    _write_file(backend_lake, "mixed/day=3/c.parquet", base.set_column(0, "user_id", pa.array([str(i) for i in range(10)])))
    _write_file(backend_lake, "mixed/day=4/d.parquet", base.drop_columns(["ms"]))
    result = crawl(f"{backend_lake.raw}/mixed", "web.mixed", warehouse=backend_lake.warehouse, catalog=backend_lake.catalog)
    assert len(result.schema_conflicts) == 1
    conflict = result.schema_conflicts[0]
    assert conflict.column == "user_id" and conflict.chosen == "bigint"
    assert {t: v["files"] for t, v in conflict.types.items()} == {"bigint": 3, "string": 1}
    assert conflict.types["string"]["example"].endswith("day=3/c.parquet")
    assert result.missing_columns == {"ms": 1}


def test_crawl_reads_big_footers_and_skips_files_that_are_not_parquet(backend_lake, monkeypatch):
    import lakekit.parquet as crawl_module

    monkeypatch.setattr(crawl_module, "FOOTER_GUESS", 64)  # every footer needs a second read
    base = _clicks(20).drop_columns(["dt", "region"])
    _write_file(backend_lake, "odd/day=1/a.parquet", base)
    fs, root = backend_lake.filesystem()
    if backend_lake.kind == "local":
        os.makedirs(f"{root}/odd/day=2", exist_ok=True)
    with fs.open_output_stream(f"{root}/odd/day=2/notes.csv") as f:
        f.write(b"a,b\n1,2\n")
    result = crawl(f"{backend_lake.raw}/odd", "web.odd", warehouse=backend_lake.warehouse, catalog=backend_lake.catalog)
    assert result.files == 1 and result.partitions == 1
    assert [(s["uri"].rsplit("/", 1)[1], "not a readable Parquet file" in s["reason"]) for s in result.skipped] == [
        ("notes.csv", True)]
    cat = backend_lake.open_catalog()
    try:
        [f] = cat.list_files("web", "odd")
        assert f.rows == 20 and f.row_groups[0].columns["user_id"].max == 19
    finally:
        cat.close()


def test_crawl_refuses_folders_that_are_not_key_value(backend_lake):
    _write_file(backend_lake, "plain/2024/03/a.parquet", _clicks(5))
    with pytest.raises(InputError, match="'2024' is not key=value"):
        crawl(f"{backend_lake.raw}/plain", "web.plain", warehouse=backend_lake.warehouse, catalog=backend_lake.catalog)
    with pytest.raises(InputError, match="no data files|is not a folder"):
        crawl(f"{backend_lake.raw}/nothing-here", "web.none", warehouse=backend_lake.warehouse, catalog=backend_lake.catalog)


def test_recrawl_adds_and_removes_exactly_what_changed(backend_lake):
    location = _write_dataset(backend_lake)
    crawl(location, "web.clicks", warehouse=backend_lake.warehouse, catalog=backend_lake.catalog)
    _delete_partition(backend_lake, location, "dt=2024-02/region=us")
    _write_file(backend_lake, "clicks/dt=2024-04/region=eu/new.parquet", _clicks(5).drop_columns(["dt", "region"]))
    again = crawl(location, "web.clicks", warehouse=backend_lake.warehouse, catalog=backend_lake.catalog)
    assert again.partitions_added == [("2024-04", "eu")]
    assert again.partitions_removed == [("2024-02", "us")]
    cat = backend_lake.open_catalog()
    try:
        assert len(cat.list_partitions("web", "clicks")) == 6
        assert len(cat.list_files("web", "clicks")) == 6
        assert len(cat.list_tables()) == 1
    finally:
        cat.close()


def test_sync_adds_and_removes_exactly_the_right_partitions(backend_lake):
    location = _write_dataset(backend_lake)
    crawl(location, "web.clicks", warehouse=backend_lake.warehouse, catalog=backend_lake.catalog)
    _delete_partition(backend_lake, location, "dt=2024-01/region=eu")
    _delete_partition(backend_lake, location, "dt=2024-03/region=us")
    _write_file(backend_lake, "clicks/dt=2024-05/region=us/x.parquet", _clicks(7).drop_columns(["dt", "region"]))
    _write_file(backend_lake, "clicks/dt=2024-02/region=eu/extra.parquet", _clicks(3).drop_columns(["dt", "region"]))
    _write_file(backend_lake, "clicks/stray/y.parquet", _clicks(3).drop_columns(["dt", "region"]))

    dry = sync("web.clicks", dry_run=True, warehouse=backend_lake.warehouse, catalog=backend_lake.catalog)
    assert dry.partitions_added == [("2024-05", "us")]
    assert dry.partitions_removed == [("2024-01", "eu"), ("2024-03", "us")]
    assert [os.path.basename(u) for u in dry.files_added] == ["extra.parquet", "x.parquet"]
    assert len(dry.files_removed) == 2
    assert [s["uri"].rsplit("/", 2)[-2:] for s in dry.skipped] == [["stray", "y.parquet"]]
    cat = backend_lake.open_catalog()
    try:
        assert len(cat.list_partitions("web", "clicks")) == 6  # the dry run changed nothing

        done = sync("web.clicks", warehouse=backend_lake.warehouse, catalog=backend_lake.catalog)
        assert (done.partitions_added, done.partitions_removed) == (dry.partitions_added, dry.partitions_removed)
        parts = {p.values for p in cat.list_partitions("web", "clicks")}
        assert parts == {("2024-01", "us"), ("2024-02", "eu"), ("2024-02", "us"), ("2024-03", "eu"), ("2024-05", "us")}
        files = cat.list_files("web", "clicks")
        assert len(files) == 6 and sum(f.rows for f in files) == 400 + 7 + 3
        assert not sync("web.clicks", warehouse=backend_lake.warehouse, catalog=backend_lake.catalog).changed
    finally:
        cat.close()


def test_sync_of_an_unknown_table_names_it(backend_lake):
    with pytest.raises(TableNotFound, match="web.nope not found"):
        sync("web.nope", warehouse=backend_lake.warehouse, catalog=backend_lake.catalog)


def test_scan_unescapes_hive_values_and_skips_hidden_paths():
    scan = scan_paths("s3://b/t", ["s3://b/t/ts=2024-03-07 10%3A00/a.parquet", "s3://b/t/.tmp/x",
                                   "s3://b/t/_temporary/0/y", "s3://b/t/ts=x/_SUCCESS"])
    assert [f.partition_values for f in scan.files] == [("2024-03-07 10:00",)]
    assert scan.ignored == []


def test_cli_crawl_and_sync(tmp_path):
    raw = tmp_path / "raw" / "clicks"
    pq.write_to_dataset(_clicks(), str(raw), partition_cols=["dt", "region"])
    wh = str(tmp_path / "lake")
    res = cli("catalog", "crawl", str(raw), "--table", "web.clicks", "--warehouse", wh, "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["table"] == "web.clicks" and out["partitions"] == 6 and out["files"] == 6
    assert out["partitions_added"][0] == "dt=2024-01/region=eu"
    res = cli("catalog", "sync", "web.clicks", "--warehouse", wh, "--dry-run")
    assert res.exit_code == 0 and "nothing to do" in res.stderr
    res = cli("catalog", "sync", "web.missing", "--warehouse", wh)
    assert res.exit_code == 2 and res.stderr.startswith("error: table web.missing not found")
    res = cli("catalog", "crawl", "ftp://x/y", "--table", "web.x", "--warehouse", wh)
    assert res.exit_code == 2 and "only local folders and s3://" in res.stderr
    help_text = subprocess.run([LAKEKIT, "catalog", "crawl", "--help"], capture_output=True, text=True).stdout
    assert "Example:" in help_text and "--table" in help_text


def test_sync_of_a_projected_table_proposes_no_partitions(backend_lake, tmp_path):
    """Athena projects the partitions of a projection table: sync registers none, even
    for a folder added outside lakekit, and names one the projection never reaches."""
    import lakekit

    source = tmp_path / "events.jsonl"
    source.write_text("".join(
        json.dumps({"ts": f"2024-03-0{d}T10:00:00Z", "n": d}) + "\n" for d in (1, 2, 3)
    ))
    lakekit.ingest([str(source)], "web.events", timestamp_column="ts", projection=True,
                   warehouse=backend_lake.warehouse, catalog=backend_lake.catalog)
    location = backend_lake.warehouse.rstrip("/") + "/web/events"
    storage = backend_lake.storage()
    for rel in ("year=2024/month=03/day=04/other.parquet", "year=2031/month=01/day=01/far.parquet"):
        with storage.open_output(f"{location}/{rel}") as f:
            pq.write_table(pa.table({"ts": pa.array([0], pa.timestamp("us", "UTC")), "n": [9]}), f)

    dry = sync("web.events", dry_run=True, warehouse=backend_lake.warehouse, catalog=backend_lake.catalog)
    assert dry.projection is True
    assert (dry.partitions_added, dry.partitions_removed, dry.partitions_updated) == ([], [], [])
    assert dry.outside_projection == [
        {"partition": "year=2031/month=01/day=01", "reason": "year=2031 is outside the projected range 2024,2024"}
    ]
    res = cli("catalog", "sync", "web.events", "--dry-run", "--json",
                                    "--warehouse", backend_lake.warehouse, "--catalog", backend_lake.catalog)
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["partitions_added"] == [] and out["projection"] is True
    assert "Athena never reads year=2031/month=01/day=01" in res.stderr


def test_crawl_warns_of_nanosecond_timestamps(backend_lake):
    """pyarrow keeps nanoseconds when asked; Athena cannot read such files."""
    micro = pa.table({"ts": pa.array([1_000], pa.timestamp("us", "UTC")), "n": [1]})
    nano = pa.table({"ts": pa.array([1_000_000], pa.timestamp("ns", "UTC")), "n": [2]})
    for rel, table in (("dt=1/a.parquet", micro), ("dt=2/b.parquet", nano), ("dt=3/c.parquet", nano)):
        fs, base = backend_lake.filesystem()
        path = f"{base}/nanos/{rel}"
        if backend_lake.kind == "local":
            os.makedirs(os.path.dirname(path), exist_ok=True)
        with fs.open_output_stream(path) as f:
            pq.write_table(table, f, coerce_timestamps=None)
    fs, base = backend_lake.filesystem()
    with fs.open_input_file(f"{base}/nanos/dt=2/b.parquet") as f:  # the file really holds nanoseconds
        assert '"timeUnit": "nanoseconds"' in pq.read_metadata(f).schema.column(0).logical_type.to_json()
    result = crawl(f"{backend_lake.raw}/nanos", "web.nanos", warehouse=backend_lake.warehouse, catalog=backend_lake.catalog)
    (report,) = result.nanosecond_timestamps
    assert (report["column"], report["files"]) == ("ts", 2)
    assert report["example"].endswith("dt=2/b.parquet")
    res = cli("catalog", "crawl", f"{backend_lake.raw}/nanos", "--table", "web.nanos2",
                                    "--warehouse", backend_lake.warehouse, "--catalog", backend_lake.catalog)
    assert res.exit_code == 0, res.output
    assert "warning: column ts is stored as nanosecond timestamps in 2 file(s)" in res.stderr
