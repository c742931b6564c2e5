"""SQL analysis: which scans a query makes, their columns and their bounding predicates."""

from __future__ import annotations

import pytest

from lakekit.catalog.base import Column, Table
from lakekit.errors import UsageError
from lakekit.sql import catalog_schema, parse_statements, table_scans

EVENT_COLUMNS = {
    "event_id": "string", "ts": "timestamp", "user_id": "string", "event_type": "string",
    "country": "string", "device": "string", "amount": "double", "quantity": "bigint",
    "session_ms": "bigint", "year": "string", "month": "string", "day": "string",
}
SCHEMA = {
    "analytics": {
        "events": EVENT_COLUMNS,
        "users": {"user_id": "string", "name": "string", "year": "string"},
    }
}


def scans(sql: str, schema=SCHEMA):
    [statement] = parse_statements(sql)
    return table_scans(statement, schema, default_database="analytics")


def summary(sql: str, schema=SCHEMA):
    """(table, alias, columns, predicates as Athena SQL) per scan, in query order."""
    return [
        (s.qualified_name, s.alias, sorted(s.columns), [p.sql(dialect="athena") for p in s.predicates])
        for s in scans(sql, schema)
    ]


# Each case: SQL, then per scan (table, alias, columns, predicates).
CASES = {
    "star expands from the schema": (
        "SELECT * FROM analytics.events WHERE year = '2024'",
        [("analytics.events", "events", sorted(EVENT_COLUMNS), ["\"events\".\"year\" = '2024'"])],
    ),
    "count star reads no column": (
        "SELECT count(*) FROM events",
        [("analytics.events", "events", [], [])],
    ),
    "output alias is not a column": (
        "SELECT amount AS total FROM events ORDER BY total",
        [("analytics.events", "events", ["amount"], [])],
    ),
    "a CTE used twice is two scans, each with its own predicate": (
        "WITH e AS (SELECT * FROM events) SELECT a.user_id FROM e a JOIN e b "
        "ON a.user_id = b.user_id WHERE a.year = '2024' AND b.month = '03'",
        [
            ("analytics.events", "events", ["user_id", "year"], ["\"events\".\"year\" = '2024'"]),
            ("analytics.events", "events", ["month", "user_id"], ["\"events\".\"month\" = '03'"]),
        ],
    ),
    "filter pushed through GROUP BY on a group key": (
        "SELECT * FROM (SELECT year, sum(amount) s FROM events GROUP BY year) WHERE year = '2024'",
        [("analytics.events", "events", ["amount", "year"], ["\"events\".\"year\" = '2024'"])],
    ),
    "filter pushed into every UNION ALL branch": (
        "SELECT user_id FROM (SELECT user_id, year FROM events WHERE month = '01' "
        "UNION ALL SELECT user_id, year FROM events) WHERE year = '2024'",
        [
            ("analytics.events", "events", ["month", "user_id", "year"],
             ["\"events\".\"month\" = '01'", "\"events\".\"year\" = '2024'"]),
            ("analytics.events", "events", ["user_id", "year"], ["\"events\".\"year\" = '2024'"]),
        ],
    ),
    "LEFT JOIN ON bounds only the joined side": (
        "SELECT a.user_id FROM events a LEFT JOIN events b "
        "ON a.user_id = b.user_id AND a.year = '2023' AND b.year = '2024'",
        [
            ("analytics.events", "a", ["user_id", "year"], []),
            ("analytics.events", "b", ["user_id", "year"], ["\"b\".\"year\" = '2024'"]),
        ],
    ),
    "anti-join IS NULL does not bound the padded side": (
        "SELECT a.user_id FROM events a LEFT JOIN users u ON a.user_id = u.user_id "
        "WHERE u.user_id IS NULL AND a.year = '2024'",
        [
            ("analytics.events", "a", ["user_id", "year"], ["\"a\".\"year\" = '2024'"]),
            ("analytics.users", "u", ["user_id"], []),
        ],
    ),
    "null-rejecting WHERE on the padded side bounds it": (
        "SELECT a.user_id FROM events a LEFT JOIN users u ON a.user_id = u.user_id WHERE u.year = '2023'",
        [
            ("analytics.events", "a", ["user_id"], []),
            ("analytics.users", "u", ["user_id", "year"], ["\"u\".\"year\" = '2023'"]),
        ],
    ),
    "COALESCE on the padded side does not bound it": (
        "SELECT a.user_id FROM events a LEFT JOIN users u ON a.user_id = u.user_id "
        "WHERE coalesce(u.year, '2023') = '2023'",
        [
            ("analytics.events", "a", ["user_id"], []),
            ("analytics.users", "u", ["user_id", "year"], []),
        ],
    ),
    "equality inference carries a bound across a join": (
        "SELECT a.user_id FROM events a JOIN events b ON a.day = b.day AND a.user_id = b.user_id "
        "WHERE a.day IN ('01', '02')",
        [
            ("analytics.events", "a", ["day", "user_id"], ["\"a\".\"day\" IN ('01', '02')"]),
            ("analytics.events", "b", ["day", "user_id"], ["\"b\".\"day\" IN ('01', '02')"]),
        ],
    ),
    "a LEFT JOIN's ON equality bounds the padded side by the kept side": (
        "SELECT a.user_id FROM events a LEFT JOIN events b ON a.day = b.day WHERE a.day = '01'",
        [
            ("analytics.events", "a", ["day", "user_id"], ["\"a\".\"day\" = '01'"]),
            ("analytics.events", "b", ["day"], ["\"b\".\"day\" = '01'"]),
        ],
    ),
    "inner JOIN ON and WHERE bound their own tables": (
        "SELECT e.user_id, u.name FROM events e JOIN users u ON e.user_id = u.user_id "
        "AND u.year = '2023' WHERE e.year = '2024'",
        [
            ("analytics.events", "e", ["user_id", "year"], ["\"e\".\"year\" = '2024'"]),
            ("analytics.users", "u", ["name", "user_id", "year"], ["\"u\".\"year\" = '2023'"]),
        ],
    ),
    "filter not pushed past a window that does not partition by it": (
        "SELECT * FROM (SELECT user_id, year, row_number() OVER (PARTITION BY user_id ORDER BY ts) rn "
        "FROM events) WHERE year = '2024' AND rn = 1",
        [("analytics.events", "events", ["ts", "user_id", "year"], [])],
    ),
    "filter pushed past a window partitioned by it": (
        "SELECT * FROM (SELECT user_id, year, row_number() OVER (PARTITION BY year ORDER BY ts) rn "
        "FROM events) WHERE year = '2024'",
        [("analytics.events", "events", ["ts", "user_id", "year"], ["\"events\".\"year\" = '2024'"])],
    ),
    "unused projections of a subquery are not read": (
        "SELECT user_id FROM (SELECT user_id, amount, device FROM events WHERE day = '01')",
        [("analytics.events", "events", ["day", "user_id"], ["\"events\".\"day\" = '01'"])],
    ),
    "no pushdown past LIMIT": (
        "SELECT * FROM (SELECT user_id, year FROM events LIMIT 10) WHERE year = '2024'",
        [("analytics.events", "events", ["user_id", "year"], [])],
    ),
    "correlated EXISTS adds the outer columns it uses": (
        "SELECT user_id FROM events e WHERE EXISTS "
        "(SELECT 1 FROM users u WHERE u.user_id = e.user_id AND u.name = e.country)",
        [
            ("analytics.events", "e", ["country", "user_id"], []),
            ("analytics.users", "u", ["name", "user_id"], []),
        ],
    ),
    "expression over partition keys is kept whole": (
        "SELECT user_id FROM events WHERE CAST(month AS integer) = 7 OR concat(year, month) = '202403'",
        [("analytics.events", "events", ["month", "user_id", "year"],
          ["CAST(\"events\".\"month\" AS INTEGER) = 7 OR CONCAT(\"events\".\"year\", \"events\".\"month\") = '202403'"])],
    ),
    "INSERT ... SELECT reads its query": (
        "INSERT INTO t SELECT user_id FROM events WHERE year = '2024'",
        [("analytics.events", "events", ["user_id", "year"], ["\"events\".\"year\" = '2024'"])],
    ),
    "HAVING on a group key bounds the scan": (
        "SELECT year, count(*) FROM events GROUP BY year HAVING year > '2023' AND count(*) > 5",
        [("analytics.events", "events", ["year"], ["\"events\".\"year\" > '2023'"])],
    ),
}


