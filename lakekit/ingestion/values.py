"""Value rules: how a source value becomes a typed column value without changing meaning.

Everything here works on whole Arrow arrays with vectorised kernels (RE2 regular
expressions, casts, ``strptime``); Python touches single values only where a kernel
cannot decide, and those are rare (an integer too large to be exact in a double, a
``--timestamp-format`` with fractional seconds).

The rules (``docs/ingest.md`` says the same for users):

- Null markers: empty fields and pandas' default markers (``NA``, ``N/A``, ``NULL``,
  ``null``, ``NaN``, ``nan``, ...) are NULL in every text column alike.
- Text with a leading zero (``02134``) stays text: a zip code is not a number.
- Integers: an integral number such as ``1.0`` is that integer; a value outside 64
  bits is a reject, never a double that would merge distinct ids.
- Doubles: an integer that a double cannot hold exactly (beyond 2^53) is a reject.
- Timestamps: year-first dates with ``-`` or ``/``, with or without a time (``T`` or a
  space), fractional seconds, ``Z``/``UTC`` or ``+hh:mm``/``+hhmm``/``+hh`` offsets, are
  all unambiguous; each value is converted to UTC from its own offset (no offset:
  UTC). A column whose values are all dates is a ``date``.
- Epoch numbers in a timestamp column: the unit (s, ms, us, ns) is told apart per
  value by magnitude, so seconds beside milliseconds both land on the right day.

>>> import pyarrow as pa
>>> infer_text_type(pa.array(["02134", "10001"]))
DataType(string)
>>> infer_text_type(pa.array(["1", "2.0", None]))
DataType(int64)
>>> [t.isoformat() for t in to_timestamp(pa.array(["2012/01/01", "2024-03-01T10:00:00+01:00"])).array.to_pylist()]
['2012-01-01T00:00:00+00:00', '2024-03-01T09:00:00+00:00']
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from lakekit.ingestion.arrays import bool_mask
from lakekit.types import TIMESTAMP, athena_type

#: pandas' default missing-value markers (``pandas._libs.parsers.STR_NA_VALUES``); a
#: test checks the two lists agree.
NULL_MARKERS: tuple[str, ...] = (
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
)

_INT = r"^\s*[+-]?(?:0|[1-9][0-9]*)\s*$"
_INTEGRAL_DECIMAL = r"^\s*[+-]?(?:0|[1-9][0-9]*)\.0*\s*$"
_LEADING_ZERO = r"^\s*[+-]?0[0-9]"
_FLOAT = r"^\s*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*$|^\s*[+-]?(?i:inf|infinity)\s*$"
_BOOL_TRUE = ("true", "True", "TRUE")
_BOOL_FALSE = ("false", "False", "FALSE")
_TEMPORAL = (
    r"^\s*(?P<y>[0-9]{4})[-/](?P<m>[0-9]{1,2})[-/](?P<d>[0-9]{1,2})"
    r"(?:[T ](?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2})(?:[.,](?P<f>[0-9]+))?)?"
    r"\s*(?P<z>Z|UTC|GMT|[+-][0-9]{2}(?::?[0-9]{2})?)?)?\s*$"
)
_HAS_TIME = r"^\s*[0-9]{4}[-/][0-9]{1,2}[-/][0-9]{1,2}[T ]"
# The forms machine-written numbers nearly always take. A text column whose values are
# all of this form converts with one cast, to the same values and with the same (no)
# problems as the full rules: no whitespace, sign or leading zero to judge, an integer
# of at most 18 digits always fits 64 bits, a double below 10^15 is below 2^53.
_PLAIN_INT = r"^-?(?:0|[1-9][0-9]{0,17})$"
_PLAIN_DOUBLE = r"^-?(?:0|[1-9][0-9]{0,14})(?:\.[0-9]+)?$"

# Doubles hold every integer up to 2^53 exactly; beyond it, distinct integers merge.
EXACT_DOUBLE_LIMIT = 2 ** 53
_INT64_MIN, _INT64_MAX = -(2 ** 63), 2 ** 63 - 1
# Timestamps lakekit writes: years 1 to 9999, as Athena reads them.
_MIN_MICROS = -62135596800 * 10**6
_MAX_MICROS = 253402300800 * 10**6


@dataclass
class Converted:
    """An array converted to a column type, and the values that could not be.

    ``problems`` lists, for each kind of failure, a mask of the rows it hit and a
    message without the value (what the reject summary counts); :meth:`message` adds
    the value for the rejects file.
    """

    array: pa.Array
    source: pa.Array
    problems: list[tuple[np.ndarray, str]] = field(default_factory=list)

    def add(self, mask, kind: str) -> None:
        mask = _to_mask(mask)
        if mask is not None and mask.any():
            self.problems.append((mask, kind))

    @property
    def bad(self) -> np.ndarray | None:
        if not self.problems:
            return None
        out = np.zeros(len(self.array), dtype=bool)
        for mask, _ in self.problems:
            out |= mask
        return out

    def errors(self) -> dict[int, tuple[str, str]]:
        """Row -> (message with the value, kind); the first problem of a row wins."""
        out: dict[int, tuple[str, str]] = {}
        for mask, kind in self.problems:
            for i in np.flatnonzero(mask):
                i = int(i)
                if i not in out:
                    out[i] = (f"{kind}: {_shown(self.source[i].as_py())}", kind)
        return out


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _to_mask(mask) -> np.ndarray | None:
    if mask is None:
        return None
    if isinstance(mask, np.ndarray):
        return mask
    if isinstance(mask, pa.ChunkedArray):
        mask = mask.combine_chunks()
    return bool_mask(mask)  # nulls are False


def _matches(arr: pa.Array, pattern: str) -> pa.Array:
    return pc.match_substring_regex(arr, pattern=pattern)


def _all(mask: pa.Array) -> bool:
    """Every non-null entry true (nulls, the missing values, do not count)."""
    return pc.all(mask).as_py() is not False


def _any(mask: pa.Array) -> bool:
    return pc.any(mask).as_py() is True


# -- inference --------------------------------------------------------------------------


def temporal_kind(arr: pa.Array) -> pa.DataType | None:
    """``date``, ``timestamp`` or None: what a text column of year-first dates is."""
    if arr.null_count == len(arr) or not _all(_matches(arr, _TEMPORAL)):
        return None
    return TIMESTAMP if _any(_matches(arr, _HAS_TIME)) else pa.date32()


def infer_text_type(arr: pa.Array) -> pa.DataType | None:
    """The column type of a text column (CSV fields), or None when all are null.

    >>> import pyarrow as pa
    >>> [str(infer_text_type(pa.array(v))) for v in (["1.5", "2"], ["true", "False"], ["2024-03-01"], ["a"])]
    ['double', 'bool', 'date32[day]', 'string']
    """
    if arr.null_count == len(arr):
        return None
    if _all(pc.is_in(arr, value_set=pa.array(_BOOL_TRUE + _BOOL_FALSE))):
        return pa.bool_()
    leading_zero = _any(_matches(arr, _LEADING_ZERO))
    if not leading_zero:
        plain_int = _matches(arr, _INT)
        if _all(pc.or_(plain_int, _matches(arr, _INTEGRAL_DECIMAL))) and _any(plain_int):
            return pa.int64()
        if _all(_matches(arr, _FLOAT)):
            return pa.float64()
    kind = temporal_kind(arr)
    return kind if kind is not None else pa.string()


def infer_parsed_type(arr: pa.Array, has_integer_literal=None) -> pa.DataType | None:
    """The column type for a column pyarrow's JSON reader parsed, or None (all null).

    A double column whose values are all integral and at least one of which was
    written as an integer (``has_integer_literal()``, asked only then) is a bigint:
    ``1.0`` among integer ids is that integer. Text of year-first dates is a
    timestamp or a date.
    """
    t = arr.type
    if pat.is_null(t):
        return None
    if pat.is_floating(t):
        if arr.null_count < len(arr) and _all(_integral(arr)) and has_integer_literal is not None \
                and has_integer_literal():
            return pa.int64()
        return pa.float64()
    if pat.is_string(t) or pat.is_large_string(t):
        return temporal_kind(arr) or pa.string()
    if pat.is_timestamp(t):
        return TIMESTAMP
    return None  # the caller's own normalisation decides (ints, bools, nested)


def _integral(arr: pa.Array) -> pa.Array:
    """True where a float is a whole number (inf and nan are not)."""
    finite = pc.is_finite(arr)
    return pc.and_(finite, pc.equal(pc.floor(pc.if_else(finite, arr, 0.0)), pc.if_else(finite, arr, 0.0)))


# -- conversion -------------------------------------------------------------------------


def convert_text(arr: pa.Array, target: pa.DataType, column: str, *, is_timestamp_column: bool = False,
                 timestamp_format: str | None = None) -> Converted:
    """Convert a text column (nulls already applied) to ``target``."""
    if pat.is_string(target):
        return Converted(arr, arr)
    valid = arr.is_valid()
    if pat.is_timestamp(target):
        if is_timestamp_column:
            return to_timestamp(arr, timestamp_format, column, allow_epoch=True)
        return to_timestamp(arr, None, column)
    if pat.is_date(target):
        return to_date(arr, column)
    if pat.is_boolean(target):
        is_true = pc.is_in(arr, value_set=pa.array(_BOOL_TRUE))
        ok = pc.or_(is_true, pc.is_in(arr, value_set=pa.array(_BOOL_FALSE)))
        out = Converted(pc.if_else(ok, is_true, pa.scalar(None, pa.bool_())), arr)
        out.add(pc.and_(valid, pc.invert(ok)), f"value does not fit column {column!r} of type boolean")
        return out
    if pat.is_integer(target):
        return _text_to_int(arr, column)
    if pat.is_floating(target):
        return _text_to_double(arr, column)
    out = Converted(pa.nulls(len(arr), target), arr)
    out.add(valid, f"text does not fit column {column!r} of type {athena_type(target)}")
    return out


def _text_to_int(arr: pa.Array, column: str) -> Converted:
    if _all(_matches(arr, _PLAIN_INT)):
        return Converted(arr.cast(pa.int64()), arr)  # the full rules cost ten kernels more
    trimmed = pc.utf8_trim_whitespace(arr)
    leading = _matches(trimmed, _LEADING_ZERO)
    plain = pc.and_(_matches(trimmed, _INT), pc.invert(leading))
    decimal = pc.and_(_matches(trimmed, _INTEGRAL_DECIMAL), pc.invert(leading))
    # "1.0" is the integer 1: drop the point and zeros before casting.
    digits = pc.if_else(decimal, pc.replace_substring_regex(trimmed, pattern=r"\.0*$", replacement=""), trimmed)
    digits = pc.if_else(pc.or_(plain, decimal), digits, pa.scalar(None, pa.string()))
    # Arrow's cast refuses "+5" (a whole-array error that stopped the ingest); the rule reads it as 5.
    digits = pc.utf8_ltrim(digits, characters="+")
    # Digits beyond 19 cannot be int64; the cast itself refuses overflow, whole-array.
    in_range = pc.less_equal(pc.utf8_length(pc.replace_substring_regex(digits, pattern=r"^[+-]", replacement="")), 18)
    values, overflow = _cast_ints(digits, in_range)
    out = Converted(values, arr)
    out.add(pc.and_(arr.is_valid(), leading), f"text with a leading zero does not fit column {column!r} of type bigint "
                                              "(it would lose the zero)")
    out.add(overflow, f"integer outside 64 bits in column {column!r}")
    out.add(pc.and_(pc.and_(arr.is_valid(), pc.invert(pc.or_(plain, decimal))), pc.invert(leading)),
            f"value does not fit column {column!r} of type bigint")
    return out


def _cast_ints(digits: pa.Array, short: pa.Array) -> tuple[pa.Array, np.ndarray | None]:
    """Cast digit strings to int64; long ones (19+ digits) one by one, so an overflow
    is that value's problem, not the whole array's."""
    long_mask = pc.fill_null(pc.invert(short), False)
    if not _any(long_mask):
        return digits.cast(pa.int64()), None
    quick = pc.if_else(long_mask, pa.scalar(None, pa.string()), digits).cast(pa.int64())
    values = quick.to_pylist()
    overflow = np.zeros(len(digits), dtype=bool)
    for i in np.flatnonzero(bool_mask(long_mask)):
        n = int(digits[int(i)].as_py())
        if _INT64_MIN <= n <= _INT64_MAX:
            values[i] = n
        else:
            overflow[i] = True
    return pa.array(values, pa.int64()), overflow


def _text_to_double(arr: pa.Array, column: str) -> Converted:
    if _all(_matches(arr, _PLAIN_DOUBLE)):
        return Converted(arr.cast(pa.float64()), arr)
    trimmed = pc.utf8_trim_whitespace(arr)
    leading = pc.and_(_matches(trimmed, _LEADING_ZERO), pc.invert(_matches(trimmed, r"^[+-]?0\.")))
    ok = pc.and_(_matches(trimmed, _FLOAT), pc.invert(leading))
    text = pc.if_else(ok, trimmed, pa.scalar(None, pa.string()))
    values = text.cast(pa.float64())
    out = Converted(values, arr)
    out.add(pc.and_(arr.is_valid(), leading), f"text with a leading zero does not fit column {column!r} of type double "
                                              "(it would lose the zero)")
    out.add(pc.and_(pc.and_(arr.is_valid(), pc.invert(ok)), pc.invert(leading)),
            f"value does not fit column {column!r} of type double")
    # An integer written without a point that a double cannot hold exactly.
    big = pc.and_(pc.and_(ok, _matches(trimmed, _INT)), pc.greater_equal(pc.abs(values), float(EXACT_DOUBLE_LIMIT)))
    out.add(_inexact_integers(text, big), f"integer too large to be exact in column {column!r} of type double")
    return out


def _inexact_integers(text: pa.Array, candidates: pa.Array) -> np.ndarray | None:
    mask = _to_mask(candidates)
    if mask is None or not mask.any():
        return None
    out = np.zeros(len(text), dtype=bool)
    for i in np.flatnonzero(mask):
        literal = text[int(i)].as_py().strip()
        out[i] = int(literal) != int(float(literal))
    return out


def convert_parsed(arr: pa.Array, target: pa.DataType, column: str, *, is_timestamp_column: bool = False,
                   timestamp_format: str | None = None, literal=None) -> Converted | None:
    """Convert a column pyarrow's JSON reader parsed to ``target``, keeping each value's
    meaning. ``literal(i)`` gives row ``i``'s number as written in the source (asked
    only for the rare doubles beyond 2^53). None: no rule here; cast as usual."""
    t = arr.type
    if pat.is_timestamp(target):
        if pat.is_string(t):
            return to_timestamp(arr, timestamp_format if is_timestamp_column else None, column,
                                allow_epoch=is_timestamp_column)
        if (pat.is_integer(t) or pat.is_floating(t)) and is_timestamp_column:
            return epoch_to_timestamp(arr, column)
        if pat.is_timestamp(t):
            return Converted(arr.cast(pa.timestamp("us", t.tz)).cast(TIMESTAMP) if t.tz is None
                             else arr.cast(TIMESTAMP), arr)
        if pat.is_date(t):
            return Converted(arr.cast(pa.timestamp("us")).cast(TIMESTAMP), arr)
        return None
    if pat.is_date(target):
        if pat.is_string(t):
            return to_date(arr, column)
        if pat.is_timestamp(t):
            midnight = pc.equal(pc.cast(arr.cast(pa.timestamp("us")), pa.int64()) % 86_400_000_000, 0)
            out = Converted(pc.if_else(midnight, arr.cast(pa.timestamp("us")), pa.scalar(None, pa.timestamp("us")))
                            .cast(pa.date32()), arr)
            out.add(pc.and_(arr.is_valid(), pc.invert(midnight)),
                    f"value with a time does not fit column {column!r} of type date")
            return out
        return None
    if pat.is_int64(target) and pat.is_floating(t):
        return _double_to_int(arr, column, literal)
    if pat.is_floating(target) and pat.is_integer(t):
        out = Converted(arr.cast(pa.float64()), arr)
        big = pc.greater(pc.abs(arr.cast(pa.float64())), float(EXACT_DOUBLE_LIMIT))
        out.add(big, f"integer too large to be exact in column {column!r} of type double")
        return out
    if pat.is_floating(target) and pat.is_floating(t):
        out = Converted(arr.cast(pa.float64()), arr)
        big = pc.and_(_integral(arr), pc.greater_equal(pc.abs(arr), float(EXACT_DOUBLE_LIMIT)))
        out.add(_inexact_literals(arr, big, literal), f"integer too large to be exact in column {column!r} of type double")
        return out
    return None


def _double_to_int(arr: pa.Array, column: str, literal) -> Converted:
    integral = _integral(arr)
    small = pc.less(pc.abs(arr), float(EXACT_DOUBLE_LIMIT))
    exact = pc.and_(integral, small)
    values = pc.if_else(exact, arr, pa.scalar(None, pa.float64())).cast(pa.int64())
    big = bool_mask(pc.and_(integral, pc.invert(small)))
    overflow = np.zeros(len(arr), dtype=bool)
    unreadable = np.zeros(len(arr), dtype=bool)
    if big.any():
        # Past 2^53 the double may already have merged neighbours: go back to the text.
        py = values.to_pylist()
        for i in np.flatnonzero(big):
            text = literal(int(i)) if literal is not None else None
            n = _exact_int(text)
            if n is None:
                unreadable[i] = True
            elif _INT64_MIN <= n <= _INT64_MAX:
                py[i] = n
            else:
                overflow[i] = True
        values = pa.array(py, pa.int64())
    out = Converted(values, arr)
    out.add(pc.and_(arr.is_valid(), pc.invert(integral)), f"value with a fraction does not fit column {column!r} of type bigint")
    out.add(overflow, f"integer outside 64 bits in column {column!r}")
    out.add(unreadable, f"number too large to be exact in column {column!r} of type bigint")
    return out


def _exact_int(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        d = Decimal(text.strip())
    except InvalidOperation:
        return None
    if not d.is_finite() or d != d.to_integral_value():
        return None
    return int(d)


def _inexact_literals(arr: pa.Array, candidates: pa.Array, literal) -> np.ndarray | None:
    mask = _to_mask(candidates)
    if mask is None or not mask.any():
        return None
    out = np.zeros(len(arr), dtype=bool)
    for i in np.flatnonzero(mask):
        text = literal(int(i)) if literal is not None else None
        if text is None:
            continue  # no text to compare: a double as written
        stripped = text.strip()
        if stripped.lstrip("+-").isdigit():  # written as an integer
            out[i] = int(stripped) != int(arr[int(i)].as_py())
    return out


# -- timestamps -------------------------------------------------------------------------


def to_timestamp(arr: pa.Array, fmt: str | None = None, column: str = "", *, allow_epoch: bool = False) -> Converted:
    """Text to UTC microseconds: year-first dates and times with their own offsets, or
    ``fmt`` (strftime); epoch numbers too when ``allow_epoch`` (the timestamp column)."""
    kind = f"cannot parse timestamp in column {column!r}" if column else "cannot parse timestamp"
    if pat.is_timestamp(arr.type) or pat.is_date(arr.type):
        return Converted(arr.cast(pa.timestamp("us", getattr(arr.type, "tz", None))).cast(TIMESTAMP)
                         if pat.is_date(arr.type) or arr.type.tz is None else arr.cast(TIMESTAMP), arr)
    if pat.is_integer(arr.type) or pat.is_floating(arr.type):
        return epoch_to_timestamp(arr, column)
    if pat.is_null(arr.type):
        return Converted(pa.nulls(len(arr), TIMESTAMP), arr)
    if fmt is None:
        # The common case first: ISO 8601 with a Z or an offset, one kernel call.
        try:
            return Converted(arr.cast(TIMESTAMP), arr)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    micros = _strptime_micros(arr, fmt) if fmt is not None else _iso_micros(arr)
    if allow_epoch:
        numeric = _matches(arr, _FLOAT)
        if _any(numeric):
            epoch = epoch_to_timestamp(pc.if_else(numeric, arr, pa.scalar(None, pa.string())).cast(pa.float64()), column)
            micros = pc.if_else(numeric, epoch.array.cast(pa.int64()), micros)
    in_range = pc.and_(pc.greater_equal(micros, _MIN_MICROS), pc.less(micros, _MAX_MICROS))
    micros = pc.if_else(in_range, micros, pa.scalar(None, pa.int64()))
    out = Converted(micros.cast(TIMESTAMP), arr)
    out.add(pc.and_(arr.is_valid(), micros.is_null()), kind)
    return out


def _parts(arr: pa.Array) -> pa.StructArray:
    return pc.extract_regex(arr, pattern=_TEMPORAL)


def _iso_micros(arr: pa.Array) -> pa.Array:
    """Year-first text to UTC epoch microseconds (null where not a valid instant)."""
    parts = _parts(arr)

    def part(name: str, width: int, default: str) -> pa.Array:
        value = pc.struct_field(parts, name)
        value = pc.if_else(pc.equal(value, ""), default, value)
        return pc.utf8_lpad(value, width=width, padding="0")

    y, m, d = part("y", 4, "0"), part("m", 2, "0"), part("d", 2, "0")
    hh, mm, ss = part("H", 2, "0"), part("M", 2, "0"), part("S", 2, "0")
    text = pc.binary_join_element_wise(y, "-", m, "-", d, "T", hh, ":", mm, ":", ss, "")
    base = pc.strptime(text, format="%Y-%m-%dT%H:%M:%S", unit="us", error_is_null=True)
    # strptime rolls 2024-02-30 over to March; a value whose fields do not come back
    # unchanged was not a real date or time.
    same = pc.and_(pc.and_(pc.equal(pc.year(base), y.cast(pa.int64())), pc.equal(pc.month(base), m.cast(pa.int64()))),
                   pc.and_(pc.equal(pc.day(base), d.cast(pa.int64())), pc.equal(pc.hour(base), hh.cast(pa.int64()))))
    base = pc.if_else(same, base, pa.scalar(None, base.type))
    fraction = pc.struct_field(parts, "f")
    fraction = pc.utf8_slice_codeunits(pc.utf8_rpad(fraction, width=6, padding="0"), 0, 6).cast(pa.int64())
    micros = pc.add(base.cast(pa.int64()), fraction)
    return pc.subtract(micros, pc.multiply(_offset_minutes(pc.struct_field(parts, "z")), 60_000_000))


def _offset_minutes(zone: pa.Array) -> pa.Array:
    """``Z``/``UTC``/``GMT``/empty -> 0, ``+hh``, ``+hhmm``, ``+hh:mm`` -> signed minutes."""
    digits = pc.replace_substring(pc.utf8_slice_codeunits(zone, 1), ":", "")
    numeric = pc.match_substring_regex(zone, pattern=r"^[+-]")
    hours = pc.if_else(numeric, pc.utf8_slice_codeunits(digits, 0, 2), "0").cast(pa.int64())
    minutes = pc.if_else(pc.and_(numeric, pc.greater(pc.utf8_length(digits), 2)),
                         pc.utf8_slice_codeunits(digits, 2, 4), "0").cast(pa.int64())
    total = pc.add(pc.multiply(hours, 60), minutes)
    return pc.if_else(pc.starts_with(zone, "-"), pc.negate(total), total)


def _strptime_micros(arr: pa.Array, fmt: str) -> pa.Array:
    parsed = pc.strptime(arr, format=fmt, unit="us", error_is_null=True)
    micros = parsed.cast(pa.int64())
    missed = pc.and_(arr.is_valid(), parsed.is_null())
    if _any(missed):
        # Arrow's strptime lacks %f and a few others; Python's has them. Rare values only.
        py = micros.to_pylist()
        for i in np.flatnonzero(_to_mask(missed)):
            try:
                value = dt.datetime.strptime(arr[int(i)].as_py().strip(), fmt)
            except ValueError:
                continue
            if value.tzinfo is None:
                value = value.replace(tzinfo=dt.UTC)
            delta = value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
            py[i] = (delta.days * 86_400 + delta.seconds) * 10**6 + delta.microseconds
        micros = pa.array(py, pa.int64())
    return micros


def epoch_to_timestamp(arr: pa.Array, column: str = "") -> Converted:
    """Epoch numbers to UTC timestamps, the unit told per value by its magnitude:
    under 1e11 seconds, under 1e14 milliseconds, under 1e17 microseconds, else
    nanoseconds (1e11 seconds is the year 5138, so no real instant is misread)."""
    kind = f"cannot parse timestamp in column {column!r}" if column else "cannot parse timestamp"
    if pat.is_integer(arr.type):
        values = arr.cast(pa.int64())
        size = pc.abs(values.cast(pa.float64(), safe=False))
        scaled = pc.case_when(
            pc.make_struct(pc.less(size, 1e11), pc.less(size, 1e14), pc.less(size, 1e17)),
            pc.multiply(values, 1_000_000), pc.multiply(values, 1_000), values,
            pc.divide(values, 1_000),
        )
    else:
        values = arr.cast(pa.float64())
        size = pc.abs(values)
        finite = pc.is_finite(values)
        scaled_f = pc.case_when(
            pc.make_struct(pc.less(size, 1e11), pc.less(size, 1e14), pc.less(size, 1e17)),
            pc.multiply(values, 1e6), pc.multiply(values, 1e3), values, pc.divide(values, 1e3),
        )
        ok = pc.and_(finite, pc.and_(pc.greater_equal(scaled_f, float(_MIN_MICROS)), pc.less(scaled_f, float(_MAX_MICROS))))
        scaled = pc.round(pc.if_else(ok, scaled_f, pa.scalar(None, pa.float64()))).cast(pa.int64())
    in_range = pc.and_(pc.greater_equal(scaled, _MIN_MICROS), pc.less(scaled, _MAX_MICROS))
    micros = pc.if_else(in_range, scaled, pa.scalar(None, pa.int64()))
    out = Converted(micros.cast(TIMESTAMP), arr)
    out.add(pc.and_(arr.is_valid(), micros.is_null()), kind)
    return out


def to_date(arr: pa.Array, column: str = "") -> Converted:
    """Year-first date text (no time) to ``date``."""
    kind = f"cannot parse date in column {column!r}" if column else "cannot parse date"
    is_date = pc.and_(_matches(arr, _TEMPORAL), pc.invert(_matches(arr, _HAS_TIME)))
    micros = _iso_micros(pc.if_else(is_date, arr, pa.scalar(None, pa.string())))
    days = pc.divide(micros, 86_400_000_000).cast(pa.int32()).cast(pa.date32())
    out = Converted(days, arr)
    out.add(pc.and_(arr.is_valid(), days.is_null()), kind)
    return out
