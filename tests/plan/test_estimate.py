"""The estimate equals what a columnar reader must read, computed independently.

Each case states, as data, which partitions (days) the query keeps, which columns each
scan reads and which row groups statistics cannot rule out. The test then computes the
expected bytes itself from the Parquet footers of the kept files on disk
(``pyarrow.parquet.read_metadata``): footer length + 8 per file, plus the compressed
chunks of the expected columns in the row groups the predicate keeps. The estimate
must agree within 1%. The local engine's really-read bytes are printed beside it.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow.parquet as pq
import pytest

import lakekit
from lakekit import estimate, run_query
from lakekit.paths import is_hidden as is_hidden_file
from lakekit.plan import billed_bytes
from tests.clicks_lake import CLICK_COLUMNS, DAYS

ALL_DAYS = lambda d: True  # noqa: E731
NO_ROW_GROUP_FILTER = lambda s: True  # noqa: E731


@dataclass
class Scan:
    """One expected scan of lake.clicks (or lake.users when ``users``)."""

    columns: list[str]
    days: Callable[[dt.date], bool] = ALL_DAYS
    row_groups: Callable[[dict], bool] = NO_ROW_GROUP_FILTER
    users: bool = False


@dataclass
class Case:
    sql: str
    scans: list[Scan] = field(default_factory=list)
    #: the days the advised partition predicate keeps (None: no advice expected)
    advice_days: Callable[[dt.date], bool] | None = None


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def overlaps(stats: dict, column: str, lo=None, hi=None) -> bool:
    """Whether the row group's [min, max] of ``column`` meets [lo, hi] (None: open)."""
    mn, mx = stats[column]
    return (lo is None or mx >= lo) and (hi is None or mn <= hi)


D = dt.date
C = CLICK_COLUMNS

