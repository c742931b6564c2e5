"""Value rules checked against Python's own datetime/int/float and pandas' null list."""

from __future__ import annotations

import datetime as dt
import re

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lakekit.ingestion.values import (
    NULL_MARKERS,
    convert_parsed,
    convert_text,
    epoch_to_timestamp,
    infer_text_type,
    to_date,
    to_timestamp,
)

UTC = dt.UTC


def test_null_markers_are_pandas_defaults():
    pandas = pytest.importorskip("pandas")
    from pandas._libs.parsers import STR_NA_VALUES

    assert pandas is not None and set(NULL_MARKERS) == set(STR_NA_VALUES)


@pytest.mark.parametrize("text,expected", [
    ("2012/01/01", dt.datetime(2012, 1, 1, tzinfo=UTC)),
    ("2012-1-2", dt.datetime(2012, 1, 2, tzinfo=UTC)),
    ("2024-03-01T10:00:00Z", dt.datetime(2024, 3, 1, 10, tzinfo=UTC)),
    ("2024-03-01 10:00:00+01:00", dt.datetime(2024, 3, 1, 9, tzinfo=UTC)),
    ("2024-03-01T10:00:00+0530", dt.datetime(2024, 3, 1, 4, 30, tzinfo=UTC)),
    ("2024-03-01T10:00:00-05", dt.datetime(2024, 3, 1, 15, tzinfo=UTC)),
    ("2024/03/01 10:00", dt.datetime(2024, 3, 1, 10, tzinfo=UTC)),
    ("2024-03-01T10:00:00.123456789Z", dt.datetime(2024, 3, 1, 10, 0, 0, 123456, tzinfo=UTC)),
    ("2024-03-01 10:00:00.5 UTC", dt.datetime(2024, 3, 1, 10, 0, 0, 500000, tzinfo=UTC)),
    ("2024-02-29T23:30:00-01:00", dt.datetime(2024, 3, 1, 0, 30, tzinfo=UTC)),
])
def test_year_first_timestamps_land_on_the_right_utc_instant(text, expected):
    converted = to_timestamp(pa.array([text]), None, "ts")
    assert converted.bad is None
    assert converted.array.to_pylist()[0] == expected


@pytest.mark.parametrize("text", ["2024-02-30", "2023-02-29", "2024-13-01", "2024-01-01T25:00:00", "01/02/2024", "yesterday"])
def test_impossible_or_ambiguous_dates_are_problems_not_guesses(text):
    converted = to_timestamp(pa.array(["2024-01-01", text]), None, "ts")
    assert converted.bad.tolist() == [False, True]
    assert converted.errors()[1][1] == "cannot parse timestamp in column 'ts'"


def test_timestamp_format_of_web_logs():
    values = ["01/Mar/2024:10:00:00 +0100", "29/Feb/2024:23:00:00 -0130"]
    converted = to_timestamp(pa.array(values), "%d/%b/%Y:%H:%M:%S %z", "ts", allow_epoch=True)
    expected = [dt.datetime.strptime(v, "%d/%b/%Y:%H:%M:%S %z").astimezone(UTC) for v in values]
    assert converted.array.to_pylist() == expected


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)),
       st.integers(-14 * 60, 14 * 60), st.sampled_from(["T", " "]), st.booleans())
def test_any_iso_instant_with_its_offset(when, offset_minutes, sep, colon):
    tz = dt.timezone(dt.timedelta(minutes=offset_minutes))
    local = when.replace(tzinfo=tz)
    sign = "+" if offset_minutes >= 0 else "-"
    hh, mm = divmod(abs(offset_minutes), 60)
    fraction = f".{local.microsecond:06d}" if local.microsecond else ""
    zone = f"{sign}{hh:02d}{':' if colon else ''}{mm:02d}"
    text = f"{local.year:04d}" + local.strftime(f"-%m-%d{sep}%H:%M:%S") + fraction + zone
    converted = to_timestamp(pa.array([text]), None, "ts")
    utc = local.astimezone(UTC)
    if not 1 <= utc.year <= 9999:
        return
    assert converted.array.to_pylist() == [utc]


def test_epoch_units_are_told_per_value():
    instant = dt.datetime(2024, 3, 1, 10, 0, 0, 123000, tzinfo=UTC)
    seconds = int(instant.timestamp())
    values = [seconds, seconds * 1000 + 123, (seconds * 1000 + 123) * 1000, (seconds * 1000 + 123) * 1_000_000]
    got = epoch_to_timestamp(pa.array(values)).array.to_pylist()
    assert got == [instant.replace(microsecond=0), instant, instant, instant]


def test_one_garbage_epoch_moves_nothing_else():
    good = [1709287200 + i for i in range(1000)]
    converted = epoch_to_timestamp(pa.array(good + [99999999999999999]), "ts")
    values = converted.array.to_pylist()
    assert values[:1000] == [dt.datetime.fromtimestamp(v, UTC) for v in good]


def test_dates():
    converted = to_date(pa.array(["2012/01/01", "2024-02-29", None, "2024-02-30"]), "d")
    assert converted.array.to_pylist()[:3] == [dt.date(2012, 1, 1), dt.date(2024, 2, 29), None]
    assert converted.bad.tolist() == [False, False, False, True]


@pytest.mark.parametrize("values,expected", [
    (["02134", "10001"], pa.string()),
    (["1", "2", "-3"], pa.int64()),
    (["1", "1.0", None], pa.int64()),
    (["1.0", "2.0"], pa.float64()),
    (["1.5", "2"], pa.float64()),
    (["true", "False"], pa.bool_()),
    (["2012/01/01", "2012/01/02"], pa.date32()),
    (["2012/01/01", "2012/01/02 10:00"], pa.timestamp("us", "UTC")),
    (["0", "00"], pa.string()),
    (["1", "x"], pa.string()),
])
def test_text_column_types(values, expected):
    assert infer_text_type(pa.array(values)) == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=30))
