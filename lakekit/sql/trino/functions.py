"""Trino's functions on DuckDB: each one's result type and its DuckDB spelling.

Importing this module adds the functions (but those of date and time, in
:mod:`~lakekit.sql.trino.datetime`, and ``format()`` and friends, in
:mod:`~lakekit.sql.trino.formatting`) to the table in :mod:`~lakekit.sql.trino.registry`;
the package's entry imports it once.
"""

from __future__ import annotations

from sqlglot import exp

from lakekit.sql.trino.casts import to_varchar
from lakekit.sql.trino.emit import Emitter, concat_values, duck_cast, number, string, template
from lakekit.sql.trino.errors import TrinoTypeError, not_supported
from lakekit.sql.trino.infer import arithmetic_type, common, concat_type, lambda_result, ttype
from lakekit.sql.trino.jsonpath import duckdb_path
from lakekit.sql.trino.literals import constant_int, constant_string
from lakekit.sql.trino.regex import (
    check_pattern,
    duckdb_replacement,
    group_count,
    group_may_be_unmatched,
    is_fully_anchored,
    uses_context,
)
from lakekit.sql.trino.registry import F, Spec
from lakekit.sql.trino.types import (
    BIGINT,
    BOOLEAN,
    DATE,
    DOUBLE,
    INTEGER,
    JSON,
    UNKNOWN,
    VARBINARY,
    VARCHAR,
    TType,
    array,
    decimal,
    duckdb_type,
    map_of,
    row,
    super_type,
)

__all__: list[str] = []  # nothing to import: the module registers its functions


# -- type rules ---------------------------------------------------------------------------------
def same_as(i: int):
    return lambda types, node: types[i]


def element_of(i: int):
    def rule(types, node):
        t = types[i]
        if t.is_unknown:
            return UNKNOWN
        if not t.is_array:
            raise TrinoTypeError(f"function {node.sql_name() if isinstance(node, exp.Func) else node.name} expects an array, got {t}")
        return t.element
    return rule


def array_of(i: int):
    return lambda types, node: types[i] if types[i].is_array else array(types[i])


def _numeric(types, node, name):
    for t in types:
        if not (t.is_numeric or t.is_unknown):
            raise TrinoTypeError(f"Unexpected parameters ({', '.join(str(x) for x in types)}) for function {name}")


def numeric_check(name):
    return lambda types, node: _numeric(types, node, name)


def string_check(name, positions=None):
    def check(types, node):
        for i, t in enumerate(types):
            if positions is not None and i not in positions:
                continue
            if not (t.is_string or t.is_unknown):
                raise TrinoTypeError(f"Unexpected parameters ({', '.join(str(x) for x in types)}) for function {name}")
    return check


def array_check(name, positions=(0,)):
    def check(types, node):
        for i in positions:
            if i < len(types) and not (types[i].is_array or types[i].is_unknown):
                raise TrinoTypeError(f"Unexpected parameters ({', '.join(str(x) for x in types)}) for function {name}")
    return check


def map_check(name, positions=(0,)):
    def check(types, node):
        for i in positions:
            if i < len(types) and not (types[i].is_map or types[i].is_unknown):
                raise TrinoTypeError(f"Unexpected parameters ({', '.join(str(x) for x in types)}) for function {name}")
    return check


def as_double(types, node):
    _numeric(types, node, _fn_name(node))
    return DOUBLE


def _fn_name(node: exp.Expression) -> str:
    if isinstance(node, exp.Anonymous):
        return node.name.lower()
    return node.sql_name().lower() if isinstance(node, exp.Func) else node.key


def double_arg(em: Emitter, node: exp.Expression) -> exp.Expression:
    t = ttype(node)
    return node if t == DOUBLE else duck_cast(node, "DOUBLE")


def dbl(template_text: str):
    """A template whose numeric arguments are doubles (Trino coerces them)."""
    def emit(em, node, args):
        return template(template_text, *[double_arg(em, a) for a in args])
    return emit


# ================================================================================================
# Math
# ================================================================================================
F.add("abs", exp.Abs, ret=same_as(0), check=numeric_check("abs"),
      emit=lambda em, node, args: duck_cast(template("abs({0})", *args), ttype(node)))
# Java's Math.cbrt is exact on cubes; DuckDB's is not (cbrt(27) = 3.0000000000000004):
# one Newton step from DuckDB's value gives the correctly rounded root.
F.add("cbrt", exp.Cbrt, ret=as_double, arity=(1, 1),
      emit=dbl("CASE WHEN {0} = 0 OR isinf({0}) OR isnan({0}) THEN cbrt({0}) ELSE cbrt({0}) - (cbrt({0}) * cbrt({0}) * cbrt({0}) - {0}) "
               "/ (3 * cbrt({0}) * cbrt({0})) END"))
for _name, _cls, _duck in (("degrees", exp.Degrees, "degrees"), ("radians", exp.Radians, "radians"),
                           ("exp", exp.Exp, "exp"), ("cos", exp.Cos, "cos"), ("sin", exp.Sin, "sin"), ("tan", exp.Tan, "tan"),
                           ("cosh", exp.Cosh, "cosh"), ("tanh", exp.Tanh, "tanh"), ("atan", exp.Atan, "atan"),
                           ("sinh", exp.Sinh, "sinh")):
    F.add(_name, _cls, ret=as_double, emit=dbl(f"{_duck}({{0}})"), arity=(1, 1))
F.add("acos", exp.Acos, ret=as_double, emit=dbl("CASE WHEN abs({0}) > 1 THEN CAST('nan' AS DOUBLE) ELSE acos({0}) END"))
F.add("asin", exp.Asin, ret=as_double, emit=dbl("CASE WHEN abs({0}) > 1 THEN CAST('nan' AS DOUBLE) ELSE asin({0}) END"))
F.add("atan2", exp.Atan2, ret=as_double, emit=dbl("atan2({0}, {1})"))
F.add("sqrt", exp.Sqrt, ret=as_double, emit=dbl("CASE WHEN {0} < 0 THEN CAST('nan' AS DOUBLE) ELSE sqrt({0}) END"))
F.add("ln", exp.Ln, ret=as_double,
      emit=dbl("CASE WHEN {0} = 0 THEN CAST('-inf' AS DOUBLE) WHEN {0} < 0 THEN CAST('nan' AS DOUBLE) ELSE ln({0}) END"))


def _log_name(node: exp.Log) -> Spec:
    base = node.this
    # log10(x) and log2(x) parse as Log(10, x) / Log(2, x) with a literal sqlglot made up
    # (it has no position in the text); Trino's log10 is exact for powers of ten.
    if isinstance(base, exp.Literal) and base.this in ("10", "2") and "start" not in base.meta and node.expression is not None:
        return F.by_name["log10" if base.this == "10" else "log2"]
    return F.by_name["log"]


_LOG_GUARD = "CASE WHEN {0} = 0 THEN CAST('-inf' AS DOUBLE) WHEN {0} < 0 THEN CAST('nan' AS DOUBLE) ELSE {1} END"
F.add("log10", ret=as_double, keys=("expression",),
      emit=lambda em, node, args: template(_LOG_GUARD, double_arg(em, args[0]), template("log10({0})", double_arg(em, args[0]))))
F.add("log2", ret=as_double, keys=("expression",),
      emit=lambda em, node, args: template(_LOG_GUARD, double_arg(em, args[0]), template("log2({0})", double_arg(em, args[0]))))
F.add("log", exp.Log, ret=as_double, keys=("this", "expression"), extra={"name_of": _log_name},
      emit=dbl("ln({1}) / ln({0})"))
F.add("pi", exp.Pi, ret=DOUBLE, emit="pi()")
F.add("e", ret=DOUBLE, emit="exp(1)", arity=(0, 0))
F.add(("pow", "power"), exp.Pow, ret=as_double, emit=dbl("pow({0}, {1})"))
F.add("infinity", ret=DOUBLE, emit="CAST('inf' AS DOUBLE)", arity=(0, 0))
F.add("nan", ret=DOUBLE, emit="CAST('nan' AS DOUBLE)", arity=(0, 0))
F.add("is_nan", exp.IsNan, ret=BOOLEAN, emit=dbl("isnan({0})"))
F.add("is_finite", ret=BOOLEAN, emit=dbl("isfinite({0})"))
F.add("is_infinite", ret=BOOLEAN, emit=dbl("isinf({0})"))


def _ceil_floor_type(types, node):
    t = types[0]
    _numeric(types, node, _fn_name(node))
    if t.is_decimal:
        return decimal(max(1, t.precision - t.scale + min(t.scale, 1)), 0)
    return t


F.add(("ceiling", "ceil"), exp.Ceil, ret=_ceil_floor_type, keys=("this",),
      emit=lambda em, node, args: duck_cast(template("ceil({0})", args[0]), ttype(node)))
