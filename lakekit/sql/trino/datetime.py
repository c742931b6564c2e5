"""Trino's date and time functions on DuckDB.

Athena's session time zone is UTC, and so is the local engine's. A ``timestamp with
time zone`` value is a DuckDB ``TIMESTAMPTZ`` (an instant); the zone Trino would show
with it travels in its type, known before the query runs (a literal's zone,
``AT TIME ZONE 'X'``). Functions that read the wall clock of such a value read it in
that zone; a zone that varies from row to row is refused.

Differences this module removes: ``date_diff`` counts whole units (DuckDB's
``date_diff`` counts boundaries crossed), ``date_add``/``date_trunc``/``+ INTERVAL`` on
a DATE stay DATE, ``extract(DOW)`` is 7 on Sunday, ``millisecond()`` is the
millisecond of the second, ``from_unixtime(x, zone)`` keeps its zone.

Importing the module adds these functions to :mod:`~lakekit.sql.trino.registry`'s table.
"""

from __future__ import annotations

import re

from sqlglot import exp

from lakekit.sql.trino.casts import emit_cast
from lakekit.sql.trino.emit import Emitter, duck_cast, from_local, number, string, template, to_local
from lakekit.sql.trino.errors import TrinoTypeError, not_supported
from lakekit.sql.trino.infer import ttype
from lakekit.sql.trino.literals import constant_int, constant_string, constant_zone, normalize_zone
from lakekit.sql.trino.registry import F
from lakekit.sql.trino.timeformat import check_strftime, joda_to_strftime
from lakekit.sql.trino.types import BIGINT, DATE, DOUBLE, INTERVAL_DAY_SECOND, VARCHAR, TType, timestamp, timestamp_tz

_UNITS = ("millisecond", "second", "minute", "hour", "day", "week", "month", "quarter", "year")
_MICROS = {"millisecond": 1_000, "second": 1_000_000, "minute": 60_000_000, "hour": 3_600_000_000,
           "day": 86_400_000_000, "week": 604_800_000_000}


def _unit(node: exp.Expression | None, function: str) -> str:
    if node is None:
        raise TrinoTypeError(f"{function} needs a unit")
    text = node.name if isinstance(node, (exp.Var, exp.Identifier, exp.Column)) else constant_string(node)
    if text is None:
        raise not_supported(f"{function}() with a unit computed per row")
    unit = text.lower().strip()
    if unit.endswith("s") and unit[:-1] in _UNITS:
        unit = unit[:-1]
    if unit not in _UNITS:
        raise TrinoTypeError(f"'{text}' is not a valid {function} unit")
    return unit


def wall_clock(em: Emitter, value: exp.Expression, t: TType, construct: str) -> exp.Expression:
    """The local date-time of ``value`` as Trino reads its fields."""
    if t.base == "timestamp with time zone":
        if t.zone is None:
            raise not_supported(f"{construct} of a timestamp with time zone whose zone varies per row")
        return to_local(value, t.zone)
    return value


def _is_date(t: TType) -> bool:
    return t.base == "date"


# -- fields -------------------------------------------------------------------------------------
_FIELDS = {
    "year": "year", "quarter": "quarter", "month": "month", "week": "week", "day": "day", "day_of_month": "day",
    "day_of_week": "isodow", "dow": "isodow", "day_of_year": "dayofyear", "doy": "dayofyear",
    "year_of_week": "isoyear", "yow": "isoyear", "hour": "hour", "minute": "minute", "second": "second",
}


def _field(name: str):
    def emit(em, node, args):
        value = args[0]
        t = ttype(value)
        if t.base == "date" and name in ("hour", "minute", "second", "millisecond"):
            raise TrinoTypeError(f"Unexpected parameters (date) for function {name}")
        local = wall_clock(em, value, t, f"{name}()")
        if name == "millisecond":
            return template("CAST(millisecond({0}) % 1000 AS BIGINT)", local)
        return template(f"CAST({_FIELDS[name]}({{0}}) AS BIGINT)", local)
    return emit


