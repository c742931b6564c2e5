"""Open-ended input: whatever SQL text comes in, lint answers or raises a lakekit error."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lakekit import lint_query
from lakekit.config import Settings
from lakekit.errors import LakekitError
from lakekit.lint.noqa import is_silenced, parse_noqa

NO_CATALOG = Settings(warehouse="/nonexistent/lake")
WORDS = st.sampled_from([
    "SELECT", "*", "a", "count(*)", "count(DISTINCT a)", "FROM", "t", "analytics.events", "WHERE", "year", "=", "'2024'",
    "AND", "OR", "LIKE", "'%x%'", "ORDER", "BY", "LIMIT", "10", "JOIN", "CROSS", "ON", "(", ")", ",", "OVER",
    "PARTITION", "CAST(year AS int)", "WITH", "x", "AS", "UNION", "ALL", ";", "\n", "-- noqa", "EXISTS",
])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(WORDS, min_size=1, max_size=25).map(" ".join))
def test_any_token_soup_gives_a_result_or_a_lakekit_error(sql):
    try:
        result = lint_query([sql], settings=NO_CATALOG)
    except LakekitError as ex:
        assert "\n" not in str(ex).strip() or str(ex).startswith("<sql>")
        return
    lines = sql.count("\n") + 1
    for v in result.violations:
        assert 1 <= v.line <= lines and v.column >= 1


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_any_text_gives_a_result_or_a_lakekit_error(text):
    with contextlib.suppress(LakekitError):
        lint_query([("q.sql", text)], settings=NO_CATALOG)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.sampled_from(["SELECT 1", "x -- noqa", "y -- noqa: Q001", "z --noqa:q004,Q002"]), min_size=1, max_size=8)
)
def test_noqa_marks_exactly_the_lines_that_carry_them(lines):
    marks = parse_noqa("\n".join(lines))
    for number, line in enumerate(lines, start=1):
        assert is_silenced(marks, number, "Q001") == (line.endswith("-- noqa") or "Q001" in line)
        assert is_silenced(marks, number, "Q004") == (line.endswith("-- noqa") or "q004" in line)