F.add("floor", exp.Floor, ret=_ceil_floor_type, keys=("this",),
      emit=lambda em, node, args: duck_cast(template("floor({0})", args[0]), ttype(node)))


def _mod_type(types, node):
    return arithmetic_type("%", types[0], types[1])


def _mod_emit(em, node, args):
    t = ttype(node)
    if t.is_floating:
        return template("fmod({0}, {1})", *args)
    if t.is_decimal:
        return duck_cast(template("{0} % {1}", *args), t)
    return template("{0} % {1}", *args)


F.add("mod", ret=_mod_type, emit=_mod_emit, arity=(2, 2))


def _round_type(types, node):
    _numeric(types, node, "round")
    t = types[0]
    if t.is_decimal and len(types) == 1:
        return decimal(max(1, t.precision - t.scale + min(t.scale, 1)), 0)
    if t.is_decimal:
        return decimal(min(38, t.precision + 1), t.scale)
    return t


def _round_emit(em, node, args):
    t = ttype(node)
    source = ttype(args[0])
    if source.is_floating:
        # Trino: sign(x) * Math.round(|x| * 10^d) / 10^d; DuckDB's round rounds half
        # away from zero, which is the same on |x|.
        digits = args[1] if len(args) > 1 else number(0)
        return duck_cast(template("sign({0}) * round(abs({0}), {1})", args[0], digits), t)
    if source.is_integer:
        if len(args) == 1:
            return args[0]
        return duck_cast(template("round({0}, {1})", *args), t)
    return duck_cast(template("round({0}, {1})", args[0], args[1] if len(args) > 1 else number(0)), t)


F.add("round", exp.Round, ret=_round_type, keys=("this", "decimals"), emit=_round_emit)


def _sign_emit(em, node, args):
    t = ttype(node)
    if t.is_floating:
        return template("CASE WHEN isnan({0}) THEN {0} ELSE CAST(sign({0}) AS DOUBLE) END", args[0])
    return duck_cast(template("sign({0})", args[0]), t)


F.add("sign", exp.Sign, ret=lambda types, node: decimal(1, 0) if types[0].is_decimal else types[0], emit=_sign_emit)


def _truncate_emit(em, node, args):
    t = ttype(node)
    if len(args) > 1:
        raise not_supported("truncate(x, d)")
    return duck_cast(template("trunc({0})", args[0]), t)


F.add("truncate", exp.Trunc, ret=lambda types, node: (decimal(max(1, types[0].precision - types[0].scale), 0)
                                                        if types[0].is_decimal else types[0]),
      keys=("this", "decimals"), emit=_truncate_emit)


def _random_type(types, node):
    return types[0] if types else DOUBLE


def _random_emit(em, node, args):
    if not args:
        return template("random()")
    if len(args) == 1:
        return duck_cast(template("floor(random() * {0})", args[0]), ttype(node))
    return duck_cast(template("{0} + floor(random() * ({1} - {0}))", *args), ttype(node))


F.add(("random", "rand"), exp.Rand, ret=_random_type, keys=("this", "lower", "upper"), emit=_random_emit)


def _width_bucket_emit(em, node, args):
    if len(args) != 4:
        raise not_supported("width_bucket(x, bins)")
    x, b1, b2, n = (double_arg(em, a) for a in args[:3]) + (args[3],) if False else (
        double_arg(em, args[0]), double_arg(em, args[1]), double_arg(em, args[2]), args[3])
    return em.macro("lk_width_bucket", x, b1, b2, n)


F.add("width_bucket", exp.WidthBucket, ret=BIGINT, emit=_width_bucket_emit,
      keys=("this", "min_value", "max_value", "num_buckets"))
F.add("from_base", exp.FromBase, ret=BIGINT, emit=lambda em, node, args: em.macro("lk_from_base", *args))
F.add("to_base", ret=VARCHAR, emit=lambda em, node, args: em.macro("lk_to_base", *args), arity=(2, 2))


def _vector_emit(kind):
    def emit(em, node, args):
        a, b = args
        ta, tb = ttype(a), ttype(b)
        if ta.is_map or tb.is_map:
            if kind == "cosine_similarity":
                return em.macro("lk_cosine_similarity_map", *(duck_cast(x, "MAP(VARCHAR, DOUBLE)") for x in args))
            if kind == "cosine_distance":
                return template("1 - {0}", em.macro("lk_cosine_similarity_map", *(duck_cast(x, "MAP(VARCHAR, DOUBLE)") for x in args)))
            raise not_supported(f"{kind} of maps")
        a, b = duck_cast(a, "DOUBLE[]"), duck_cast(b, "DOUBLE[]")
        if kind == "cosine_distance":
            return template("1 - {0}", em.macro("lk_cosine_similarity", a, b))
        return em.macro(f"lk_{kind}", a, b)
    return emit


for _name, _cls in (("cosine_similarity", None), ("cosine_distance", exp.CosineDistance),
                    ("euclidean_distance", exp.EuclideanDistance), ("dot_product", exp.DotProduct)):
    F.add(_name, *([_cls] if _cls else []), ret=DOUBLE, emit=_vector_emit(_name), keys=("this", "expression"), arity=(2, 2))

# ================================================================================================
# Bitwise
# ================================================================================================
F.add("bitwise_and", exp.BitwiseAnd, ret=BIGINT, keys=("this", "expression"),
      emit=lambda em, node, args: template("CAST({0} AS BIGINT) & CAST({1} AS BIGINT)", *args))
F.add("bitwise_or", exp.BitwiseOr, ret=BIGINT, keys=("this", "expression"),
      emit=lambda em, node, args: template("CAST({0} AS BIGINT) | CAST({1} AS BIGINT)", *args))
F.add("bitwise_xor", exp.BitwiseXor, ret=BIGINT, keys=("this", "expression"),
      emit=lambda em, node, args: template("xor(CAST({0} AS BIGINT), CAST({1} AS BIGINT))", *args))
F.add("bitwise_not", exp.BitwiseNot, ret=BIGINT, emit=lambda em, node, args: template("~CAST({0} AS BIGINT)", *args))
F.add("bit_count", ret=BIGINT, arity=(2, 2), emit=lambda em, node, args: em.macro("lk_bit_count", *args))


def _shift(kind):
    def emit(em, node, args):
        t = ttype(node)
        bits = {"tinyint": 8, "smallint": 16, "integer": 32, "bigint": 64}[t.base]
        return duck_cast(em.macro(f"lk_shift_{kind}", duck_cast(args[0], "BIGINT"), args[1], number(bits)), t)
    return emit


for _kind in ("left", "right", "right_arithmetic"):
    F.add(f"bitwise_{_kind}_shift" if _kind != "right_arithmetic" else "bitwise_right_shift_arithmetic",
          ret=same_as(0), emit=_shift(_kind), arity=(2, 2))
F.add("bitwise_and_agg", exp.BitwiseAndAgg, ret=BIGINT, emit="bit_and(CAST({0} AS BIGINT))")
F.add("bitwise_or_agg", exp.BitwiseOrAgg, ret=BIGINT, emit="bit_or(CAST({0} AS BIGINT))")
F.add("bitwise_xor_agg", exp.BitwiseXorAgg, ret=BIGINT, emit="bit_xor(CAST({0} AS BIGINT))")

# ================================================================================================
# Strings
# ================================================================================================
F.add("length", exp.Length, ret=BIGINT, keys=("this",),
      emit=lambda em, node, args: template("octet_length({0})" if ttype(args[0]).base == "varbinary" else "length({0})", *args))
F.add("lower", exp.Lower, ret=same_as(0), emit="lower({0})", check=string_check("lower"))
F.add("upper", exp.Upper, ret=same_as(0), emit="upper({0})", check=string_check("upper"))
F.add("chr", exp.Chr, ret=lambda types, node: TType("varchar", (1,)), emit="chr({0})", keys=("expressions",))
F.add("codepoint", ret=INTEGER, arity=(1, 1),
      emit=lambda em, node, args: template("CASE WHEN length({0}) <> 1 THEN {1} ELSE unicode({0}) END", args[0],
                                           em.fail("Input string must be a single character string")))


def _concat_type(types, node):
    out = types[0]
    for t in types[1:]:
        out = concat_type(out, t, "concat")
    return out


F.add("concat", exp.Concat, ret=_concat_type, keys=("expressions",),
      emit=lambda em, node, args: concat_values(em, args, ttype(node)))


def _concat_ws_emit(em, node, args):
    sep, rest = args[0], args[1:]
    if len(rest) == 1 and ttype(rest[0]).is_array:
        return template("CASE WHEN {0} IS NULL THEN NULL ELSE array_to_string(list_filter({1}, lambda lk_x: lk_x IS NOT NULL), {0}) END",
                        sep, rest[0])
    return template("CASE WHEN {0} IS NULL THEN NULL ELSE concat_ws({0}, " + ", ".join(f"{{{i + 1}}}" for i in range(len(rest))) + ") END",
                    sep, *rest)