def _temporal_check(types, node):
    if not (types[0].is_temporal or types[0].is_unknown):
        raise TrinoTypeError(f"Unexpected parameters ({types[0]}) for function {node.key}")


for _name, _cls in (("year", exp.Year), ("quarter", exp.Quarter), ("month", exp.Month), ("week", exp.WeekOfYear),
                    ("day", exp.Day), ("day_of_month", exp.DayOfMonth), ("day_of_week", exp.DayOfWeekIso),
                    ("day_of_year", exp.DayOfYear), ("year_of_week", exp.YearOfWeek), ("hour", exp.Hour),
                    ("minute", exp.Minute), ("second", exp.Second)):
    F.add((_name,) + {"week": ("week_of_year",), "day_of_week": ("dow",), "day_of_year": ("doy",),
                      "year_of_week": ("yow",)}.get(_name, ()), _cls, ret=BIGINT, keys=("this",), emit=_field(_name),
          check=_temporal_check)
F.add("millisecond", ret=BIGINT, arity=(1, 1), emit=_field("millisecond"), check=_temporal_check)

_EXTRACT = {"YEAR": "year", "QUARTER": "quarter", "MONTH": "month", "WEEK": "week", "DAY": "day",
            "DAY_OF_MONTH": "day", "DAY_OF_WEEK": "day_of_week", "DOW": "day_of_week", "DAY_OF_YEAR": "day_of_year",
            "DOY": "day_of_year", "YEAR_OF_WEEK": "year_of_week", "YOW": "year_of_week", "HOUR": "hour",
            "MINUTE": "minute", "SECOND": "second", "TIMEZONE_HOUR": "timezone_hour", "TIMEZONE_MINUTE": "timezone_minute"}


def _extract_field(node: exp.Extract) -> str:
    part = node.this
    name = part.name.upper() if isinstance(part, (exp.Var, exp.Identifier, exp.Column)) else str(part).upper()
    if name not in _EXTRACT:
        raise not_supported(f"extract({name} FROM ...)")
    return _EXTRACT[name]


def _extract_emit(em, node, args):
    field = _extract_field(node)
    value = node.expression
    if field.startswith("timezone_"):
        return _timezone_part(field)(em, node, [value])
    return _field(field)(em, node, [value])


F.add("extract", exp.Extract, ret=BIGINT, keys=("expression",), emit=_extract_emit)


def _zone_of(em, value) -> str:
    t = ttype(value)
    if t.base != "timestamp with time zone":
        raise TrinoTypeError(f"Unexpected parameters ({t}) for a time zone function")
    if t.zone is None:
        raise not_supported("time zone functions on a value whose zone varies per row")
    return t.zone


def _timezone_part(part: str):
    def emit(em, node, args):
        value = args[0]
        zone = _zone_of(em, value)
        offset = template("(epoch({1}) - epoch({0}))", value, to_local(value, zone))
        if part == "timezone_hour":
            return template("CAST(trunc({0} / 3600) AS BIGINT)", offset)
        return template("CAST(trunc(fmod({0}, 3600) / 60) AS BIGINT)", offset)
    return emit


F.add("timezone_hour", ret=BIGINT, arity=(1, 1), emit=_timezone_part("timezone_hour"))
F.add("timezone_minute", ret=BIGINT, arity=(1, 1), emit=_timezone_part("timezone_minute"))
F.add("timezone", ret=VARCHAR, arity=(1, 1), emit=lambda em, node, args: string(_zone_of(em, args[0])))
F.add("current_timezone", ret=VARCHAR, arity=(0, 0), emit=lambda em, node, args: string("UTC"))