@pytest.mark.parametrize("sql, expected", CASES.values(), ids=list(CASES))
def test_table_scans(sql, expected):
    assert summary(sql) == expected


def test_star_flag_marks_star_scans_only():
    e, u = scans("SELECT e.*, u.name FROM events e JOIN users u ON e.user_id = u.user_id")
    assert (e.star, u.star) == (True, False)
    assert e.columns == frozenset(EVENT_COLUMNS)


def test_subquery_predicate_makes_scan_unprunable_and_says_why():
    outer, inner = scans(
        "SELECT user_id FROM events e WHERE year = (SELECT max(year) FROM events) AND month = '02'"
    )
    assert not outer.prunable
    assert "cannot be evaluated" in outer.reason and "MAX" in outer.reason
    assert [p.sql(dialect="athena") for p in outer.predicates] == ["\"e\".\"month\" = '02'"]
    assert inner.prunable and inner.columns == {"year"}


def test_nondeterministic_predicate_on_a_key_is_not_usable():
    [scan] = scans("SELECT user_id FROM events WHERE day = lpad(CAST(CAST(rand() * 28 AS integer) AS varchar), 2, '0')")
    assert not scan.prunable and scan.predicates == ()


def test_without_schema_columns_and_predicates_pass_through_star():
    a, b = scans(
        "WITH e AS (SELECT * FROM events) SELECT a.user_id FROM e a JOIN e b "
        "ON a.user_id = b.user_id WHERE a.year = '2024' AND b.month = '03'",
        schema=None,
    )
    assert (a.columns, b.columns) == ({"user_id", "year"}, {"user_id", "month"})
    assert [p.sql() for p in a.predicates] == ["events.year = '2024'"]
    assert a.star and b.star