CASES: dict[str, Case] = {
    "count star reads footers only": Case("SELECT count(*) FROM lake.clicks", [Scan([])]),
    "select star reads every column": Case("SELECT * FROM lake.clicks", [Scan(C)]),
    "equality on two keys": Case(
        "SELECT amount FROM lake.clicks WHERE year = '2024' AND month = '03'",
        [Scan(["amount"], lambda d: d.month == 3)],
    ),
    "equality on day": Case(
        "SELECT user_id, amount FROM lake.clicks WHERE day = '01'",
        [Scan(["user_id", "amount"], lambda d: d.day == 1)],
    ),
    "not equal": Case(
        "SELECT amount FROM lake.clicks WHERE month <> '02'", [Scan(["amount"], lambda d: d.month != 2)]
    ),
    "in list": Case(
        "SELECT amount FROM lake.clicks WHERE day IN ('01', '02', '03')",
        [Scan(["amount"], lambda d: d.day in (1, 2, 3))],
    ),
    "not in list": Case(
        "SELECT amount FROM lake.clicks WHERE day NOT IN ('01', '02')",
        [Scan(["amount"], lambda d: d.day not in (1, 2))],
    ),
    "between strings": Case(
        "SELECT amount FROM lake.clicks WHERE month = '03' AND day BETWEEN '02' AND '04'",
        [Scan(["amount"], lambda d: d.month == 3 and 2 <= d.day <= 4)],
    ),
    "open range": Case(
        "SELECT quantity FROM lake.clicks WHERE month = '02' AND day >= '27'",
        [Scan(["quantity"], lambda d: d.month == 2 and d.day >= 27)],
    ),
    "or of ands": Case(
        "SELECT amount FROM lake.clicks WHERE (month = '02' AND day = '29') OR (month = '03' AND day = '01')",
        [Scan(["amount"], lambda d: d in (D(2024, 2, 29), D(2024, 3, 1)))],
    ),
    "not": Case("SELECT amount FROM lake.clicks WHERE NOT (month = '02')", [Scan(["amount"], lambda d: d.month != 2)]),
    "cast of a key": Case(
        "SELECT amount FROM lake.clicks WHERE CAST(day AS integer) = 5", [Scan(["amount"], lambda d: d.day == 5)]
    ),
    "concat of keys": Case(
        "SELECT amount FROM lake.clicks WHERE concat(year, month) = '202403'",
        [Scan(["amount"], lambda d: d.month == 3)],
    ),
    "date_parse of keys against a DATE literal": Case(
        "SELECT amount FROM lake.clicks WHERE date_parse(concat(year, '-', month, '-', day), '%Y-%m-%d') "
        ">= DATE '2024-03-05'",
        [Scan(["amount"], lambda d: d >= D(2024, 3, 5))],
    ),
    "like on a key": Case("SELECT amount FROM lake.clicks WHERE day LIKE '0%'", [Scan(["amount"], lambda d: d.day < 10)]),
    # Athena's engine does not know the partitions come from ts: a range on ts opens
    # every partition's files and prunes row groups by their statistics; the advice is
    # the partition predicate the range implies (checked in test_advice_*).
    "timestamp lower bound prunes row groups, not partitions": Case(
        "SELECT user_id FROM lake.clicks WHERE ts >= TIMESTAMP '2024-03-05 12:00:00'",
        [Scan(["user_id", "ts"], ALL_DAYS, lambda s: overlaps(s, "ts", lo=ts("2024-03-05 12:00:00")))],
        advice_days=lambda d: d >= D(2024, 3, 5),
    ),
    "timestamp between across a month end": Case(
        "SELECT amount FROM lake.clicks WHERE ts BETWEEN TIMESTAMP '2024-02-28 18:00:00' "
        "AND TIMESTAMP '2024-03-01 06:00:00'",
        [Scan(["amount", "ts"], ALL_DAYS,
              lambda s: overlaps(s, "ts", ts("2024-02-28 18:00:00"), ts("2024-03-01 06:00:00")))],
        advice_days=lambda d: D(2024, 2, 28) <= d <= D(2024, 3, 1),
    ),
    "timestamp before a DATE literal": Case(
        "SELECT amount FROM lake.clicks WHERE ts < DATE '2024-02-27'",
        [Scan(["amount", "ts"], ALL_DAYS, lambda s: s["ts"][0] < ts("2024-02-27"))],
        advice_days=lambda d: d < D(2024, 2, 27),
    ),
    "date of the timestamp": Case(
        "SELECT amount FROM lake.clicks WHERE date(ts) = DATE '2024-03-01'",
        [Scan(["amount", "ts"], ALL_DAYS, lambda s: overlaps(s, "ts", ts("2024-03-01"), ts("2024-03-01 23:59:59.999999")))],
        advice_days=lambda d: d == D(2024, 3, 1),
    ),
    "negated timestamp range": Case(
        "SELECT amount FROM lake.clicks WHERE NOT (ts < TIMESTAMP '2024-03-06 00:00:00')",
        [Scan(["amount", "ts"], ALL_DAYS, lambda s: overlaps(s, "ts", lo=ts("2024-03-06")))],
        advice_days=lambda d: d >= D(2024, 3, 6),
    ),
    "timestamp range in one day, stated partition too": Case(
        "SELECT amount FROM lake.clicks WHERE year = '2024' AND month = '03' AND day = '02' "
        "AND ts BETWEEN TIMESTAMP '2024-03-02 06:00:00' AND TIMESTAMP '2024-03-02 07:00:00'",
        [Scan(["amount", "ts"], lambda d: d == D(2024, 3, 2),
              lambda s: overlaps(s, "ts", ts("2024-03-02 06:00:00"), ts("2024-03-02 07:00:00")))],
    ),
    "or of ands bounds the keys in each branch": Case(
        "SELECT amount FROM lake.clicks WHERE (day = '01' AND amount > 50) OR (day = '02' AND amount < 10)",
        [Scan(["amount"], lambda d: d.day in (1, 2))],
    ),
    "data column equality uses row-group stats": Case(
        "SELECT amount FROM lake.clicks WHERE user_id = 42",
        [Scan(["amount", "user_id"], ALL_DAYS, lambda s: overlaps(s, "user_id", 42, 42))],
    ),
    "data column range and a key": Case(
        "SELECT amount FROM lake.clicks WHERE user_id > 900 AND month = '03'",
        [Scan(["amount", "user_id"], lambda d: d.month == 3, lambda s: s["user_id"][1] > 900)],
    ),
    "amount range prunes row groups": Case(
        "SELECT event_id FROM lake.clicks WHERE amount >= 75 AND day = '02'",
        [Scan(["event_id", "amount"], lambda d: d.day == 2, lambda s: s["amount"][1] >= 75)],
    ),
    "string equality on a data column": Case(
        "SELECT count(*) FROM lake.clicks WHERE event_type = 'purchase' AND day = '03'",
        [Scan(["event_type"], lambda d: d.day == 3, lambda s: overlaps(s, "event_type", "purchase", "purchase"))],
    ),
    "aggregate with group by": Case(
        "SELECT event_type, sum(amount) AS revenue FROM lake.clicks WHERE day = '02' GROUP BY event_type "
        "ORDER BY revenue DESC",
        [Scan(["event_type", "amount"], lambda d: d.day == 2)],
    ),
    "count distinct": Case(
        "SELECT count(DISTINCT user_id) FROM lake.clicks WHERE month = '02'",
        [Scan(["user_id"], lambda d: d.month == 2)],
    ),
    "cte with filters inside and outside": Case(
        "WITH feb AS (SELECT * FROM lake.clicks WHERE month = '02') "
        "SELECT count(*), sum(amount) FROM feb WHERE day = '29'",
        [Scan(["amount"], lambda d: d == D(2024, 2, 29))],
    ),
    "self join is two scans": Case(
        "SELECT a.user_id, count(*) FROM lake.clicks a JOIN lake.clicks b ON a.user_id = b.user_id "
        "WHERE a.day = '01' AND b.day = '02' GROUP BY a.user_id",
        [Scan(["user_id"], lambda d: d.day == 1), Scan(["user_id"], lambda d: d.day == 2)],
    ),
    "join on partition keys carries the bound to both scans": Case(
        "SELECT a.user_id FROM lake.clicks a JOIN lake.clicks b ON a.month = b.month AND a.day = b.day "
        "AND a.user_id = b.user_id WHERE a.month = '03' AND a.day = '02'",
        [Scan(["user_id"], lambda d: d == D(2024, 3, 2)), Scan(["user_id"], lambda d: d == D(2024, 3, 2))],
    ),
    "join with an unpartitioned table": Case(
        "SELECT u.name, sum(c.amount) FROM lake.clicks c JOIN lake.users u ON c.user_id = u.user_id "
        "WHERE c.day = '03' GROUP BY u.name",
        [Scan(["user_id", "amount"], lambda d: d.day == 3), Scan(["user_id", "name"], users=True)],
    ),
    "window function": Case(
        "SELECT user_id, row_number() OVER (PARTITION BY user_id ORDER BY ts) AS n FROM lake.clicks WHERE day = '04'",
        [Scan(["user_id", "ts"], lambda d: d.day == 4)],
    ),
    "filter pushed into a subquery": Case(
        "SELECT user_id FROM (SELECT user_id, amount, month FROM lake.clicks) WHERE month = '03' AND amount < 20",
        [Scan(["user_id", "amount"], lambda d: d.month == 3, lambda s: s["amount"][0] < 20)],
    ),
    "union all branches": Case(
        "SELECT user_id FROM lake.clicks WHERE day = '01' UNION ALL SELECT user_id FROM lake.clicks WHERE day = '02'",
        [Scan(["user_id"], lambda d: d.day == 1), Scan(["user_id"], lambda d: d.day == 2)],
    ),
    "scalar subquery on a key cannot prune": Case(
        "SELECT user_id FROM lake.clicks WHERE day = (SELECT max(day) FROM lake.clicks)",
        [Scan(["user_id"]), Scan([])],
    ),
    "in subquery": Case(
        "SELECT amount FROM lake.clicks WHERE day = '05' AND user_id IN (SELECT user_id FROM lake.users WHERE country = 'DE')",
        [Scan(["amount", "user_id"], lambda d: d.day == 5), Scan(["user_id", "country"], users=True)],
    ),
    "non-deterministic predicate cannot prune": Case(
        "SELECT amount FROM lake.clicks WHERE day = lpad(CAST(CAST(rand() * 28 AS integer) AS varchar), 2, '0')",
        [Scan(["amount"])],
    ),
    "no partition matches": Case("SELECT user_id FROM lake.clicks WHERE year = '2023'", [Scan(["user_id"], lambda d: False)]),
    "timestamp and user id together": Case(
        "SELECT amount FROM lake.clicks WHERE ts >= TIMESTAMP '2024-03-06 00:00:00' AND user_id < 100",
        [Scan(["amount", "ts", "user_id"], ALL_DAYS,
              lambda s: s["user_id"][0] < 100 and overlaps(s, "ts", lo=ts("2024-03-06")))],
        advice_days=lambda d: d >= D(2024, 3, 6),
    ),
    "or across a key and a data column cannot prune": Case(
        "SELECT amount FROM lake.clicks WHERE month = '03' OR ts < TIMESTAMP '2024-02-26 00:00:00'",
        [Scan(["amount", "ts"])],
    ),
    "is null on a data column": Case(
        "SELECT event_id FROM lake.clicks WHERE country IS NULL AND day = '06'",
        [Scan(["event_id", "country"], lambda d: d.day == 6, lambda s: s["country_nulls"] > 0)],
    ),
}