# -- truncation and arithmetic ---------------------------------------------------------------------
def _trunc_emit(em, node, args):
    unit = _unit(node.args.get("unit"), "date_trunc")
    value = node.this
    t = ttype(value)
    if _is_date(t):
        if unit in ("millisecond", "second", "minute", "hour"):
            raise TrinoTypeError(f"'{unit}' is not a valid DATE field")
        return template(f"CAST(date_trunc('{unit}', {{0}}) AS DATE)", value)
    if t.base == "timestamp with time zone":
        zone = _zone_of(em, value)
        return from_local(template(f"date_trunc('{unit}', {{0}})", to_local(value, zone)), zone)
    return template(f"date_trunc('{unit}', {{0}})", value)


F.add("date_trunc", exp.TimestampTrunc, exp.DateTrunc, ret=lambda types, node: types[-1], keys=("this",), emit=_trunc_emit)


def _interval_of(unit: str, amount: exp.Expression) -> exp.Expression:
    if unit == "quarter":
        return template("to_months(CAST({0} AS INTEGER) * 3)", amount)
    if unit == "millisecond":
        return template("to_milliseconds(CAST({0} AS BIGINT))", amount)
    function = {"second": "to_seconds", "minute": "to_minutes", "hour": "to_hours", "day": "to_days",
                "week": "to_weeks", "month": "to_months", "year": "to_years"}[unit]
    cast = "DOUBLE" if unit == "second" else ("BIGINT" if unit in ("minute", "hour") else "INTEGER")
    return template(f"{function}(CAST({{0}} AS {cast}))", amount)


def _date_add_emit(em, node, args):
    unit = _unit(node.args.get("unit"), "date_add")
    value, amount = node.this, node.expression
    t = ttype(value)
    interval = _interval_of(unit, amount)
    if _is_date(t):
        if unit in ("millisecond", "second", "minute", "hour"):
            raise TrinoTypeError(f"'{unit}' is not a valid DATE field")
        return template("CAST({0} + {1} AS DATE)", value, interval)
    if t.base == "timestamp with time zone":
        zone = _zone_of(em, value)
        if zone != "UTC" and unit in ("day", "week", "month", "quarter", "year"):
            return from_local(template("{0} + {1}", to_local(value, zone), interval), zone)
    return template("{0} + {1}", value, interval)


F.add("date_add", exp.DateAdd, ret=lambda types, node: types[0], keys=("this", "expression"), emit=_date_add_emit)


def _date_diff_emit(em, node, args):
    unit = _unit(node.args.get("unit"), "date_diff")
    later, earlier = node.this, node.expression  # date_diff(unit, earlier, later)
    t1, t2 = ttype(earlier), ttype(later)
    if t1.base != t2.base and not (t1.is_unknown or t2.is_unknown):
        raise TrinoTypeError(f"Unexpected parameters (varchar, {t1}, {t2}) for function date_diff")
    t = t1 if not t1.is_unknown else t2
    if _is_date(t) and unit in ("millisecond", "second", "minute", "hour"):
        raise TrinoTypeError(f"'{unit}' is not a valid DATE field")
    if t.base == "timestamp with time zone":
        zone = _zone_of(em, earlier)
        if zone != _zone_of(em, later):
            raise not_supported("date_diff() of timestamps in different zones")
        if unit in _MICROS and unit not in ("day", "week"):
            return template(f"(epoch_us({{1}}) - epoch_us({{0}})) // {_MICROS[unit]}", earlier, later)
        earlier, later = (to_local(v, zone) for v in (earlier, later))
    a = duck_cast(earlier, "TIMESTAMP")
    b = duck_cast(later, "TIMESTAMP")
    if unit in _MICROS:
        return template(f"(epoch_us({{1}}) - epoch_us({{0}})) // {_MICROS[unit]}", a, b)
    months = em.macro("lk_months_between", a, b)
    if unit == "month":
        return months
    return template(f"{{0}} // {3 if unit == 'quarter' else 12}", months)


F.add("date_diff", exp.DateDiff, ret=BIGINT, keys=("expression", "this"), emit=_date_diff_emit)
F.add("last_day_of_month", exp.LastDay, ret=DATE, keys=("this",),
      emit=lambda em, node, args: template("CAST(last_day({0}) AS DATE)", wall_clock(em, args[0], ttype(args[0]), "last_day_of_month()")))