def test_unknown_table_still_reports_its_columns():
    [scan] = scans("SELECT x FROM foo.bar WHERE y = 1")
    assert (scan.qualified_name, scan.columns) == ("foo.bar", {"x", "y"})


def test_node_keeps_source_position():
    [statement] = parse_statements("SELECT 1\nFROM   analytics.events")
    [scan] = table_scans(statement, SCHEMA)
    assert (scan.node.this.meta["line"], scan.node.this.meta["col"]) == (2, 23)


def test_database_defaults_and_is_kept_as_written():
    [statement] = parse_statements("SELECT * FROM events JOIN other.t ON true")
    names = [s.qualified_name for s in table_scans(statement, None, "analytics")]
    assert names == ["analytics.events", "other.t"]
    assert [s.database for s in table_scans(statement)] == [None, "other"]


@pytest.mark.parametrize(
    "sql, message",
    [
        ("SELECT a FROM WHERE", "SQL syntax error at line 1, column 15 near 'WHERE'"),
        ("SELECT a\nFROM t WHERE (b = 1", "SQL syntax error at line 2"),
        ("SELECT 'abc", "SQL syntax error"),
        ("  ", "no SQL given"),
        ("-- just a comment\n;", "no SQL statement found"),
    ],
)
def test_parse_errors_are_one_line_usage_errors(sql, message):
    with pytest.raises(UsageError) as info:
        parse_statements(sql)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_parse_statements_splits_statements():
    assert len(parse_statements("SELECT 1; SELECT 2;")) == 2


def test_catalog_schema_includes_partition_keys():
    class Catalog:
        def list_tables(self, database=None):
            return [Table("analytics", "events", "/lake", [Column("amount", "double")], [Column("year", "string")])]

    schema = catalog_schema(Catalog())
    assert schema == {"analytics": {"events": {"amount": "double", "year": "string"}}}
    assert sorted(scans("SELECT * FROM events", schema)[0].columns) == ["amount", "year"]