def test_no_integer_text_loses_precision(ints):
    converted = convert_text(pa.array([str(i) for i in ints]), pa.int64(), "id")
    assert converted.bad is None and converted.array.to_pylist() == ints


def test_integers_outside_64_bits_are_problems():
    converted = convert_text(pa.array(["1", str(2**70), str(-(2**63) - 1), "2"]), pa.int64(), "id")
    assert converted.bad.tolist() == [False, True, True, False]
    assert converted.array.to_pylist()[::3] == [1, 2]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.integers(-(2**60), 2**60), st.floats(allow_nan=False, allow_infinity=False)), min_size=1))
def test_double_text_is_exact_or_a_problem(values):
    converted = convert_text(pa.array([repr(v) if isinstance(v, float) else str(v) for v in values]), pa.float64(), "x")
    bad = converted.bad.tolist() if converted.bad is not None else [False] * len(values)
    for value, got, is_bad in zip(values, converted.array.to_pylist(), bad):
        if is_bad:
            assert isinstance(value, int) and float(value) != value
        else:
            assert got == value


def test_json_doubles_beyond_2_53_go_back_to_the_text():
    literals = ["1", "1.0", "9007199254740993", "1180591620717411303424", "2.5"]
    parsed = pa.array([float(v) for v in literals])
    converted = convert_parsed(parsed, pa.int64(), "id", literal=lambda i: literals[i])
    assert converted.array.to_pylist()[:3] == [1, 1, 9007199254740993]
    errors = converted.errors()
    assert sorted(errors) == [3, 4]
    assert errors[3][1] == "integer outside 64 bits in column 'id'"


def test_leading_zero_text_in_a_bigint_column_is_a_problem_not_a_number():
    converted = convert_text(pa.array(["10001", "02134"]), pa.int64(), "zip")
    assert converted.array.to_pylist()[0] == 10001 and converted.bad.tolist() == [False, True]


def _int_rule(text: str):
    """The bigint rule for text, as docs/ingest.md states it, in Python's own terms:
    (value, None) or (None, the kind of problem)."""
    body = text.strip()
    if re.fullmatch(r"[+-]?0[0-9].*", body):
        return None, "leading zero"
    m = re.fullmatch(r"([+-]?(?:0|[1-9][0-9]*))(?:\.0*)?", body)
    if m is None:
        return None, "not an integer"
    value = int(m.group(1))
    return (value, None) if -(2**63) <= value < 2**63 else (None, "outside 64 bits")


_CANONICAL_INTS = st.integers(-(10**18) + 1, 10**18 - 1).map(str)
_OTHER_INT_TEXTS = st.one_of(
    st.integers(-(2**64), 2**64).map(lambda i: f"+{i}" if i >= 0 else str(i)),  # a sign, or beyond 18 digits
    st.integers(-1000, 1000).map(lambda i: f" {i}\t"), st.integers(-1000, 1000).map(lambda i: f"{i}.00"),
    st.integers(0, 999).map(lambda i: f"0{i}"), st.sampled_from(["1.5", "x", "1e3", "-", "+", "0x10", "٣"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_CANONICAL_INTS, min_size=1, max_size=40), st.lists(_OTHER_INT_TEXTS, max_size=2),
       st.lists(st.booleans(), max_size=40))
def test_bigint_text_plain_or_not_follows_the_rule(plain, others, nulls):
    """Columns of only plain integers take a one-cast shortcut; a column with any other
    form takes the full rules. Either way every value is what the rule says."""
    texts = plain + others
    values = [None if i < len(nulls) and nulls[i] else t for i, t in enumerate(texts)]
    converted = convert_text(pa.array(values, pa.string()), pa.int64(), "id")
    got, errors = converted.array.to_pylist(), converted.errors()
    for i, text in enumerate(values):
        if text is None:
            assert got[i] is None and i not in errors
            continue
        expected, problem = _int_rule(text)
        if problem is None:
            assert got[i] == expected and i not in errors, text
        else:
            assert i in errors, text


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.integers(-(10**15) + 1, 10**15 - 1).map(str),
                          st.decimals(-(10**14), 10**14, places=6, allow_nan=False).map(lambda d: str(d)),
                          st.floats(-1e14, 1e14).map(lambda f: f"{f:.17f}")), min_size=1, max_size=40))
def test_plain_double_text_is_python_float(texts):
    texts = [t[1:] if t.startswith("-") and float(t) == 0 and t.lstrip("-0.") else t for t in texts]
    converted = convert_text(pa.array(texts), pa.float64(), "amount")
    assert converted.bad is None
    assert converted.array.to_pylist() == [float(t) for t in texts]


def test_a_plus_sign_in_a_bigint_column_is_the_number(tmp_path):
    """"+5" reads as 5 (it used to stop the whole ingest with Arrow's cast error)."""
    import lakekit
    from tests.helpers import read_back_duckdb

    src = tmp_path / "e.csv"
    src.write_text("id,ts\n1,2024-03-07T10:00:00Z\n+5,2024-03-07T12:00:00Z\n-7,2024-03-07T13:00:00Z\n"
                   "+0,2024-03-07T14:00:00Z\n")
    result = lakekit.ingest(str(src), "d.t", timestamp_column="ts", warehouse=str(tmp_path / "wh"))
    assert (result.records_written, result.records_rejected) == (4, 0)
    rows, names = read_back_duckdb(str(tmp_path / "wh" / "d" / "t"), "ts")
    assert [row[names.index("id")] for row in rows] == [1, 5, -7, 0]