def _row_group_stats(rg) -> dict:
    stats = {}
    for j in range(rg.num_columns):
        col = rg.column(j)
        st = col.statistics
        if st is not None and st.has_min_max:
            mn, mx = st.min, st.max
            if isinstance(mn, dt.datetime) and mn.tzinfo is not None:
                mn = mn.astimezone(dt.UTC).replace(tzinfo=None)
                mx = mx.astimezone(dt.UTC).replace(tzinfo=None)
            stats[col.path_in_schema] = (mn, mx)
        stats[col.path_in_schema + "_nulls"] = st.null_count if st is not None else 0
    return stats


def expected_bytes(clicks_lake, scan: Scan) -> int:
    if scan.users:
        folder = os.path.join(clicks_lake.warehouse, "lake", "users")
        files = [os.path.join(folder, n) for n in sorted(os.listdir(folder))]
    else:
        files = [
            os.path.join(clicks_lake.partition_dir(day), n)
            for day in DAYS if scan.days(day)
            for n in sorted(os.listdir(clicks_lake.partition_dir(day)))
        ]
    total = 0
    for path in files:
        if is_hidden_file(path):
            continue
        meta = pq.read_metadata(path)
        total += meta.serialized_size + 8
        for i in range(meta.num_row_groups):
            rg = meta.row_group(i)
            if not scan.row_groups(_row_group_stats(rg)):
                continue
            for j in range(rg.num_columns):
                if rg.column(j).path_in_schema in scan.columns:
                    total += rg.column(j).total_compressed_size
    return total


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_estimate_equals_independent_computation(clicks_lake, case: Case):
    est = estimate(case.sql, settings=clicks_lake.settings)
    assert len(est.tables) == len(case.scans)
    for table, scan in zip(est.tables, case.scans):
        assert sorted(table.columns) == sorted(scan.columns), table
        if not scan.users:
            assert table.partitions_total == len(DAYS)
            assert table.partitions_scanned == sum(1 for d in DAYS if scan.days(d))
    expected = sum(expected_bytes(clicks_lake, s) for s in case.scans)
    assert est.bytes_scanned == pytest.approx(expected, rel=0.01)
    assert est.bytes_billed == billed_bytes(est.bytes_scanned)
    assert bool(est.advice) == (case.advice_days is not None), est.advice
    # Running the query reports, beside what DuckDB read, the very estimate the dry run gave.
    result = run_query(case.sql, settings=clicks_lake.settings)
    assert result.estimate.to_dict() == est.to_dict()
    assert result.actual.rows == result.table.num_rows


