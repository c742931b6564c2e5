"""Trino's JSONPath subset (``json_extract``) as DuckDB's JSON path.

Trino reads ``$``, ``.key``, ``["key"]``, ``[key]`` and ``[n]``; so does DuckDB (with
``."key"`` for names that are not plain identifiers). Wildcards and filters return
several values in DuckDB but are errors in Trino's json_extract: they are refused.

>>> duckdb_path('$.store["book name"][0].author', "json_extract")
'$.store."book name"[0].author'
"""

from __future__ import annotations

import re

from lakekit.sql.trino.errors import not_supported

__all__ = ["duckdb_path"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def duckdb_path(path: str, function: str) -> str:
    text = path.strip()
    if not text.startswith("$"):
        raise not_supported(f"{function}() with the path {path!r}", "a JSON path starts with $")
    i = 1
    out = ["$"]
    while i < len(text):
        ch = text[i]
        if ch == ".":
            m = re.compile(r"[^.\[]+").match(text, i + 1)
            if not m:
                raise not_supported(f"{function}() with the path {path!r}")
            out.append(_key(m.group(0).strip(), path, function))
            i = m.end()
        elif ch == "[":
            end = _bracket_end(text, i, path, function)
            inner = text[i + 1:end].strip()
            i = end + 1
            if inner.isdigit():
                out.append(f"[{int(inner)}]")
            elif len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "\"'":
                out.append(_key(inner[1:-1], path, function))
            elif inner == "*" or not inner:
                raise not_supported(f"{function}() with the wildcard path {path!r}")
            else:
                out.append(_key(inner, path, function))
        else:
            raise not_supported(f"{function}() with the path {path!r}")
    return "".join(out)


def _bracket_end(text: str, start: int, path: str, function: str) -> int:
    quote = None
    for j in range(start + 1, len(text)):
        ch = text[j]
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "]":
            return j
    raise not_supported(f"{function}() with the path {path!r}")


def _key(name: str, path: str, function: str) -> str:
    if name == "*" or "?" in name or "(" in name:
        raise not_supported(f"{function}() with the path {path!r}")
    if _IDENTIFIER.fullmatch(name):
        return "." + name
    if '"' in name:
        raise not_supported(f"{function}() with a key holding a double quote")
    return f'."{name}"'
