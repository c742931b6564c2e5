"""DuckDB macros that give Trino's semantics where DuckDB has no function of its own.

Each macro is created on a connection the first time a query calls it
(:func:`install`), after the macros it calls. A macro that raises Athena's runtime
error has a ``__try`` twin returning NULL instead, for use inside ``TRY(...)`` (DuckDB's
TRY refuses ``error()``).
"""

from __future__ import annotations

import re

__all__ = ["MACROS", "dependencies", "install", "try_variant"]


def _timestamp_text(precision: int) -> str:
    base = "strftime(ts, '%Y-%m-%d %H:%M:%S')"
    if precision == 0:
        return base
    return f"{base} || '.' || substring(lpad(CAST(microsecond(ts) % 1000000 AS VARCHAR), 6, '0'), 1, {precision})"


def _time_text(precision: int) -> str:
    stamp = "(TIMESTAMP '1970-01-01' + t)"
    base = f"strftime({stamp}, '%H:%M:%S')"
    if precision == 0:
        return base
    return f"{base} || '.' || substring(lpad(CAST(microsecond({stamp}) % 1000000 AS VARCHAR), 6, '0'), 1, {precision})"


_DELIMITER_ERROR = "error('Key-value delimiter must appear exactly once in each entry. Bad input: ''' || p || '''')"
_SPLIT_ENTRY = (
    f"CASE WHEN strpos(p, kv) = 0 THEN {_DELIMITER_ERROR} "
    "ELSE {'key': split_part(p, kv, 1), 'value': substring(p, strpos(p, kv) + length(kv))} END"
)

