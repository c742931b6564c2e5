"""Settings precedence, layout files, and names that become paths."""

from __future__ import annotations

import pytest

from lakekit.config import resolve_settings
from lakekit.errors import UnsafeNameError, UsageError
from lakekit.layout import load_layout, parse_layout, parse_partition_by, parse_size
from lakekit.names import parse_table_name


def test_settings_precedence_flag_env_file_default(tmp_path):
    (tmp_path / "lakekit.toml").write_text('warehouse = "from-file"\nengine = "athena"\ncatalog = "glue"\n')
    env = {"LAKEKIT_WAREHOUSE": "from-env", "LAKEKIT_ENGINE": "local"}
    s = resolve_settings(env=env, cwd=tmp_path, warehouse="from-flag")
    assert (s.warehouse, s.engine, s.catalog) == ("from-flag", "local", "glue")
    s = resolve_settings(env=env, cwd=tmp_path)
    assert s.warehouse == "from-env"
    s = resolve_settings(env={}, cwd=tmp_path)
    assert (s.warehouse, s.engine) == ("from-file", "athena")
    assert resolve_settings(env={}, cwd=tmp_path / "nowhere").warehouse == "./lake"


def test_pyproject_tool_section_is_read(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.lakekit]\nwarehouse = "s3://bkt/lake"\n[tool.lakekit.lint]\nignore = ["Q001"]\n')
    s = resolve_settings(env={}, cwd=tmp_path)
    assert s.warehouse == "s3://bkt/lake" and s.is_s3
    assert s.lint == {"ignore": ["Q001"]}
    assert s.local_catalog_path() == ".lakekit/catalog.db"


def test_catalog_path_for_local_warehouse(tmp_path):
    s = resolve_settings(env={}, cwd=tmp_path, warehouse="/data/lake")
    assert s.local_catalog_path() == "/data/lake/_lakekit/catalog.db"
    s = resolve_settings(env={"LAKEKIT_CATALOG_PATH": "/x/c.db"}, cwd=tmp_path, warehouse="/data/lake")
    assert s.local_catalog_path() == "/x/c.db"


@pytest.mark.parametrize("bad", [{"catalog": "hive"}, {"engine": "spark"}])
def test_unknown_backends_are_usage_errors(tmp_path, bad):
    with pytest.raises(UsageError, match="unknown"):
        resolve_settings(env={}, cwd=tmp_path, **bad)


def test_broken_config_file_names_itself(tmp_path):
    (tmp_path / "lakekit.toml").write_text("warehouse = [unclosed")
    with pytest.raises(UsageError, match="lakekit.toml: not valid TOML"):
        resolve_settings(env={}, cwd=tmp_path)


def test_sizes_and_grains():
    assert parse_size("128MiB") == 128 << 20
    assert parse_size("1GB") == 10**9
    for bad in ("", "12 parsecs", "-5", "0"):
        with pytest.raises(UsageError):
            parse_size(bad)
    assert parse_partition_by("year, month") == ("year", "month")
    with pytest.raises(UsageError):
        parse_partition_by("month,day")


def test_layout_file_and_its_errors(tmp_path):
    layout = load_layout("layouts/events.yaml")
    assert layout.table == "analytics.events" and layout.timestamp_column == "ts"
    assert layout.columns["amount"] == "double" and layout.projection is False
    with pytest.raises(UsageError, match="unknown layout setting"):
        parse_layout({"table": "a.b", "partitoin_by": ["year"]})
    with pytest.raises(UsageError, match="'table: DB.TABLE' is required"):
        parse_layout({"format": "parquet"})
    bad = tmp_path / "bad.yaml"
    bad.write_text("table: [")
    with pytest.raises(UsageError, match="not valid YAML"):
        load_layout(str(bad))


@pytest.mark.parametrize("name", ["a.b/c", "../a.b", "a", "a.b.c", "a.", ".b", "a.b c", "a.b\n", "ü.b"])
def test_unsafe_or_malformed_table_names(name):
    with pytest.raises((UsageError, UnsafeNameError)):
        parse_table_name(name)


def test_flags_override_given_settings_in_every_api_function(tmp_path):
    """One merge everywhere: a flag wins over settings passed in (ingest and lint ignored it)."""
    import json
    import os

    import lakekit

    given = resolve_settings(warehouse=str(tmp_path / "given"), env={}, cwd=str(tmp_path))
    flagged = str(tmp_path / "flagged")
    src = tmp_path / "e.jsonl"
    src.write_text(json.dumps({"id": 1, "ts": "2024-03-07T10:00:00Z"}) + "\n")
    lakekit.ingest(str(src), "d.t", timestamp_column="ts", settings=given, warehouse=flagged)
    assert os.path.isfile(os.path.join(flagged, "_lakekit", "catalog.db"))
    assert not os.path.exists(tmp_path / "given")
    linted = lakekit.lint_query(["SELECT id FROM d.t WHERE year = '2024'"], settings=given, warehouse=flagged)
    assert not any(n.startswith("no catalog") for n in linted.notes)
    rows = lakekit.query("SELECT count(*) AS n FROM d.t", settings=given, warehouse=flagged).to_pylist()
    assert rows == [{"n": 1}]
    assert not os.path.exists(tmp_path / "given")