def _date_emit(em, node, args):
    return emit_cast(em, args[0], ttype(args[0]), DATE, safe=False)


F.add("date", exp.Date, ret=DATE, keys=("this",), emit=_date_emit)

# -- current time ------------------------------------------------------------------------------------
F.add("current_date", exp.CurrentDate, ret=DATE, keys=(), emit="current_date")
F.add(("current_timestamp", "now"), exp.CurrentTimestamp, ret=timestamp_tz(3, "UTC"), keys=(),
      emit="date_trunc('millisecond', current_timestamp)")
F.add("localtimestamp", exp.Localtimestamp, ret=timestamp(3), keys=(),
      emit="date_trunc('millisecond', CAST(timezone('UTC', current_timestamp) AS TIMESTAMP))")


# -- unix time -------------------------------------------------------------------------------------------
def _from_unixtime_type(types, node):
    zone = "UTC"
    if node.args.get("zone") is not None:
        zone = constant_zone(node.args["zone"], "from_unixtime")
    elif node.args.get("hours") is not None:
        hours, minutes = constant_int(node.args["hours"]), constant_int(node.args.get("minutes") or exp.Literal.number(0))
        if hours is None or minutes is None:
            raise not_supported("from_unixtime(x, hours, minutes) with an offset computed per row")
        sign = "-" if hours < 0 or minutes < 0 else "+"
        zone = normalize_zone(f"{sign}{abs(hours):02d}:{abs(minutes):02d}")
    return timestamp_tz(3, zone)


def _from_unixtime_emit(em, node, args):
    seconds = node.this
    # Trino keeps milliseconds, rounded as Java's Math.round (half up).
    return template("timezone('UTC', make_timestamp(CAST(floor(CAST({0} AS DOUBLE) * 1000 + 0.5) AS BIGINT) * 1000))", seconds)


F.add("from_unixtime", exp.UnixToTime, ret=_from_unixtime_type, keys=("this", "zone", "hours", "minutes"),
      emit=_from_unixtime_emit)
F.add("to_unixtime", exp.TimeToUnix, ret=DOUBLE, keys=("this",), emit="epoch({0})")
F.add("from_unixtime_nanos", ret=timestamp_tz(9, "UTC"), arity=(1, 1),
      emit=lambda em, node, args: (_ for _ in ()).throw(not_supported("from_unixtime_nanos()", "DuckDB keeps microseconds")))


# -- ISO 8601 -------------------------------------------------------------------------------------------
def _iso_type(types, node):
    text = constant_string(node.this)
    if text is None:
        return timestamp_tz(3, None)
    m = re.search(r"(Z|[+-]\d{2}(?::?\d{2})?)$", text.strip())
    if m and "T" in text:
        return timestamp_tz(3, normalize_zone(m.group(1)))
    return timestamp_tz(3, "UTC")


F.add("from_iso8601_timestamp", exp.FromISO8601Timestamp, ret=_iso_type, keys=("this",),
      emit="date_trunc('millisecond', CAST({0} AS TIMESTAMPTZ))")
F.add("from_iso8601_timestamp_nanos", exp.FromISO8601TimestampNanos, ret=timestamp_tz(9, None), keys=("this",),
      emit=lambda em, node, args: (_ for _ in ()).throw(not_supported("from_iso8601_timestamp_nanos()", "DuckDB keeps microseconds")))
F.add("from_iso8601_date", exp.FromISO8601Date, ret=DATE, keys=("this",),
      emit=lambda em, node, args: em.macro("lk_from_iso8601_date", args[0]))