F.add("concat_ws", exp.ConcatWs, ret=VARCHAR, keys=("expressions",), emit=_concat_ws_emit)
F.add("ends_with", exp.EndsWith, ret=BOOLEAN, emit="suffix({0}, {1})", check=string_check("ends_with"))
F.add("starts_with", exp.StartsWith, ret=BOOLEAN, emit="starts_with({0}, {1})", check=string_check("starts_with"))
F.add("hamming_distance", ret=BIGINT, arity=(2, 2),
      emit=lambda em, node, args: template("CASE WHEN length({0}) <> length({1}) THEN {2} ELSE hamming({0}, {1}) END",
                                           *args, em.fail("The input strings to hamming_distance function must have the same length")))
F.add("levenshtein_distance", exp.Levenshtein, ret=BIGINT, keys=("this", "expression"), emit="levenshtein({0}, {1})")


def _pad_emit(em, node, args):
    value, size, pad = args
    left = node.args.get("is_left")
    if ttype(value).base == "varbinary":
        raise not_supported("lpad/rpad on varbinary")
    fn = "lpad" if left else "rpad"
    return template(f"CASE WHEN {{2}} = '' THEN {{3}} WHEN {{1}} < 0 THEN {{4}} ELSE {fn}({{0}}, CAST({{1}} AS INTEGER), {{2}}) END",
                    value, size, pad, em.fail("Padding string must not be empty"),
                    em.fail("Target length must be in the range [0..2147483647]"))


F.add(("lpad", "rpad"), exp.Pad, ret=lambda types, node: VARBINARY if types[0].base == "varbinary" else VARCHAR,
      keys=("this", "expression", "fill_pattern"), emit=_pad_emit)

# Java's Character.isWhitespace: what Trino's trim(), ltrim() and rtrim() remove.
_JAVA_WHITESPACE = " \t\n\u000b\f\r\u001c\u001d\u001e\u001f\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2008\u2009\u200a\u2028\u2029\u205f\u3000"


def _trim_emit(em, node, args):
    value = node.this
    chars = node.args.get("expression")
    position = (node.args.get("position") or "BOTH").upper()
    fn = {"BOTH": "trim", "LEADING": "ltrim", "TRAILING": "rtrim"}[position]
    if chars is None:
        chars = string(_JAVA_WHITESPACE)
    return template(f"{fn}({{0}}, {{1}})", value, chars)


F.add("trim", exp.Trim, ret=VARCHAR, emit=_trim_emit)
F.add("ltrim", ret=VARCHAR, arity=(1, 2),
      emit=lambda em, node, args: template("ltrim({0}, {1})", args[0], args[1] if len(args) > 1 else string(_JAVA_WHITESPACE)))
F.add("rtrim", ret=VARCHAR, arity=(1, 2),
      emit=lambda em, node, args: template("rtrim({0}, {1})", args[0], args[1] if len(args) > 1 else string(_JAVA_WHITESPACE)))
F.add("luhn_check", ret=BOOLEAN, arity=(1, 1), emit=lambda em, node, args: em.macro("lk_luhn_check", *args))


def _overlay_emit(em, node, args):
    value, replacement = node.this, node.expression
    start = node.args.get("from_")
    length = node.args.get("for_") or template("length({0})", replacement)
    return template("CASE WHEN {2} < 1 THEN {4} ELSE substring({0}, 1, {2} - 1) || {1} || substring({0}, {2} + greatest({3}, 0)) END",
                    value, replacement, start, length, em.fail("Start position must be greater than zero"))


F.add("overlay", exp.Overlay, ret=VARCHAR, emit=_overlay_emit)


def _strpos_emit(em, node, args):
    value, sub = node.this, node.args["substr"]
    occurrence = node.args.get("occurrence")
    if node.args.get("position") is not None:
        raise not_supported("strpos with a start position")
    if occurrence is None:
        return template("strpos({0}, {1})", value, sub)
    return em.macro("lk_strpos", value, sub, occurrence)


F.add(("strpos", "position"), exp.StrPosition, ret=BIGINT, keys=("this", "substr", "occurrence"), emit=_strpos_emit,
      check=string_check("strpos", positions=(0, 1)))


def _replace_emit(em, node, args):
    value, search = node.this, node.expression
    replacement = node.args.get("replacement") or string("")
    return template("CASE WHEN {1} = '' THEN {3} ELSE replace({0}, {1}, {2}) END", value, search, replacement,
                    em.macro("lk_replace_empty", value, replacement))


F.add("replace", exp.Replace, ret=VARCHAR, keys=("this", "expression", "replacement"), emit=_replace_emit)


def _reverse_type(types, node):
    return types[0]


def _reverse_emit(em, node, args):
    t = ttype(args[0])
    if t.is_array:
        return template("list_reverse({0})", args[0])
    if t.base == "varbinary":
        return template("unhex(array_to_string(list_reverse(list_transform(range(0, octet_length({0})), lambda lk_i: "
                        "substring(hex({0}), 2 * lk_i + 1, 2))), ''))", args[0])
    return em.macro("lk_reverse_codepoints", args[0])


F.add("reverse", exp.Reverse, ret=_reverse_type, emit=_reverse_emit)


def _split_emit(em, node, args):
    value, delimiter = node.this, node.expression
    limit = node.args.get("limit")
    if limit is None:
        return template("CASE WHEN {1} = '' THEN {2} ELSE string_split({0}, {1}) END", value, delimiter,
                        em.fail("The delimiter may not be the empty string"))
    return em.macro("lk_split_limit", value, delimiter, limit)


F.add("split", exp.Split, ret=array(VARCHAR), keys=("this", "expression", "limit"), emit=_split_emit)


def _split_part_emit(em, node, args):
    value, delimiter, index = node.this, node.args["delimiter"], node.args["part_index"]
    return template("CASE WHEN {2} < 1 THEN {3} ELSE list_extract(string_split({0}, {1}), {2}) END",
                    value, delimiter, index, em.fail("Index must be greater than zero"))


F.add("split_part", exp.SplitPart, ret=VARCHAR, keys=("this", "delimiter", "part_index"), emit=_split_part_emit)
F.add("split_to_map", exp.StrToMap, ret=map_of(VARCHAR, VARCHAR), keys=("this", "pair_delim", "key_value_delim"),
      emit=lambda em, node, args: em.macro("lk_split_to_map", *args))
F.add("split_to_multimap", ret=map_of(VARCHAR, array(VARCHAR)), arity=(3, 3),
      emit=lambda em, node, args: em.macro("lk_split_to_multimap", *args))


def _substr_emit(em, node, args):
    value = node.this
    start = node.args["start"]
    length = node.args.get("length")
    if ttype(value).base == "varbinary":
        raise not_supported("substr on varbinary")
    if length is None:
        return em.macro("lk_substr2", value, start)
    return em.macro("lk_substr3", value, start, length)


F.add(("substr", "substring"), exp.Substring, ret=lambda types, node: types[0] if not types[0].is_unknown else VARCHAR,
      keys=("this", "start", "length"), emit=_substr_emit)
F.add("translate", exp.Translate, ret=VARCHAR, keys=("this", "from_", "to"), emit="translate({0}, {1}, {2})")


def _normalize_emit(em, node, args):
    form = node.args.get("form")
    name = (form.name if isinstance(form, exp.Expression) else str(form or "NFC")).upper()
    if name != "NFC":
        raise not_supported(f"normalize(..., {name})", "DuckDB normalizes to NFC only")
    return template("nfc_normalize({0})", node.this)


F.add("normalize", exp.Normalize, ret=VARCHAR, keys=("this",), emit=_normalize_emit)
F.add("to_utf8", exp.Encode, ret=VARBINARY, keys=("this",), emit="encode({0})")


def _from_utf8_emit(em, node, args):
    value = node.this
    check = em.macro("lk_is_utf8", value)
    return template("CASE WHEN {1} THEN decode({0}) ELSE {2} END", value, check,
                    em.fail("from_utf8() of invalid UTF-8 is not supported by the local engine; run it with --engine athena"))


F.add("from_utf8", exp.Decode, ret=VARCHAR, keys=("this", "replace"), emit=_from_utf8_emit)

# ================================================================================================
# Regular expressions (Java patterns on RE2: the common syntax agrees; lookaround and
# backreferences make DuckDB fail, never answer differently)
# ================================================================================================


def _regex_literal(node: exp.Expression, function: str) -> str:
    text = constant_string(node)
    if text is None:
        raise not_supported(f"{function}() with a pattern computed per row")
    check_pattern(text, function)
    return text


def _regexp_like(em, node, args):
    pattern = _regex_literal(args[1], "regexp_like")
    return template("regexp_matches({0}, {1})", args[0], string(pattern))


F.add("regexp_like", exp.RegexpLike, ret=BOOLEAN, keys=("this", "expression"), emit=_regexp_like)