#: name -> (parameters, body)
MACROS: dict[str, tuple[str, str]] = {
    # Trino's decimal division on unscaled integers: rounded half up, away from zero.
    "lk_decimal_divide": (
        "n, d, f",
        "CASE WHEN d = 0 THEN error('Division by zero') "
        "ELSE sign(n) * sign(d) * ((abs(n) * f * 2 + abs(d)) // (2 * abs(d))) END",
    ),
    "lk_json_to_varchar": (
        "j",
        "CASE json_type(j) WHEN 'VARCHAR' THEN json_extract_string(j, '$') WHEN 'NULL' THEN NULL "
        "WHEN 'ARRAY' THEN error('Cannot cast JSON array to varchar') "
        "WHEN 'OBJECT' THEN error('Cannot cast JSON object to varchar') ELSE CAST(j AS VARCHAR) END",
    ),
    **{f"lk_timestamp_text_{p}": ("ts", _timestamp_text(p)) for p in range(7)},
    **{f"lk_time_text_{p}": ("t", _time_text(p)) for p in range(7)},
    # -- math -------------------------------------------------------------------------------
    "lk_width_bucket": (
        "x, b1, b2, n",
        "CASE WHEN n <= 0 THEN error('bucketCount must be greater than 0') "
        "WHEN isnan(x) THEN error('operand must not be NaN') "
        "WHEN b1 = b2 THEN error('bounds cannot equal each other') "
        "WHEN b1 > b2 THEN n - lk_width_bucket_up(x, b2, b1, n) + 1 ELSE lk_width_bucket_up(x, b1, b2, n) END",
    ),
    "lk_width_bucket_up": (
        "x, lo, hi, n",
        "CAST(CASE WHEN x < lo THEN 0 WHEN x >= hi THEN n + 1 ELSE trunc(CAST(n AS DOUBLE) * (x - lo) / (hi - lo) + 1) END AS BIGINT)",
    ),
    "lk_from_base": (
        "s, radix",
        "CASE WHEN radix < 2 OR radix > 36 THEN error('Radix must be between 2 and 36') "
        "WHEN NOT regexp_full_match(lower(s), '-?[0-9a-z]+') "
        "OR list_bool_or(list_transform(string_split(ltrim(lower(s), '-'), ''), "
        "lambda c: strpos('0123456789abcdefghijklmnopqrstuvwxyz', c) - 1 >= radix)) "
        "THEN error('Not a valid base-' || radix || ' number: ' || s) "
        "ELSE (CASE WHEN starts_with(s, '-') THEN -1 ELSE 1 END) * list_reduce(list_transform(string_split(ltrim(lower(s), '-'), ''), "
        "lambda c: CAST(strpos('0123456789abcdefghijklmnopqrstuvwxyz', c) - 1 AS BIGINT)), lambda acc, d: acc * radix + d, "
        "CAST(0 AS BIGINT)) END",
    ),
    "lk_to_base": (
        "x, radix",
        "CASE WHEN radix < 2 OR radix > 36 THEN error('Radix must be between 2 and 36') WHEN x = 0 THEN '0' "
        "ELSE (CASE WHEN x < 0 THEN '-' ELSE '' END) || list_reduce(range(64), lambda acc, i: "
        "CASE WHEN acc.v = 0 THEN acc ELSE {'v': acc.v // radix, 's': substring('0123456789abcdefghijklmnopqrstuvwxyz', "
        "CAST(acc.v % radix AS INTEGER) + 1, 1) || acc.s} END, {'v': abs(CAST(x AS HUGEINT)), 's': ''}).s END",
    ),
    "lk_cosine_similarity": (
        "a, b",
        "CASE WHEN len(a) <> len(b) THEN error('The arguments must have the same length') ELSE "
        "lk_cosine_of(list_reduce(list_zip(a, b), lambda acc, p: {'d': acc.d + p[1] * p[2], 'm1': acc.m1 + p[1] * p[1], "
        "'m2': acc.m2 + p[2] * p[2]}, {'d': CAST(0 AS DOUBLE), 'm1': CAST(0 AS DOUBLE), 'm2': CAST(0 AS DOUBLE)})) END",
    ),
    "lk_cosine_of": ("r", "CASE WHEN r.m1 = 0 OR r.m2 = 0 THEN NULL ELSE r.d / sqrt(r.m1 * r.m2) END"),
    "lk_cosine_similarity_map": (
        "a, b",
        "lk_cosine_of({'d': list_sum(list_transform(map_keys(a), lambda k: CASE WHEN list_contains(map_keys(b), k) "
        "THEN a[k] * b[k] ELSE 0 END)), 'm1': list_sum(list_transform(map_values(a), lambda v: v * v)), "
        "'m2': list_sum(list_transform(map_values(b), lambda v: v * v))})",
    ),
    "lk_euclidean_distance": (
        "a, b",
        "CASE WHEN len(a) <> len(b) THEN error('The arguments must have the same length') ELSE "
        "sqrt(list_reduce(list_zip(a, b), lambda acc, p: acc + (p[1] - p[2]) * (p[1] - p[2]), CAST(0 AS DOUBLE))) END",
    ),
    "lk_dot_product": (
        "a, b",
        "CASE WHEN len(a) <> len(b) THEN error('The arguments must have the same length') ELSE "
        "list_reduce(list_zip(a, b), lambda acc, p: acc + p[1] * p[2], CAST(0 AS DOUBLE)) END",
    ),
    # -- bits -------------------------------------------------------------------------------
    "lk_bit_count": (
        "x, bits",
        "CASE WHEN bits = 64 THEN CAST(bit_count(CAST(x AS BIGINT)) AS BIGINT) "
        "WHEN bits <= 1 OR bits > 64 THEN error('Bits specified in bit_count must be between 2 and 64, got ' || bits) "
        "WHEN x > (CAST(1 AS BIGINT) << (bits - 1)) - 1 OR x < -(CAST(1 AS BIGINT) << (bits - 1)) "
        "THEN error('Number must be representable with the bits specified. ' || x || ' cannot be represented with ' || bits || ' bits') "
        "ELSE CAST(bit_count(CAST(x AS BIGINT) & ((CAST(1 AS BIGINT) << (bits - 1)) * 2 - 1)) AS BIGINT) END",
    ),
    "lk_signed": ("u, bits", "CASE WHEN u >= (CAST(1 AS HUGEINT) << (bits - 1)) THEN u - (CAST(1 AS HUGEINT) << bits) ELSE u END"),
    "lk_unsigned": (
        "v, bits",
        "((CAST(v AS HUGEINT) % (CAST(1 AS HUGEINT) << bits)) + (CAST(1 AS HUGEINT) << bits)) % (CAST(1 AS HUGEINT) << bits)",
    ),
    "lk_shift_left": (
        "v, s, bits",
        "CASE WHEN s >= 64 THEN 0 ELSE lk_signed(lk_unsigned(CAST(v AS HUGEINT) * (CAST(1 AS HUGEINT) << s), bits), bits) END",
    ),
    "lk_shift_right": ("v, s, bits", "CASE WHEN s >= 64 THEN 0 WHEN s = 0 THEN v ELSE lk_unsigned(v, bits) // (CAST(1 AS HUGEINT) << s) END"),
    "lk_shift_right_arithmetic": (
        "v, s, bits",
        "CASE WHEN s >= 64 THEN (CASE WHEN v >= 0 THEN 0 ELSE -1 END) WHEN v >= 0 THEN CAST(v AS HUGEINT) // (CAST(1 AS HUGEINT) << s) "
        "ELSE -((-CAST(v AS HUGEINT) - 1) // (CAST(1 AS HUGEINT) << s)) - 1 END",
    ),
    # -- strings ------------------------------------------------------------------------------
    "lk_luhn_check": (
        "s",
        "CASE WHEN s IS NULL THEN NULL WHEN NOT regexp_full_match(s, '[0-9]+') THEN false ELSE "
        "list_sum(list_transform(list_reverse(string_split(s, '')), lambda d, i: CASE WHEN i % 2 = 0 THEN "
        "(CASE WHEN CAST(d AS INTEGER) * 2 > 9 THEN CAST(d AS INTEGER) * 2 - 9 ELSE CAST(d AS INTEGER) * 2 END) "
        "ELSE CAST(d AS INTEGER) END)) % 10 = 0 END",
    ),
    "lk_strpos": (
        "s, sub, n",
        "CASE WHEN n = 0 THEN error('\"instance\" must not be zero') WHEN n > 0 THEN lk_strpos_forward(s, sub, n) "
        "WHEN lk_strpos_forward(reverse(s), reverse(sub), -n) = 0 THEN 0 "
        "ELSE length(s) - lk_strpos_forward(reverse(s), reverse(sub), -n) - length(sub) + 2 END",
    ),
    "lk_strpos_forward": (
        "s, sub, n",
        "CAST(CASE WHEN sub = '' THEN (CASE WHEN n <= length(s) + 1 THEN n ELSE 0 END) "
        "ELSE coalesce(list_extract(list_filter(range(1, length(s) + 1), lambda i: substring(s, i, length(sub)) = sub), n), 0) END AS BIGINT)",
    ),
    "lk_replace_empty": ("s, r", "r || array_to_string(list_transform(string_split(s, ''), lambda c: c || r), '')"),
    "lk_is_utf8": ("b", "TRY(decode(b)) IS NOT NULL"),
    "lk_reverse_codepoints": ("s", "array_to_string(list_reverse(string_split(s, '')), '')"),
    "lk_split_limit": (
        "s, d, n",
        "CASE WHEN n <= 0 THEN error('Limit must be positive') WHEN d = '' THEN error('The delimiter may not be the empty string') "
        "WHEN len(string_split(s, d)) <= n THEN string_split(s, d) "
        "ELSE list_append(list_slice(string_split(s, d), 1, n - 1), "
        "array_to_string(list_slice(string_split(s, d), n, len(string_split(s, d))), d)) END",
    ),
    "lk_split_to_map": (
        "s, e, kv",
        f"map_from_entries(list_transform(list_filter(string_split(s, e), lambda p: p <> ''), lambda p: {_SPLIT_ENTRY}))",
    ),
    "lk_split_to_multimap": (
        "s, e, kv",
        f"lk_group_pairs(list_transform(list_filter(string_split(s, e), lambda p: p <> ''), lambda p: {_SPLIT_ENTRY}))",
    ),
    "lk_group_pairs": (
        "pairs",
        "map(lk_array_distinct(list_transform(pairs, lambda p: p.key)), list_transform(lk_array_distinct(list_transform(pairs, "
        "lambda p: p.key)), lambda k: list_transform(list_filter(pairs, lambda p: p.key = k), lambda p: p.value)))",
    ),
    "lk_substr2": (
        "s, st",
        "CASE WHEN st = 0 THEN '' WHEN st > 0 THEN (CASE WHEN st > length(s) THEN '' ELSE substring(s, st) END) "
        "WHEN length(s) + st < 0 THEN '' ELSE substring(s, length(s) + st + 1) END",
    ),
    "lk_substr3": (
        "s, st, n",
        "CASE WHEN n < 0 THEN error('Length must be greater than or equal to zero') WHEN st = 0 THEN '' "
        "WHEN st > 0 THEN (CASE WHEN st > length(s) THEN '' ELSE substring(s, st, n) END) "
        "WHEN length(s) + st < 0 THEN '' ELSE substring(s, length(s) + st + 1, n) END",
    ),
    "lk_regexp_position": (
        "s, p, st, n",
        "CASE WHEN st < 1 THEN error('start position cannot be smaller than 1') WHEN n < 1 THEN error('occurrence cannot be smaller than 1') "
        "WHEN st > length(s) THEN -1 ELSE lk_regexp_position_in(regexp_extract_all(substring(s, st), p), "
        "regexp_split_to_array(substring(s, st), p), st, n) END",
    ),
    "lk_regexp_position_in": (
        "m, pieces, st, n",
        "CASE WHEN n > len(m) THEN -1 ELSE CAST(st + list_sum(list_transform(list_slice(pieces, 1, n), lambda x: length(x))) "
        "+ coalesce(list_sum(list_transform(list_slice(m, 1, n - 1), lambda x: length(x))), 0) AS INTEGER) END",
    ),
    # -- arrays -------------------------------------------------------------------------------
    "lk_array_distinct": ("a", "list_filter(a, lambda x, i: list_position(a, x) = i)"),
    "lk_array_intersect": (
        "a, b",
        "CASE WHEN a IS NULL OR b IS NULL THEN NULL WHEN len(a) >= len(b) THEN "
        "lk_array_distinct(list_filter(a, lambda x: list_position(b, x) IS NOT NULL)) "
        "ELSE lk_array_distinct(list_filter(b, lambda x: list_position(a, x) IS NOT NULL)) END",
    ),
    "lk_array_union": ("a, b", "CASE WHEN a IS NULL OR b IS NULL THEN NULL ELSE lk_array_distinct(list_concat(a, b)) END"),
    "lk_array_except": (
        "a, b",
        "CASE WHEN a IS NULL OR b IS NULL THEN NULL WHEN len(a) = 0 OR len(b) = 0 THEN a "
        "ELSE lk_array_distinct(list_filter(a, lambda x: list_position(b, x) IS NULL)) END",
    ),
    "lk_array_histogram": (
        "a",
        "map_from_entries(list_transform(lk_array_distinct(list_filter(a, lambda x: x IS NOT NULL)), "
        "lambda x: {'key': x, 'value': CAST(len(list_filter(a, lambda y: y = x)) AS BIGINT)}))",
    ),
    "lk_arrays_overlap": (
        "a, b",
        "CASE WHEN a IS NULL OR b IS NULL THEN NULL "
        "WHEN len(list_filter(a, lambda x: x IS NOT NULL AND list_contains(b, x))) > 0 THEN true "
        "WHEN list_position(a, NULL) IS NOT NULL OR list_position(b, NULL) IS NOT NULL THEN NULL ELSE false END",
    ),
    "lk_contains_sequence": (
        "a, q",
        "CASE WHEN a IS NULL OR q IS NULL THEN NULL WHEN len(q) = 0 THEN true ELSE "
        "coalesce(list_bool_or(list_transform(range(1, greatest(len(a) - len(q) + 2, 1)), "
        "lambda i: list_slice(a, i, i + len(q) - 1) = q)), false) END",
    ),
    "lk_sequence_months": (
        "a, b, step",
        "CASE WHEN lk_interval_months(step) = 0 THEN error('step must not be zero') ELSE "
        "list_transform(range(0, lk_months_between(CAST(a AS TIMESTAMP), CAST(b AS TIMESTAMP)) // lk_interval_months(step) + 1), "
        "lambda k: CAST(a + to_months(CAST(k * lk_interval_months(step) AS INTEGER)) AS DATE)) END",
    ),
    "lk_interval_months": ("step", "CAST(datepart('month', step) + 12 * datepart('year', step) AS BIGINT)"),
    "lk_slice": (
        "a, st, n",
        "CASE WHEN st = 0 THEN error('SQL array indices start at 1') WHEN n < 0 THEN error('length must be greater than or equal to 0') "
        "WHEN st > 0 THEN list_slice(a, st, st + n - 1) "
        "WHEN len(a) + st < 0 THEN list_slice(a, 1, 0) ELSE list_slice(a, len(a) + st + 1, len(a) + st + n) END",
    ),
    "lk_multimap_from_entries": (
        "e",
        "lk_group_pairs(list_transform(e, lambda x: {'key': struct_extract_at(x, 1), 'value': struct_extract_at(x, 2)}))",
    ),
    # -- JSON ---------------------------------------------------------------------------------
    "lk_json_array_get": (
        "j, i",
        "CASE WHEN json_type(j) <> 'ARRAY' THEN NULL "
        "ELSE lk_json_broken_text(CASE WHEN i >= 0 THEN json_extract(j, '$[' || i || ']') "
        "WHEN -i <= json_array_length(j) THEN json_extract(j, '$[' || (json_array_length(j) + i) || ']') END) END",
    ),
    # json_array_get returns a string element without its quotes (Trino documents it as broken).
    "lk_json_broken_text": ("x", "CASE WHEN json_type(x) = 'VARCHAR' THEN json_extract_string(x, '$') ELSE CAST(x AS VARCHAR) END"),
    # -- date and time --------------------------------------------------------------------------
    # Joda-Time's month difference: whole months, where the last day of a month reaches
    # any later day-of-month of the month it started in (Jan 31 -> Feb 29 is one month).
    "lk_months_forward": (
        "a, b",
        "(year(b) - year(a)) * 12 + month(b) - month(a) - CASE WHEN "
        "(day(b) - 1) * 86400000000 + (epoch_us(b) - epoch_us(date_trunc('day', b))) < "
        "((CASE WHEN day(b) = day(last_day(b)) AND day(a) > day(b) THEN day(b) ELSE day(a) END) - 1) * 86400000000 "
        "+ (epoch_us(a) - epoch_us(date_trunc('day', a))) THEN 1 ELSE 0 END",
    ),
    "lk_months_between": ("a, b", "CAST(CASE WHEN b < a THEN -lk_months_forward(b, a) ELSE lk_months_forward(a, b) END AS BIGINT)"),
    "lk_from_iso8601_date": (
        "s",
        "CASE WHEN regexp_full_match(s, '\\d{4}-\\d{2}-\\d{2}') THEN CAST(s AS DATE) "
        "WHEN regexp_full_match(s, '\\d{4}-W\\d{2}(-\\d)?') THEN CAST(lk_iso_week_start(CAST(substring(s, 1, 4) AS INTEGER)) "
        "+ to_days(CAST((CAST(substring(s, 7, 2) AS INTEGER) - 1) * 7 + coalesce(TRY_CAST(nullif(substring(s, 10, 1), '') AS INTEGER), 1) - 1 "
        "AS INTEGER)) AS DATE) "
        "WHEN regexp_full_match(s, '\\d{4}-\\d{3}') THEN CAST(make_date(CAST(substring(s, 1, 4) AS INTEGER), 1, 1) "
        "+ to_days(CAST(substring(s, 6, 3) AS INTEGER) - 1) AS DATE) "
        "WHEN regexp_full_match(s, '\\d{4}-\\d{2}') THEN make_date(CAST(substring(s, 1, 4) AS INTEGER), CAST(substring(s, 6, 2) AS INTEGER), 1) "
        "WHEN regexp_full_match(s, '\\d{4}') THEN make_date(CAST(s AS INTEGER), 1, 1) "
        "ELSE error('Invalid format: \"' || s || '\"') END",
    ),
    "lk_iso_week_start": ("y", "make_date(y, 1, 4) - to_days(CAST(isodow(make_date(y, 1, 4)) - 1 AS INTEGER))"),
    "lk_parse_duration": (
        "s",
        "CASE WHEN NOT regexp_full_match(s, '\\s*\\d+(\\.\\d+)?\\s*(ns|us|ms|s|m|h|d)\\s*') "
        "THEN error('duration is not a valid data duration string: ' || s) ELSE to_milliseconds(CAST(round("
        "CAST(regexp_extract(s, '\\d+(\\.\\d+)?') AS DOUBLE) * CASE regexp_extract(s, '(ns|us|ms|s|m|h|d)\\s*$', 1) "
        "WHEN 'ns' THEN 0.000001 WHEN 'us' THEN 0.001 WHEN 'ms' THEN 1 WHEN 's' THEN 1000 WHEN 'm' THEN 60000 "
        "WHEN 'h' THEN 3600000 ELSE 86400000 END) AS BIGINT)) END",
    ),
    "lk_human_readable_seconds": (
        "x",
        "CASE WHEN isnan(x) OR isinf(x) THEN error('Invalid argument found: ' || x) ELSE lk_time_periods(CAST(floor(abs(x) + 0.5) AS BIGINT)) END",
    ),
    "lk_time_periods": (
        "t",
        "coalesce(nullif(array_to_string(list_filter([lk_period(t // 604800, 'week'), lk_period(t % 604800 // 86400, 'day'), "
        "lk_period(t % 86400 // 3600, 'hour'), lk_period(t % 3600 // 60, 'minute'), lk_period(t % 60, 'second')], "
        "lambda p: p IS NOT NULL), ', '), ''), '0 seconds')",
    ),
    "lk_period": ("v, unit", "CASE WHEN v <= 0 THEN NULL WHEN v = 1 THEN v || ' ' || unit ELSE v || ' ' || unit || 's' END"),
    # -- formatting --------------------------------------------------------------------------
    "lk_format_number": (
        "v",
        "lk_format_scaled(v / pow(1000, lk_thousands(v)), ['', 'K', 'M', 'B', 'T', 'Q'][lk_thousands(v) + 1])",
    ),
    "lk_thousands": (
        "v",
        "CASE WHEN abs(v) >= 1000000000000000 THEN 5 WHEN abs(v) >= 1000000000000 THEN 4 WHEN abs(v) >= 1000000000 THEN 3 "
        "WHEN abs(v) >= 1000000 THEN 2 WHEN abs(v) >= 1000 THEN 1 ELSE 0 END",
    ),
    "lk_format_scaled": (
        "f, u",
        "lk_trim_decimal(CAST(round(CAST(printf('%.16e', f) AS DECIMAL(38, 20)), "
        "CASE WHEN abs(f) < 10 THEN 2 WHEN abs(f) < 100 THEN 1 ELSE 0 END) AS VARCHAR)) || u",
    ),
    "lk_trim_decimal": ("t", "CASE WHEN strpos(t, '.') = 0 THEN t ELSE rtrim(rtrim(t, '0'), '.') END"),
    "lk_parse_data_size": (
        "s",
        "CASE WHEN NOT regexp_full_match(s, '\\s*\\d+(\\.\\d+)?\\s*(B|kB|MB|GB|TB|PB|EB|ZB|YB)\\s*') "
        "THEN error('Invalid data size: ''' || s || '''') ELSE CAST(trunc(CAST(regexp_extract(s, '\\d+(\\.\\d+)?') AS DECIMAL(38, 10)) * "
        "CAST(pow(CAST(1024 AS HUGEINT), list_position(['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'], "
        "regexp_extract(s, '(B|kB|MB|GB|TB|PB|EB|ZB|YB)\\s*$', 1)) - 1) AS DECIMAL(38, 0))) AS DECIMAL(38, 0)) END",
    ),
}