def test_suite_is_large_enough():
    assert len(CASES) >= 30


def test_hidden_files_are_neither_estimated_nor_read(clicks_lake):
    est = estimate("SELECT count(*) AS n FROM lake.clicks WHERE day = '01'", settings=clicks_lake.settings)
    assert est.tables[0].files_scanned == 2  # part-0 and part-1; _ignored.parquet skipped
    rows = run_query("SELECT count(*) AS n FROM lake.clicks WHERE day = '01'", settings=clicks_lake.settings).table
    assert rows.to_pylist() == [{"n": 2 * 3 * 400}]


def test_unprunable_predicate_is_explained(clicks_lake):
    est = estimate("SELECT user_id FROM lake.clicks WHERE day = (SELECT max(day) FROM lake.clicks)",
                   settings=clicks_lake.settings)
    assert est.tables[0].partitions_scanned == len(DAYS)
    assert "cannot be evaluated before the query runs" in est.notes[0]


def test_local_engine_agrees_with_pruning(clicks_lake):
    sql = ("SELECT day, count(*) AS n, min(ts) AS first FROM lake.clicks "
           "WHERE ts >= TIMESTAMP '2024-03-06 12:00:00' GROUP BY day ORDER BY day")
    rows = run_query(sql, settings=clicks_lake.settings).table.to_pylist()
    assert [r["day"] for r in rows] == ["06", "07"]
    assert rows[0]["first"].replace(tzinfo=None) >= ts("2024-03-06 12:00:00")