def _regexp_extract(em, node, args):
    value = node.this
    pattern = _regex_literal(node.expression, "regexp_extract")
    group = node.args.get("group")
    index = constant_int(group) if group is not None else 0
    if index is None:
        raise not_supported("regexp_extract() with a group computed per row")
    if index > group_count(pattern):
        return em.fail(f"Pattern has {group_count(pattern)} groups. Cannot access group {index}")
    if index and group_may_be_unmatched(pattern, index):
        raise not_supported(f"regexp_extract() of group {index} of {pattern!r}",
                            "the group may not take part in a match, where Athena returns NULL and DuckDB ''")
    return template("CASE WHEN regexp_matches({0}, {1}) THEN regexp_extract({0}, {1}, {2}) END",
                    value, string(pattern), number(index))


F.add("regexp_extract", exp.RegexpExtract, ret=VARCHAR, emit=_regexp_extract, keys=("this", "expression", "group"))


def _regexp_extract_all(em, node, args):
    pattern = _regex_literal(node.expression, "regexp_extract_all")
    group = node.args.get("group")
    index = constant_int(group) if group is not None else 0
    if index is None:
        raise not_supported("regexp_extract_all() with a group computed per row")
    if index > group_count(pattern):
        return em.fail(f"Pattern has {group_count(pattern)} groups. Cannot access group {index}")
    if index and group_may_be_unmatched(pattern, index):
        raise not_supported(f"regexp_extract_all() of group {index} of {pattern!r}",
                            "the group may not take part in a match, where Athena returns NULL and DuckDB ''")
    return template("regexp_extract_all({0}, {1}, {2})", node.this, string(pattern), number(index))


F.add("regexp_extract_all", exp.RegexpExtractAll, ret=array(VARCHAR), emit=_regexp_extract_all,
      keys=("this", "expression", "group"))


def _regexp_replace_type(types, node):
    return VARCHAR


def _regexp_replace(em, node, args):
    value = node.this
    pattern = _regex_literal(node.expression, "regexp_replace")
    replacement = node.args.get("replacement")
    if isinstance(replacement, exp.Lambda):
        return _regexp_replace_lambda(em, value, pattern, replacement)
    text = constant_string(replacement) if replacement is not None else ""
    if text is None:
        raise not_supported("regexp_replace() with a replacement computed per row")
    return template("regexp_replace({0}, {1}, {2}, 'g')", value, string(pattern),
                    string(duckdb_replacement(text, group_count(pattern))))


def _regexp_replace_lambda(em, value, pattern, function: exp.Lambda):
    groups = group_count(pattern)
    if uses_context(pattern) and not is_fully_anchored(pattern):
        raise not_supported("regexp_replace() with a lambda and a pattern that looks around its match")
    param = function.expressions[0].name
    match = template("list_extract(regexp_extract_all({0}, {1}), lk_i)", value, string(pattern))
    group_list = exp.Array(expressions=[template("regexp_extract({0}, {1}, {2})", match, string(pattern), number(i + 1))
                                        for i in range(groups)])
    body = apply_lambda(function, {param: group_list})
    # The pieces between matches, each followed by the function's value for its match.
    return template(
        "CASE WHEN {0} IS NULL THEN NULL ELSE array_to_string(list_transform(range(1, len(regexp_extract_all({0}, {1})) + 2), "
        "lambda lk_i: list_extract(regexp_split_to_array({0}, {1}), lk_i) || coalesce(CASE WHEN lk_i <= len(regexp_extract_all({0}, {1})) "
        "THEN {2} END, '')), '') END",
        value, string(pattern), body)


F.add("regexp_replace", exp.RegexpReplace, ret=_regexp_replace_type, emit=_regexp_replace,
      keys=("this", "expression", "replacement"), lambdas=lambda types: [[array(VARCHAR)]])


def _regexp_split(em, node, args):
    pattern = _regex_literal(node.expression, "regexp_split")
    return template("regexp_split_to_array({0}, {1})", node.this, string(pattern))


F.add("regexp_split", exp.RegexpSplit, ret=array(VARCHAR), keys=("this", "expression"), emit=_regexp_split)


def _regexp_count(em, node, args):
    pattern = _regex_literal(node.expression, "regexp_count")
    return template("CAST(len(regexp_extract_all({0}, {1})) AS BIGINT)", node.this, string(pattern))


F.add("regexp_count", exp.RegexpCount, ret=BIGINT, keys=("this", "expression"), emit=_regexp_count)


def _regexp_position(em, node, args):
    pattern = _regex_literal(args[1], "regexp_position")
    start = args[2] if len(args) > 2 else number(1)
    occurrence = args[3] if len(args) > 3 else number(1)
    return em.macro("lk_regexp_position", args[0], string(pattern), start, occurrence)


F.add("regexp_position", ret=INTEGER, arity=(2, 4), emit=_regexp_position)


# ================================================================================================
# Lambdas: substitute arguments for parameters
# ================================================================================================
def apply_lambda(function: exp.Lambda, values: dict[str, exp.Expression]) -> exp.Expression:
    """The body of ``function`` with its parameters replaced by ``values``."""
    body = function.this.copy()
    wanted = {k.lower(): v for k, v in values.items()}

    def replace(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Identifier) and node.name.lower() in wanted and not isinstance(node.parent, (exp.Column, exp.Dot, exp.Lambda)):
            return wanted[node.name.lower()].copy()
        if isinstance(node, exp.Column) and not node.table and node.name.lower() in wanted:
            return wanted[node.name.lower()].copy()
        if isinstance(node, exp.Column) and node.table and node.table.lower() in wanted:
            return template("struct_extract({0}, {1})", wanted[node.table.lower()], string(node.name.lower()))
        return node

    if isinstance(body, exp.Identifier) and body.name.lower() in wanted:
        return wanted[body.name.lower()].copy()
    return body.transform(replace, copy=False)


def _lambda(function: exp.Lambda, *names: str) -> exp.Expression:
    """``function`` rewritten as a DuckDB lambda over ``names`` (renamed parameters)."""
    params = [p.name for p in function.expressions]
    body = apply_lambda(function, {p: exp.to_identifier(n) for p, n in zip(params, names)})
    return exp.Lambda(this=body, expressions=[exp.to_identifier(n) for n in names])


# ================================================================================================
# Arrays
# ================================================================================================
def _element_lambdas(types):
    t = types[0]
    return [[t.element if t.is_array else UNKNOWN]]


F.add("cardinality", exp.ArraySize, ret=BIGINT, keys=("this",),
      emit=lambda em, node, args: template("CAST(len({0}) AS BIGINT)" if not ttype(args[0]).is_map else
                                           "CAST(cardinality({0}) AS BIGINT)", args[0]))
F.add("transform", exp.Transform, ret=lambda types, node: array(lambda_result(types[1])), lambdas=_element_lambdas,
      keys=("this", "expression"), check=array_check("transform"),
      emit=lambda em, node, args: template("list_transform({0}, {1})", args[0], _lambda(args[1], "lk_x")))
F.add("filter", exp.ArrayFilter, ret=same_as(0), lambdas=_element_lambdas, keys=("this", "expression"),
      check=array_check("filter"),
      emit=lambda em, node, args: template("list_filter({0}, {1})", args[0], _lambda(args[1], "lk_x")))


def _match(kind):
    def emit(em, node, args):
        results = template("list_transform({0}, {1})", args[0], _lambda(args[1], "lk_x"))
        if kind == "all":
            text = ("CASE WHEN {0} IS NULL THEN NULL WHEN list_contains({1}, false) THEN false "
                    "WHEN list_position({1}, NULL) IS NOT NULL THEN NULL ELSE true END")
        elif kind == "any":
            text = ("CASE WHEN {0} IS NULL THEN NULL WHEN list_contains({1}, true) THEN true "
                    "WHEN list_position({1}, NULL) IS NOT NULL THEN NULL ELSE false END")
        else:
            text = ("CASE WHEN {0} IS NULL THEN NULL WHEN list_contains({1}, true) THEN false "
                    "WHEN list_position({1}, NULL) IS NOT NULL THEN NULL ELSE true END")
        return template(text, args[0], results)
    return emit


for _kind in ("all", "any", "none"):
    F.add(f"{_kind}_match", ret=BOOLEAN, lambdas=_element_lambdas, arity=(2, 2), emit=_match(_kind),
          check=array_check(f"{_kind}_match"))

F.add("array_distinct", exp.ArrayDistinct, ret=same_as(0), keys=("this",), check=array_check("array_distinct"),
      emit=lambda em, node, args: em.macro("lk_array_distinct", args[0]))
F.add("array_intersect", exp.ArrayIntersect, ret=lambda types, node: _array_super(types, node), keys=("expressions",),
      emit=lambda em, node, args: em.macro("lk_array_intersect", *args))