# URLs: java.net.URI's parts (RFC 2396); a string the parser rejects yields NULL.
_URI = "'^(([^:/?#]+):)?(//([^/?#]*))?([^?#]*)(\\?([^#]*))?(#(.*))?$'"
_URI_OK = "regexp_full_match(u, '[A-Za-z0-9\\-._~:/?#\\[\\]@!$&''()*+,;=%]*')"
MACROS.update({
    "lk_url_protocol": ("u", f"CASE WHEN NOT {_URI_OK} THEN NULL ELSE regexp_extract(u, {_URI}, 2) END"),
    "lk_url_host": ("u", f"CASE WHEN NOT {_URI_OK} THEN NULL ELSE regexp_extract(regexp_extract(u, {_URI}, 4), "
                         "'^(?:[^@]*@)?(\\[[^\\]]*\\]|[^:]*)', 1) END"),
    "lk_url_port": ("u", f"CASE WHEN NOT {_URI_OK} THEN NULL ELSE TRY_CAST(nullif(regexp_extract(regexp_extract(u, {_URI}, 4), "
                         "'^(?:[^@]*@)?(?:\\[[^\\]]*\\]|[^:]*):(\\d+)$', 1), '') AS BIGINT) END"),
    "lk_url_path": ("u", f"CASE WHEN NOT {_URI_OK} THEN NULL ELSE lk_percent_decode(regexp_extract(u, {_URI}, 5)) END"),
    "lk_url_query": ("u", f"CASE WHEN NOT {_URI_OK} THEN NULL ELSE lk_percent_decode(regexp_extract(u, {_URI}, 7)) END"),
    "lk_url_fragment": ("u", f"CASE WHEN NOT {_URI_OK} THEN NULL ELSE lk_percent_decode(regexp_extract(u, {_URI}, 9)) END"),
    "lk_url_parameter": (
        "u, name",
        f"CASE WHEN NOT {_URI_OK} OR NOT regexp_matches(u, '^[^#]*\\?') THEN NULL "
        f"ELSE lk_first_parameter(list_filter(string_split(regexp_extract(u, {_URI}, 7), '&'), lambda a: split_part(a, '=', 1) = name)) END",
    ),
    "lk_first_parameter": (
        "hits",
        "CASE WHEN len(hits) = 0 THEN NULL WHEN strpos(hits[1], '=') = 0 THEN '' "
        "ELSE lk_url_decode(substring(hits[1], strpos(hits[1], '=') + 1)) END",
    ),
    "lk_percent_decode": (
        "s",
        "CASE WHEN strpos(s, '%') = 0 THEN s ELSE decode(unhex(array_to_string(list_transform(regexp_extract_all(s, '%[0-9A-Fa-f]{2}|.', 0), "
        "lambda t: CASE WHEN length(t) = 3 AND starts_with(t, '%') THEN substring(t, 2, 2) ELSE hex(encode(t)) END), ''))) END",
    ),
    "lk_url_decode": (
        "s",
        "CASE WHEN regexp_matches(s, '%([^0-9A-Fa-f]|[0-9A-Fa-f][^0-9A-Fa-f]|[0-9A-Fa-f]?$)') "
        "THEN error('URLDecoder: Illegal hex characters in escape (%) pattern') "
        "ELSE lk_percent_decode(replace(s, '+', ' ')) END",
    ),
    "lk_url_encode": (
        "s",
        "array_to_string(list_transform(string_split(s, ''), lambda c: CASE WHEN regexp_full_match(c, '[A-Za-z0-9._*\\-]') THEN c "
        "WHEN c = ' ' THEN '+' ELSE regexp_replace(hex(encode(c)), '(..)', '%\\1', 'g') END), '')",
    ),
})