def test_footers_are_read_on_demand_and_recorded_by_a_writer_only(tmp_path):
    from lakekit.catalog.local import LocalCatalog
    from tests.clicks_lake import build_lake

    bare = build_lake(str(tmp_path / "bare"), with_stats=False)
    full = build_lake(str(tmp_path / "full"), with_stats=True)
    sql = "SELECT amount FROM lake.clicks WHERE month = '03' AND amount > 70"
    catalog = LocalCatalog(bare.settings.local_catalog_path())
    assert catalog.list_files("lake", "clicks") == []
    first = estimate(sql, settings=bare.settings)
    assert first.bytes_scanned == estimate(sql, settings=full.settings).bytes_scanned
    # an estimate only reads: it opens the catalog read-only and records nothing
    assert catalog.list_files("lake", "clicks") == []
    lakekit.sync("lake.clicks", settings=bare.settings)  # a writer records the footers
    on_disk = [os.path.join(d, f) for d, _, names in os.walk(os.path.join(str(tmp_path), "bare", "lake", "clicks"))
               for f in names if not f.startswith(("_", "."))]
    assert sorted(f.uri for f in catalog.list_files("lake", "clicks")) == sorted(on_disk)  # hidden files never
    assert estimate(sql, settings=bare.settings) == first
    catalog.close()


def test_catalog_that_filters_files_by_partition_gives_the_same_estimate(clicks_lake):
    """A catalog whose list_files takes ``partitions=`` is asked only for the kept ones."""
    from lakekit.catalog.local import LocalCatalog
    from lakekit.plan import plan_query
    from lakekit.storage import Storage

    class FilteringCatalog(LocalCatalog):
        asked: list = []

        def list_files(self, database, name, partitions=None):
            files = super().list_files(database, name)
            if partitions is None:
                return files
            self.asked.append(sorted(tuple(getattr(p, "values", p)) for p in partitions))
            return [f for f in files if tuple(f.partition_values) in {tuple(getattr(p, "values", p)) for p in partitions}]

        def put_files(self, database, name, files):  # nothing may need a footer read
            raise AssertionError("statistics were all in the catalog")

    sql = ("SELECT a.user_id FROM lake.clicks a JOIN lake.clicks b ON a.user_id = b.user_id "
           "WHERE a.day = '01' AND b.day IN ('01', '02')")
    catalog = FilteringCatalog(clicks_lake.settings.local_catalog_path())
    plan = plan_query(sql, catalog=catalog, storage=Storage(clicks_lake.warehouse))
    catalog.close()
    assert plan.estimate == estimate(sql, settings=clicks_lake.settings)
    assert FilteringCatalog.asked == [[("2024", "03", "01")], [("2024", "03", "02")]]