def _to_iso8601_emit(em, node, args):
    value = args[0]
    t = ttype(value)
    if t.base == "date":
        return template("strftime({0}, '%Y-%m-%d')", value)
    if t.base == "timestamp":
        return template("replace({0}, ' ', 'T')", em.macro(f"lk_timestamp_text_{min(t.precision, 6)}", value))
    if t.base == "timestamp with time zone":
        zone = _zone_of(em, value)
        if zone != "UTC" and not zone.startswith(("+", "-")):
            raise not_supported("to_iso8601() of a timestamp in a named zone")
        local = to_local(value, zone)
        suffix = "Z" if zone == "UTC" else zone
        return template(f"replace({{0}}, ' ', 'T') || '{suffix}'", em.macro(f"lk_timestamp_text_{min(t.precision, 6)}", local))
    raise not_supported(f"to_iso8601() of {t}")


F.add("to_iso8601", ret=VARCHAR, arity=(1, 1), emit=_to_iso8601_emit)


# -- zones ------------------------------------------------------------------------------------------------
def _with_timezone_type(types, node):
    return timestamp_tz(types[0].precision, constant_zone(node.expressions[1], "with_timezone"))


def _at_timezone_type(types, node):
    if types[0].base != "timestamp with time zone":
        raise TrinoTypeError(f"Unexpected parameters ({types[0]}, varchar) for function at_timezone")
    return timestamp_tz(types[0].precision, constant_zone(node.expressions[1], "at_timezone"))


F.add("with_timezone", ret=_with_timezone_type, arity=(2, 2),
      emit=lambda em, node, args: from_local(args[0], ttype(node).zone))
F.add("at_timezone", ret=_at_timezone_type, arity=(2, 2), emit=lambda em, node, args: args[0])


# -- formatting and parsing -----------------------------------------------------------------------------------
def _strftime_format(node: exp.Expression, function: str) -> str:
    text = constant_string(node)
    if text is None:
        raise not_supported(f"{function}() with a format computed per row")
    check_strftime(text, function)
    return text


def _date_format_emit(em, node, args):
    value = node.this
    fmt = _strftime_format(node.args["format"], "date_format")
    t = ttype(value)
    return template("strftime({0}, {1})", wall_clock(em, value, t, "date_format()"), string(fmt))


F.add("date_format", exp.TimeToStr, ret=VARCHAR, keys=("this", "format"), emit=_date_format_emit)
F.add("date_parse", exp.StrToTime, ret=timestamp(3), keys=("this", "format"),
      emit=lambda em, node, args: template("strptime({0}, {1})", node.this, string(_strftime_format(node.args["format"], "date_parse"))))


def _format_datetime_emit(em, node, args):
    value, pattern = args
    text = constant_string(pattern)
    if text is None:
        raise not_supported("format_datetime() with a format computed per row")
    t = ttype(value)
    return template("strftime({0}, {1})", wall_clock(em, value, t, "format_datetime()"),
                    string(joda_to_strftime(text, "format_datetime", t.zone if t.base == "timestamp with time zone" else "UTC")))


F.add("format_datetime", ret=VARCHAR, arity=(2, 2), emit=_format_datetime_emit)


def _parse_datetime_emit(em, node, args):
    text = constant_string(node.args["format"])
    if text is None:
        raise not_supported("parse_datetime() with a format computed per row")
    fmt = joda_to_strftime(text, "parse_datetime", None, parsing=True)
    return template("timezone('UTC', strptime({0}, {1}))", node.this, string(fmt))


F.add("parse_datetime", exp.ParseDatetime, ret=timestamp_tz(3, "UTC"), keys=("this", "format"), emit=_parse_datetime_emit)

# -- durations ---------------------------------------------------------------------------------------------------
F.add("parse_duration", ret=INTERVAL_DAY_SECOND, arity=(1, 1), emit=lambda em, node, args: em.macro("lk_parse_duration", args[0]))
F.add("human_readable_seconds", ret=VARCHAR, arity=(1, 1),
      emit=lambda em, node, args: em.macro("lk_human_readable_seconds", duck_cast(args[0], "DOUBLE")))
F.add("to_milliseconds", ret=BIGINT, arity=(1, 1),
      emit=lambda em, node, args: template("CAST(round(epoch({0}) * 1000) AS BIGINT)", args[0]))

__all__: list[str] = []
_ = number