_ERROR_CALL = re.compile(r"error\((?:[^()']|'(?:[^']|'')*'|\((?:[^()']|'(?:[^']|'')*')*\))*\)")


def try_variant(body: str) -> str:
    """``body`` with every ``error(...)`` replaced by NULL.

    >>> try_variant("CASE WHEN d = 0 THEN error('Division by zero') ELSE n // d END")
    'CASE WHEN d = 0 THEN NULL ELSE n // d END'
    """
    return _ERROR_CALL.sub("NULL", body)


def _raises(name: str, seen: frozenset[str] = frozenset()) -> bool:
    """Whether ``name`` (or a macro it calls) raises an error."""
    body = MACROS[name][1]
    if "error(" in body:
        return True
    return any(_raises(called, seen | {name}) for called in _calls(name) if called not in seen)


def _calls(name: str) -> list[str]:
    return [c for c in re.findall(r"\b(lk_[a-z0-9_]+)\(", MACROS[name][1]) if c in MACROS and c != name]


def _body(name: str) -> str:
    """The body of ``name`` (a ``__try`` twin calls the ``__try`` twins of what it calls)."""
    base = name[: -len("__try")] if name.endswith("__try") else name
    body = MACROS[base][1]
    if not name.endswith("__try"):
        return body
    body = try_variant(body)
    for called in _calls(base):
        if _raises(called):
            body = re.sub(rf"\b{called}\(", f"{called}__try(", body)
    return body


def dependencies(name: str) -> set[str]:
    """``name`` and the macros its body calls, transitively."""
    found = {name}
    for called in re.findall(r"\b(lk_[a-z0-9_]+(?:__try)?)\(", _body(name)):
        base = called[: -len("__try")] if called.endswith("__try") else called
        if base in MACROS and called != name:
            found |= dependencies(called)
    return found


def create_statement(name: str) -> str:
    base = name[: -len("__try")] if name.endswith("__try") else name
    return f"CREATE OR REPLACE TEMP MACRO {name}({MACROS[base][0]}) AS {_body(name)}"


def install(con, names, installed: set[str]) -> None:
    """Create the macros ``names`` (and those they call) that ``installed`` lacks."""
    wanted: set[str] = set()
    for name in names:
        wanted |= dependencies(name)
    # A macro must exist before a macro that calls it: fewest dependencies first.
    for name in sorted(wanted - installed, key=lambda n: (len(dependencies(n)), n)):
        con.execute(create_statement(name))
        installed.add(name)