F.add("array_union", ret=lambda types, node: _array_super(types, node), arity=(2, 2),
      emit=lambda em, node, args: em.macro("lk_array_union", *args))
F.add("array_except", exp.ArrayExcept, ret=lambda types, node: _array_super(types, node), keys=("this", "expression"),
      emit=lambda em, node, args: em.macro("lk_array_except", *args))


def _array_super(types, node):
    t = types[0]
    for other in types[1:]:
        merged = super_type(t, other)
        if merged is None or not (merged.is_array or merged.is_unknown):
            raise TrinoTypeError(f"Unexpected parameters ({', '.join(str(x) for x in types)}) for function {_fn_name(node)}")
        t = merged
    return t


F.add("array_first", exp.ArrayFirst, ret=element_of(0), keys=("this", "expression"), lambdas=_element_lambdas,
      emit=lambda em, node, args: (template("list_extract({0}, 1)", args[0]) if len(args) == 1 else
                                   template("list_extract(list_filter({0}, {1}), 1)", args[0], _lambda(args[1], "lk_x"))))
F.add("array_last", exp.ArrayLast, ret=element_of(0), keys=("this",),
      emit=lambda em, node, args: template("list_extract({0}, -1)", args[0]))
F.add("array_histogram", ret=lambda types, node: map_of(types[0].element if types[0].is_array else UNKNOWN, BIGINT),
      arity=(1, 1), emit=lambda em, node, args: em.macro("lk_array_histogram", args[0]))


def _array_join_emit(em, node, args):
    value, separator = node.this, node.expression
    replacement = node.args.get("null")
    element = ttype(value).element if ttype(value).is_array else UNKNOWN
    text = to_varchar(em, exp.to_identifier("lk_x"), element) if not element.is_unknown else exp.to_identifier("lk_x")
    if replacement is None:
        body = template("list_filter(list_transform({0}, lambda lk_x: {1}), lambda lk_y: lk_y IS NOT NULL)", value, text)
    else:
        body = template("list_transform({0}, lambda lk_x: coalesce({1}, {2}))", value, text, replacement)
    return template("CASE WHEN {1} IS NULL THEN NULL ELSE array_to_string({0}, {1}) END", body, separator)


F.add("array_join", exp.ArrayToString, ret=VARCHAR, keys=("this", "expression", "null"), emit=_array_join_emit)
F.add("array_max", exp.ArrayMax, ret=element_of(0), keys=("this",),
      emit=lambda em, node, args: template("CASE WHEN list_position({0}, NULL) IS NOT NULL THEN NULL ELSE list_max({0}) END", *args))
F.add("array_min", exp.ArrayMin, ret=element_of(0), keys=("this",),
      emit=lambda em, node, args: template("CASE WHEN list_position({0}, NULL) IS NOT NULL THEN NULL ELSE list_min({0}) END", *args))
F.add("array_position", exp.ArrayPosition, ret=BIGINT, keys=("this", "expression"),
      emit=lambda em, node, args: template(
          "CASE WHEN {0} IS NULL OR {1} IS NULL THEN NULL ELSE CAST(coalesce(list_position(list_transform({0}, lambda lk_x: "
          "CASE WHEN lk_x IS NULL THEN NULL ELSE lk_x = {1} END), true), 0) AS BIGINT) END", *args))
F.add("array_remove", exp.ArrayRemove, ret=same_as(0), keys=("this", "expression"),
      emit=lambda em, node, args: template(
          "CASE WHEN {1} IS NULL THEN NULL ELSE list_filter({0}, lambda lk_x: lk_x IS NULL OR lk_x <> {1}) END", *args))


def _array_sort_emit(em, node, args):
    value = args[0]
    if len(args) == 1:
        return template("list_sort({0}, 'ASC', 'NULLS LAST')", value)
    comparator = args[1]
    x, y = (p.name for p in comparator.expressions)
    # A stable sort with Trino's comparator: an element's place is the number of
    # elements ordered before it (ties keep their input order).
    before = apply_lambda(comparator, {x: template("list_extract({0}, lk_j)", value), y: exp.to_identifier("lk_v")})
    return template(
        "list_transform(list_sort(list_transform({0}, lambda lk_v, lk_i: {'k': len(list_filter(range(1, len({0}) + 1), "
        "lambda lk_j: lk_j <> lk_i AND (({1}) < 0 OR (({1}) = 0 AND lk_j < lk_i)))), 'i': lk_i, 'v': lk_v})), lambda lk_s: lk_s.v)",
        value, before)


F.add("array_sort", exp.ArraySort, ret=same_as(0), keys=("this", "expression"),
      lambdas=lambda types: [[types[0].element, types[0].element]] if types[0].is_array else [[UNKNOWN, UNKNOWN]],
      emit=_array_sort_emit)
F.add("arrays_overlap", ret=BOOLEAN, arity=(2, 2), emit=lambda em, node, args: em.macro("lk_arrays_overlap", *args))
F.add("contains", exp.ArrayContains, ret=BOOLEAN, keys=("this", "expression"),
      emit=lambda em, node, args: template(
          "CASE WHEN {0} IS NULL OR {1} IS NULL THEN NULL WHEN list_contains({0}, {1}) THEN true "
          "WHEN list_position({0}, NULL) IS NOT NULL THEN NULL ELSE false END", *args))
F.add("contains_sequence", ret=BOOLEAN, arity=(2, 2), emit=lambda em, node, args: em.macro("lk_contains_sequence", *args))
F.add("flatten", exp.Flatten, ret=element_of(0), keys=("this",), emit="flatten({0})")


def _ngrams_emit(em, node, args):
    return template("CASE WHEN {1} <= 0 THEN {2} WHEN len({0}) <= {1} THEN [{0}] ELSE list_transform(range(1, len({0}) - {1} + 2), "
                    "lambda lk_i: list_slice({0}, lk_i, lk_i + {1} - 1)) END",
                    args[0], args[1], em.fail("N must be positive"))


F.add("ngrams", ret=lambda types, node: array(types[0]), arity=(2, 2), emit=_ngrams_emit)


def _combinations_emit(em, node, args):
    n = constant_int(args[1])
    if n is None or not 0 <= n <= 5:
        raise not_supported("combinations() with n not a constant between 0 and 5")
    if n == 0:
        return template("[[]]")
    value = args[0]
    names = [f"lk_i{k}" for k in range(n)]
    inner = "[" + ", ".join(f"list_extract({{0}}, {name})" for name in names) + "]"
    expr = inner
    for k in reversed(range(n)):
        start = "1" if k == 0 else f"{names[k - 1]} + 1"
        fn = "list_transform"
        expr = f"{fn}(range({start}, len({{0}}) + 1), lambda {names[k]}: {expr})"
        if k < n - 1:
            expr = f"flatten({expr})"
    return template(f"CASE WHEN {{0}} IS NULL THEN NULL ELSE {expr} END", value)


F.add("combinations", ret=lambda types, node: array(types[0]), arity=(2, 2), emit=_combinations_emit)


def _reduce_type(types, node):
    state = types[1]
    merged = lambda_result(types[2])
    final = lambda_result(types[3]) if len(types) > 3 else state
    if super_type(state, merged) is None:
        raise TrinoTypeError(f"reduce input function returns {merged}, the state is {state}")
    return final


def _reduce_emit(em, node, args):
    value, initial, merge = args[0], args[1], args[2]
    finish = args[3] if len(args) > 3 else None
    state_type = ttype(initial)
    state = initial if state_type.is_unknown else duck_cast(initial, state_type)
    s, x = (p.name for p in merge.expressions)
    body = apply_lambda(merge, {s: exp.to_identifier("lk_s"), x: exp.to_identifier("lk_x")})
    if not state_type.is_unknown:
        body = duck_cast(body, state_type)
    folded = template("CASE WHEN {0} IS NULL THEN NULL ELSE list_reduce({0}, lambda lk_s, lk_x: {1}, {2}) END", value, body, state)
    if finish is None:
        return folded
    return apply_lambda(finish, {finish.expressions[0].name: folded})


F.add("reduce", exp.Reduce, ret=_reduce_type, keys=("this", "initial", "merge", "finish"),
      lambdas=lambda types: [[types[1], types[0].element if types[0].is_array else UNKNOWN], [types[1]]],
      emit=_reduce_emit)


def _repeat_emit(em, node, args):
    value, count = node.this, node.args["times"]
    return template("CASE WHEN {1} < 0 THEN {2} WHEN {1} > 10000 THEN {3} ELSE list_transform(range(0, {1}), lambda lk_i: {0}) END",
                    value, count, em.fail("count argument of repeat function must be greater than or equal to 0"),
                    em.fail("count argument of repeat function must be less than or equal to 10000"))


F.add("repeat", exp.Repeat, ret=lambda types, node: array(types[0]), keys=("this", "times"), emit=_repeat_emit)