def test_identifiers_fold_case_as_athena_does(clicks_lake):
    result = run_query("SELECT count(*) AS N FROM Lake.Clicks WHERE DAY = '01'", settings=clicks_lake.settings)
    assert result.table.to_pylist() == [{"n": 2400}]
    assert result.estimate.tables[0].partitions_scanned == 1


@pytest.mark.parametrize("with_stats", [True, False])
def test_projected_table_without_registered_partitions(tmp_path, with_stats):
    """Partition projection: no partitions in the catalog, yet pruning and reading work."""
    from lakekit.catalog.local import LocalCatalog
    from tests.clicks_lake import build_lake

    clicks_lake = build_lake(str(tmp_path / "wh"), with_stats=with_stats)
    catalog = LocalCatalog(clicks_lake.settings.local_catalog_path())
    table = catalog.get_table("lake", "clicks")
    table.parameters.update({
        "projection.enabled": "true",
        "storage.location.template": table.location + "/year=${year}/month=${month}/day=${day}",
    })
    catalog.create_or_update_table(table)
    catalog.delete_partitions("lake", "clicks", [p.values for p in catalog.list_partitions("lake", "clicks")])
    if with_stats:  # delete_partitions dropped the statistics too: record them again
        reference = build_lake(str(tmp_path / "ref"))
        files = LocalCatalog(reference.settings.local_catalog_path()).list_files("lake", "clicks")
        prefix = reference.warehouse
        catalog.put_files("lake", "clicks", [
            type(f)(f.uri.replace(prefix, clicks_lake.warehouse), f.size, f.rows, f.footer_length, f.row_groups,
                    f.partition_values) for f in files
        ])
    catalog.close()
    sql = "SELECT count(*) AS n, sum(amount) AS total FROM lake.clicks WHERE month = '03' AND day <= '02'"
    result = run_query(sql, settings=clicks_lake.settings)
    [table_estimate] = result.estimate.tables
    assert (table_estimate.partitions_total, table_estimate.partitions_scanned) == (len(DAYS), 2)
    assert result.table.to_pylist()[0]["n"] == 2 * 2 * 3 * 400


ADVISED = {name: case for name, case in CASES.items() if case.advice_days is not None}


@pytest.mark.parametrize("case", ADVISED.values(), ids=list(ADVISED))
def test_the_advised_predicate_applied_gives_the_advised_bytes_and_the_same_rows(clicks_lake, case: Case):
    """The advice's predicate, added to the query, scans what the advice said, which is
    what the footers of the days it keeps hold; and the rows do not change."""
    from dataclasses import replace

    est = estimate(case.sql, settings=clicks_lake.settings)
    (advice,) = est.advice
    assert advice.table == "lake.clicks" and advice.predicate in advice.message
    advised = f"{case.sql} AND {advice.predicate}"
    with_it = estimate(advised, settings=clicks_lake.settings)
    assert with_it.bytes_scanned == advice.bytes_scanned_with < est.bytes_scanned
    assert with_it.advice == ()
    (scan,) = case.scans
    assert with_it.tables[0].partitions_scanned == sum(1 for d in DAYS if case.advice_days(d))
    assert with_it.bytes_scanned == pytest.approx(expected_bytes(clicks_lake, replace(scan, days=case.advice_days)), rel=0.01)
    rows = sorted(map(str, run_query(case.sql, settings=clicks_lake.settings).table.to_pylist()))
    assert rows == sorted(map(str, run_query(advised, settings=clicks_lake.settings).table.to_pylist()))