def _sequence_type(types, node):
    start = types[0]
    if start.is_integer or start.is_unknown:
        return array(BIGINT)
    if start.base == "date":
        return array(DATE)
    if start.is_timestamp:
        return array(start)
    raise TrinoTypeError(f"Unexpected parameters ({', '.join(str(t) for t in types)}) for function sequence")


def _sequence_emit(em, node, args):
    start, stop = node.args["start"], node.args["end"]
    step = node.args.get("step")
    t = ttype(start)
    if t.is_integer:
        if step is None:
            return template("generate_series(CAST({0} AS BIGINT), CAST({1} AS BIGINT), CASE WHEN {0} <= {1} THEN 1 ELSE -1 END)",
                            start, stop)
        return template("CASE WHEN {2} = 0 THEN {3} WHEN ({2} > 0 AND {1} < {0}) OR ({2} < 0 AND {1} > {0}) THEN {4} "
                        "ELSE generate_series(CAST({0} AS BIGINT), CAST({1} AS BIGINT), CAST({2} AS BIGINT)) END",
                        start, stop, step, em.fail("step must not be zero"),
                        em.fail("sequence stop value should be greater than or equal to start value if step is greater than zero "
                                "otherwise stop should be less than or equal to start"))
    if t.base == "date":
        if step is None:
            return template("list_transform(generate_series(CAST({0} AS TIMESTAMP), CAST({1} AS TIMESTAMP), "
                            "CASE WHEN {0} <= {1} THEN INTERVAL 1 DAY ELSE INTERVAL -1 DAY END), lambda lk_d: CAST(lk_d AS DATE))",
                            start, stop)
        step_type = ttype(step)
        if step_type.base == "interval year to month":
            return em.macro("lk_sequence_months", start, stop, step)
        return template("list_transform(generate_series(CAST({0} AS TIMESTAMP), CAST({1} AS TIMESTAMP), {2}), "
                        "lambda lk_d: CAST(lk_d AS DATE))", start, stop, step)
    if step is None:
        raise not_supported("sequence() of timestamps without a step")
    if ttype(step).base == "interval year to month":
        raise not_supported("sequence() of timestamps by months")
    return template("generate_series({0}, {1}, {2})", start, stop, step)


F.add("sequence", exp.GenerateSeries, ret=_sequence_type, keys=("start", "end", "step"), emit=_sequence_emit)


def _slice_emit(em, node, args):
    value, start, length = node.this, node.args["start"], node.args.get("end")
    return em.macro("lk_slice", value, start, length)


F.add("slice", exp.ArraySlice, ret=same_as(0), keys=("this", "start", "end"), emit=_slice_emit)
F.add("trim_array", ret=same_as(0), arity=(2, 2),
      emit=lambda em, node, args: template(
          "CASE WHEN {1} < 0 OR {1} > len({0}) THEN {2} ELSE list_slice({0}, 1, len({0}) - {1}) END",
          args[0], args[1], em.fail("size must not be negative or exceed the array cardinality")))


def _zip_type(types, node):
    for t in types:
        if not (t.is_array or t.is_unknown):
            raise TrinoTypeError(f"Unexpected parameters for function zip: {t}")
    return array(row([t.element if t.is_array else UNKNOWN for t in types]))


def _zip_emit(em, node, args):
    n = len(args)
    longest = "greatest(" + ", ".join(f"coalesce(len({{{i}}}), 0)" for i in range(n)) + ")" if n > 1 else "coalesce(len({0}), 0)"
    fields = ", ".join(f"list_extract({{{i}}}, lk_i)" for i in range(n))
    nulls = " OR ".join(f"{{{i}}} IS NULL" for i in range(n))
    return template(f"CASE WHEN {nulls} THEN NULL ELSE list_transform(range(1, {longest} + 1), lambda lk_i: row({fields})) END", *args)


F.add("zip", ret=_zip_type, arity=(2, 5), emit=_zip_emit)


def _zip_with_emit(em, node, args):
    a, b, function = args
    x, y = (p.name for p in function.expressions)
    body = apply_lambda(function, {x: template("list_extract({0}, lk_i)", a), y: template("list_extract({0}, lk_i)", b)})
    return template("CASE WHEN {0} IS NULL OR {1} IS NULL THEN NULL ELSE list_transform(range(1, greatest(len({0}), len({1})) + 1), "
                    "lambda lk_i: {2}) END", a, b, body)


F.add("zip_with", ret=lambda types, node: array(lambda_result(types[2])), arity=(3, 3), emit=_zip_with_emit,
      lambdas=lambda types: [[t.element if t.is_array else UNKNOWN for t in types[:2]]])
for _name, _fn in (("euclidean_distance", None),):
    pass

# ================================================================================================
# Maps
# ================================================================================================


def _map_type(types, node):
    if not types:
        return map_of(UNKNOWN, UNKNOWN)
    keys, values = types
    if not (keys.is_array or keys.is_unknown) or not (values.is_array or values.is_unknown):
        raise TrinoTypeError(f"Unexpected parameters ({keys}, {values}) for function map")
    return map_of(keys.element if keys.is_array else UNKNOWN, values.element if values.is_array else UNKNOWN)


def _map_emit(em, node, args):
    if not args:
        return template("map()")
    t = ttype(node)
    keys, values = args
    if t.elements[1].is_decimal or t.elements[0].is_decimal:
        keys, values = duck_cast(keys, array(t.elements[0])), duck_cast(values, array(t.elements[1]))
    return template("CASE WHEN len({0}) <> len({1}) THEN {2} ELSE map({0}, {1}) END", keys, values,
                    em.fail("Key and value arrays must be the same length"))


F.add("map", exp.Map, ret=_map_type, keys=("keys", "values"), emit=_map_emit)


def _entries_type(types, node):
    t = types[0]
    if not t.is_array or not t.element.is_row or len(t.element.elements) != 2:
        raise TrinoTypeError(f"Unexpected parameters ({t}) for function map_from_entries")
    return map_of(*t.element.elements)


F.add("map_from_entries", exp.MapFromEntries, ret=_entries_type,
      emit=lambda em, node, args: template(
          "map_from_entries(list_transform({0}, lambda lk_e: {'key': struct_extract_at(lk_e, 1), 'value': struct_extract_at(lk_e, 2)}))",
          args[0]))
F.add("multimap_from_entries", ret=lambda types, node: map_of(_entries_type(types, node).elements[0],
                                                               array(_entries_type(types, node).elements[1])),
      arity=(1, 1), emit=lambda em, node, args: em.macro("lk_multimap_from_entries", args[0]))
F.add("map_entries", ret=lambda types, node: array(row(list(types[0].elements))), arity=(1, 1), check=map_check("map_entries"),
      emit=lambda em, node, args: template(
          "list_transform(map_entries({0}), lambda lk_e: row(lk_e.key, lk_e.value))", args[0]))
F.add("map_keys", exp.MapKeys, ret=lambda types, node: array(types[0].elements[0]), check=map_check("map_keys"),
      emit="map_keys({0})")
F.add("map_values", ret=lambda types, node: array(types[0].elements[1]), arity=(1, 1), check=map_check("map_values"),
      emit="map_values({0})")


def _map_concat_emit(em, node, args):
    nulls = " OR ".join(f"{{{i}}} IS NULL" for i in range(len(args)))
    inner = "map_concat(" + ", ".join(f"{{{i}}}" for i in range(len(args))) + ")"
    return template(f"CASE WHEN {nulls} THEN NULL ELSE {inner} END", *args)


F.add("map_concat", ret=lambda types, node: common(types, "map_concat arguments"), arity=(1, None), emit=_map_concat_emit)


def _entry_lambdas(types):
    t = types[0]
    return [list(t.elements) if t.is_map else [UNKNOWN, UNKNOWN]]


def _map_filter_emit(em, node, args):
    value, function = args
    k, v = (p.name for p in function.expressions)
    body = apply_lambda(function, {k: template("lk_e.key"), v: template("lk_e.value")})
    return template("map_from_entries(list_filter(map_entries({0}), lambda lk_e: {1}))", value, body)


F.add("map_filter", ret=same_as(0), arity=(2, 2), lambdas=_entry_lambdas, emit=_map_filter_emit)


def _transform_keys_emit(em, node, args):
    value, function = args
    k, v = (p.name for p in function.expressions)
    body = apply_lambda(function, {k: template("lk_e.key"), v: template("lk_e.value")})
    return template("map_from_entries(list_transform(map_entries({0}), lambda lk_e: {'key': {1}, 'value': lk_e.value}))", value, body)


def _transform_values_emit(em, node, args):
    value, function = args
    k, v = (p.name for p in function.expressions)
    body = apply_lambda(function, {k: template("lk_e.key"), v: template("lk_e.value")})
    return template("map_from_entries(list_transform(map_entries({0}), lambda lk_e: {'key': lk_e.key, 'value': {1}}))", value, body)


F.add("transform_keys", ret=lambda types, node: map_of(lambda_result(types[1]), types[0].elements[1]), arity=(2, 2),
      lambdas=_entry_lambdas, emit=_transform_keys_emit)
F.add("transform_values", ret=lambda types, node: map_of(types[0].elements[0], lambda_result(types[1])), arity=(2, 2),
      lambdas=_entry_lambdas, emit=_transform_values_emit)


def _map_zip_with_emit(em, node, args):
    a, b, function = args
    k, v1, v2 = (p.name for p in function.expressions)
    body = apply_lambda(function, {k: exp.to_identifier("lk_k"), v1: template("{0}[lk_k]", a), v2: template("{0}[lk_k]", b)})
    return template("CASE WHEN {0} IS NULL OR {1} IS NULL THEN NULL ELSE map_from_entries(list_transform("
                    "list_distinct_ordered(list_concat(map_keys({0}), map_keys({1}))), lambda lk_k: {'key': lk_k, 'value': {2}})) END",
                    a, b, body).transform(_ordered_distinct, copy=False)


def _ordered_distinct(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Anonymous) and node.name.lower() == "list_distinct_ordered":
        return template("list_filter({0}, lambda lk_u, lk_n: list_position({0}, lk_u) = lk_n)", node.expressions[0])
    return node


F.add("map_zip_with", ret=lambda types, node: map_of(types[0].elements[0], lambda_result(types[2])), arity=(3, 3),
      lambdas=lambda types: [[types[0].elements[0], types[0].elements[1], types[1].elements[1]]], emit=_map_zip_with_emit)

# ================================================================================================
# Conditionals, type functions
# ================================================================================================


def _greatest_type(types, node):
    return common(types, "greatest arguments")


def _greatest_emit(kind):
    def emit(em, node, args):
        t = ttype(node)
        nulls = " OR ".join(f"{{{i}}} IS NULL" for i in range(len(args)))
        inner = f"{kind}(" + ", ".join(f"{{{i}}}" for i in range(len(args))) + ")"
        return duck_cast(template(f"CASE WHEN {nulls} THEN NULL ELSE {inner} END", *args), t)
    return emit


F.add("greatest", exp.Greatest, ret=_greatest_type, keys=("this", "expressions"), emit=_greatest_emit("greatest"))
F.add("least", exp.Least, ret=_greatest_type, keys=("this", "expressions"), emit=_greatest_emit("least"))

# ================================================================================================
# Aggregates
# ================================================================================================


def _sum_type(types, node):
    t = types[0]
    if t.is_integer:
        return BIGINT
    if t.is_decimal:
        return decimal(38, t.scale)
    if t.is_floating or t.is_interval or t.is_unknown:
        return DOUBLE if t.is_unknown else t
    raise TrinoTypeError(f"Unexpected parameters ({t}) for function sum")


F.add("sum", exp.Sum, ret=_sum_type, keys=("this",), emit=lambda em, node, args: duck_cast(template("sum({0})", *args), ttype(node)))


def _avg_type(types, node):
    t = types[0]
    if t.is_integer or t.base == "double" or t.is_unknown:
        return DOUBLE
    if t.is_decimal or t.base == "real" or t.is_interval:
        return t
    raise TrinoTypeError(f"Unexpected parameters ({t}) for function avg")


def _avg_emit(em, node, args):
    t = ttype(node)
    if t.is_decimal:
        source = ttype(args[0])
        total = template("sum({0})", args[0])
        unscaled = template(f"CAST(sum({{0}}) * 1{'0' * source.scale} AS HUGEINT)", args[0])
        quotient = em.macro("lk_decimal_divide", unscaled, template("CAST(count({0}) AS HUGEINT)", args[0]), number(1))
        del total
        return template("CASE WHEN count({0}) = 0 THEN NULL ELSE CAST(CAST({1} AS DECIMAL(38,0)) * " +
                        _unit_text(t.scale) + f" AS {duckdb_type(t)}) END", args[0], quotient)
    return duck_cast(template("avg({0})", *args), t)


def _unit_text(scale: int) -> str:
    if scale == 0:
        return "CAST(1 AS DECIMAL(1,0))"
    return f"CAST('0.{'0' * (scale - 1)}1' AS DECIMAL({scale},{scale}))"


F.add("avg", exp.Avg, ret=_avg_type, keys=("this",), emit=_avg_emit)


def _count_emit(em, node, args):
    inner = node.this
    if isinstance(inner, exp.Star) or inner is None:
        return template("count(*)")
    if isinstance(inner, exp.Distinct):
        return exp.Count(this=inner)
    return template("count({0})", inner)


F.add("count", exp.Count, ret=BIGINT, keys=("this",), emit=_count_emit)
F.add("count_if", exp.CountIf, ret=BIGINT, keys=("this",), emit="CAST(count_if({0}) AS BIGINT)")
F.add(("min", "max"), exp.Min, exp.Max, ret=lambda types, node: array(types[0]) if len(types) > 1 else types[0],
      keys=("this", "expressions", "count"),
      emit=lambda em, node, args: template(("min" if isinstance(node, exp.Min) else "max") + "({0}" +
                                           (", {1})" if len(args) > 1 else ")"), *args))
F.add(("max_by", "min_by"), exp.ArgMax, exp.ArgMin, ret=lambda types, node: array(types[0]) if len(types) > 2 else types[0],
      keys=("this", "expression", "count"),
      emit=lambda em, node, args: template(("arg_max" if isinstance(node, exp.ArgMax) else "arg_min") + "({0}, {1}" +
                                           (", {2})" if len(args) > 2 else ")"), *args))
F.add(("arbitrary", "any_value"), exp.AnyValue, ret=same_as(0), keys=("this",), emit="any_value({0})")
F.add(("bool_and", "every"), exp.LogicalAnd, ret=BOOLEAN, keys=("this",), emit="bool_and({0})")
F.add("bool_or", exp.LogicalOr, ret=BOOLEAN, keys=("this",), emit="bool_or({0})")


def _array_agg_emit(em, node, args):
    inner = node.this
    return exp.Anonymous(this="array_agg", expressions=[inner])


F.add("array_agg", exp.ArrayAgg, ret=lambda types, node: array(types[0]), keys=("this",), emit=_array_agg_emit)
F.add("histogram", ret=lambda types, node: map_of(types[0], BIGINT), arity=(1, 1),
      emit=lambda em, node, args: duck_cast(template("histogram({0})", args[0]), ttype(node)))
F.add("map_agg", ret=lambda types, node: map_of(types[0], types[1]), arity=(2, 2),
      emit=lambda em, node, args: template(
          "map_from_entries(list({'key': {0}, 'value': {1}}) FILTER (WHERE {0} IS NOT NULL))", *args))
F.add("multimap_agg", ret=lambda types, node: map_of(types[0], array(types[1])), arity=(2, 2),
      emit=lambda em, node, args: em.macro("lk_multimap_from_entries",
                                           template("list(row({0}, {1})) FILTER (WHERE {0} IS NOT NULL)", *args)))
F.add("approx_distinct", exp.ApproxDistinct, ret=BIGINT, keys=("this",), emit="count(DISTINCT {0})")
F.add("geometric_mean", ret=DOUBLE, arity=(1, 1), emit=lambda em, node, args: template("geomean({0})", double_arg(em, args[0])))
for _name, _cls, _duck in (("stddev", exp.Stddev, "stddev_samp"), ("stddev_samp", exp.StddevSamp, "stddev_samp"),
                           ("stddev_pop", exp.StddevPop, "stddev_pop"), ("variance", exp.Variance, "var_samp"),
                           ("var_samp", None, "var_samp"), ("var_pop", exp.VariancePop, "var_pop")):
    F.add(_name, *([_cls] if _cls else []), ret=DOUBLE, keys=("this",),
          emit=(lambda d: lambda em, node, args: template(f"{d}({{0}})", double_arg(em, args[0])))(_duck))


def _reduce_agg_emit(em, node, args):
    value, initial, merge, _combine = args
    s, x = (p.name for p in merge.expressions)
    state_type = ttype(initial)
    body = duck_cast(apply_lambda(merge, {s: exp.to_identifier("lk_s"), x: exp.to_identifier("lk_x")}), state_type)
    return template("list_reduce(list({0}), lambda lk_s, lk_x: {1}, {2})", value, body, duck_cast(initial, state_type))


F.add("reduce_agg", ret=same_as(1), arity=(4, 4), emit=_reduce_agg_emit,
      lambdas=lambda types: [[types[1], types[0]], [types[1], types[1]]])


def _listagg_emit(em, node, args):
    inner = node.this
    separator = node.args.get("separator") or string("")
    if node.args.get("on_overflow") is not None:
        raise not_supported("listagg ... ON OVERFLOW")
    if isinstance(inner, exp.Order):
        return exp.Anonymous(this="string_agg", expressions=[exp.Order(this=inner.this, expressions=inner.expressions)
                                                             if False else inner.this, separator])
    return template("string_agg({0}, {1})", inner, separator)


def _listagg_infer_order(node):
    return node


F.add("listagg", exp.GroupConcat, ret=VARCHAR, keys=("this", "separator"), emit=lambda em, node, args: _listagg(em, node))


def _listagg(em, node):
    inner = node.this
    separator = node.args.get("separator") or string("")
    if node.args.get("on_overflow") is not None:
        raise not_supported("listagg ... ON OVERFLOW")
    if isinstance(inner, exp.Order):
        ordered = ", ".join(o.sql(dialect="duckdb") for o in inner.expressions)
        return template(f"string_agg({{0}}, {{1}} ORDER BY {ordered})", inner.this, separator)
    return template("string_agg({0}, {1})", inner, separator)


# window functions
for _name, _cls in (("rank", exp.Rank), ("dense_rank", exp.DenseRank), ("row_number", exp.RowNumber), ("ntile", exp.Ntile)):
    F.add(_name, _cls, ret=BIGINT, keys=("this",), emit=(lambda n: lambda em, node, args: template(f"{n}(" + ", ".join(
        f"{{{i}}}" for i in range(len(args))) + ")", *args))(_name))
F.add("percent_rank", exp.PercentRank, ret=DOUBLE, emit="percent_rank()", keys=())
F.add("cume_dist", exp.CumeDist, ret=DOUBLE, emit="cume_dist()", keys=())
F.add("first_value", exp.FirstValue, ret=same_as(0), keys=("this",), emit=None)
F.add("last_value", exp.LastValue, ret=same_as(0), keys=("this",), emit=None)
F.add("nth_value", exp.NthValue, ret=same_as(0), keys=("this", "offset"), emit=None)
F.add("lead", exp.Lead, ret=same_as(0), keys=("this", "offset", "default"), emit=None)
F.add("lag", exp.Lag, ret=same_as(0), keys=("this", "offset", "default"), emit=None)
F.add("grouping", exp.Grouping, ret=BIGINT, keys=("expressions",),
      emit=lambda em, node, args: duck_cast(exp.Grouping(expressions=args), BIGINT))


# ================================================================================================
# JSON
# ================================================================================================
def _json_path(node: exp.Expression, function: str) -> str:
    text = node.sql(dialect="trino").strip("'") if isinstance(node, exp.JSONPath) else constant_string(node)
    if text is None:
        raise not_supported(f"{function}() with a JSON path computed per row")
    return duckdb_path(text, function)


def _json_input(em: Emitter, node: exp.Expression) -> exp.Expression:
    t = ttype(node)
    if t.is_string:
        return template("json({0})", node)
    return node


F.add(("json_parse",), exp.ParseJSON, ret=JSON, keys=("this",), emit=lambda em, node, args: template("json({0})", args[0]))
F.add("json_format", exp.JSONFormat, ret=VARCHAR, keys=("this",), emit="CAST({0} AS VARCHAR)")
def _not_json_query(types, node):
    if node.args.get("json_query"):
        raise not_supported("function json_query()", "the SQL/JSON path language")


F.add("json_extract", exp.JSONExtract, ret=JSON, keys=("this", "expression"), constant_args=(1,), check=_not_json_query,
      emit=lambda em, node, args: template("json_extract({0}, {1})", _json_input(em, node.this),
                                           string(_json_path(node.expression, "json_extract"))))
F.add("json_extract_scalar", exp.JSONExtractScalar, ret=VARCHAR, keys=("this", "expression"), constant_args=(1,),
      emit=lambda em, node, args: template(
          "CASE WHEN json_type({0}, {1}) IN ('OBJECT', 'ARRAY') THEN NULL ELSE json_extract_string({0}, {1}) END",
          _json_input(em, node.this), string(_json_path(node.expression, "json_extract_scalar"))))
F.add("json_array_length", ret=BIGINT, arity=(1, 1),
      emit=lambda em, node, args: template("CASE WHEN json_type({0}) = 'ARRAY' THEN CAST(json_array_length({0}) AS BIGINT) END",
                                           _json_input(em, args[0])))
F.add("json_array_get", ret=JSON, arity=(2, 2),
      emit=lambda em, node, args: em.macro("lk_json_array_get", _json_input(em, args[0]), args[1]))
F.add("json_array_contains", exp.JSONArrayContains, ret=BOOLEAN, keys=("this", "expression"),
      emit=lambda em, node, args: _json_array_contains(em, node, args))


def _json_array_contains(em, node, args):
    value = args[1]
    t = ttype(value)
    if t.is_floating:
        raise not_supported("json_array_contains() with a double")
    needle = template("to_json({0})", value)
    return template("CASE WHEN json_type({0}) <> 'ARRAY' THEN NULL ELSE list_contains(CAST({0} AS JSON[]), {1}) END",
                    _json_input(em, args[0]), needle)


F.add("json_size", ret=BIGINT, arity=(2, 2),
      emit=lambda em, node, args: template(
          "CASE json_type({0}, {1}) WHEN 'ARRAY' THEN CAST(json_array_length({0}, {1}) AS BIGINT) "
          "WHEN 'OBJECT' THEN CAST(len(json_keys({0}, {1})) AS BIGINT) WHEN NULL THEN NULL ELSE 0 END",
          _json_input(em, args[0]), string(_json_path(args[1], "json_size"))))
F.add("is_json_scalar", ret=BOOLEAN, arity=(1, 1),
      emit=lambda em, node, args: template("json_type({0}) NOT IN ('OBJECT', 'ARRAY')", _json_input(em, args[0])))

# ================================================================================================
# URLs
# ================================================================================================
for _part in ("protocol", "host", "port", "path", "query", "fragment"):
    F.add(f"url_extract_{_part}", ret=BIGINT if _part == "port" else VARCHAR, arity=(1, 1),
          emit=(lambda p: lambda em, node, args: em.macro(f"lk_url_{p}", args[0]))(_part))
F.add("url_extract_parameter", ret=VARCHAR, arity=(2, 2), emit=lambda em, node, args: em.macro("lk_url_parameter", *args))
F.add("url_encode", ret=VARCHAR, arity=(1, 1), emit=lambda em, node, args: em.macro("lk_url_encode", args[0]))
F.add("url_decode", ret=VARCHAR, arity=(1, 1), emit=lambda em, node, args: em.macro("lk_url_decode", args[0]))

# ================================================================================================
# Binary
# ================================================================================================
F.add("to_hex", exp.Hex, ret=VARCHAR, keys=("this",), emit="hex({0})")
F.add("from_hex", exp.Unhex, ret=VARBINARY, keys=("this",), emit="unhex({0})")
F.add("to_base64", exp.ToBase64, ret=VARCHAR, keys=("this",), emit="to_base64({0})")
F.add("from_base64", exp.FromBase64, ret=VARBINARY, keys=("this",), emit="from_base64({0})")
F.add("to_base64url", ret=VARCHAR, arity=(1, 1), emit="translate(to_base64({0}), '+/', '-_')")
F.add("from_base64url", ret=VARBINARY, arity=(1, 1), emit="from_base64(translate({0}, '-_', '+/'))")
F.add("md5", exp.MD5Digest, ret=VARBINARY, keys=("this",), emit="unhex(md5({0}))")
F.add("sha1", exp.SHA, ret=VARBINARY, keys=("this",), emit="unhex(sha1({0}))")
F.add("sha256", exp.SHA2Digest, ret=VARBINARY, keys=("this",),
      emit=lambda em, node, args: _sha2(node))


def _sha2(node):
    length = node.args.get("length")
    bits = constant_int(length) if length is not None else 256
    if bits != 256:
        raise not_supported(f"sha{bits}()")
    return template("unhex(sha256({0}))", node.this)


F.add("to_big_endian_32", ret=VARBINARY, arity=(1, 1), emit="unhex(printf('%08X', CAST({0} AS INTEGER) & 4294967295))")
F.add("to_big_endian_64", ret=VARBINARY, arity=(1, 1), emit="unhex(printf('%016X', CAST({0} AS BIGINT)))")
F.add("from_big_endian_64", ret=BIGINT, arity=(1, 1),
      emit=lambda em, node, args: template("CASE WHEN octet_length({0}) <> 8 THEN {1} ELSE CAST(CAST(('0x' || hex({0})) AS UBIGINT) AS BIGINT) END",
                                           args[0], em.fail("expected 8-byte input, but got instead")))
F.add("from_big_endian_32", ret=INTEGER, arity=(1, 1),
      emit=lambda em, node, args: template("CASE WHEN octet_length({0}) <> 4 THEN {1} ELSE CAST(CAST(('0x' || hex({0})) AS UINTEGER) AS INTEGER) END",
                                           args[0], em.fail("expected 4-byte input, but got instead")))
