"""A query's rows on the way out: a text table for people, csv / json / parquet for programs.

The text table shows at most ``--max-rows`` rows and renders only those: formatting a
688,214-row result cell by cell to show its first thousand rows is what made the
default format take minutes. csv, json and parquet write every row, in batches.
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
from typing import Any, BinaryIO

#: the formats ``--output`` infers from a file's extension
EXTENSION_FORMATS = {".csv": "csv", ".json": "json", ".parquet": "parquet"}
FORMATS = ("table", "csv", "json", "parquet")

#: widest a text-table cell is shown (its value is cut with an ellipsis, never wrapped)
MAX_CELL = 80


def output_format(fmt: str | None, output: str | None) -> str:
    """The format to write: ``--format``, else the one ``--output``'s extension names, else table.

    >>> output_format(None, "out.parquet"), output_format("csv", None), output_format(None, "notes.txt")
    ('parquet', 'csv', 'table')
    """
    from lakekit.errors import UsageError

    inferred = EXTENSION_FORMATS.get(os.path.splitext(output)[1].lower()) if output else None
    if fmt is None:
        return inferred or "table"
    if inferred is not None and inferred != fmt:
        raise UsageError(f"--format {fmt} does not match --output {output}, a .{inferred} file name; "
                         f"drop --format (the extension picks {inferred}) or change the extension")
    return fmt


def check_output_path(output: str) -> str:
    """The absolute path ``--output`` will be written to, checked before anything runs:
    its folder exists and can be written, and it is not a folder itself."""
    from lakekit.errors import UsageError

    path = os.path.abspath(os.path.expanduser(output))
    folder = os.path.dirname(path)
    if os.path.isdir(path):
        raise UsageError(f"--output {output} is a folder; give a file name inside it")
    if not os.path.isdir(folder):
        what = "is not a folder" if os.path.exists(folder) else "does not exist"
        raise UsageError(f"--output {output}: {folder} {what}; create the folder first or choose another path")
    if not os.access(folder, os.W_OK | os.X_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise UsageError(f"--output {output}: permission denied to write there; choose another path")
    return path


def write_file(table, fmt: str, path: str) -> None:
    """Write the rows to ``path`` whole or not at all (a temporary name, then a rename)."""
    temporary = f"{path}.lakekit-partial"
    try:
        with open(temporary, "wb") as out:
            write_rows(table, fmt, out)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass  # nothing was created
        raise


def write_rows(table, fmt: str, out: BinaryIO, *, max_rows: int | None = None) -> None:
    """Write an Arrow table as csv, json (an array of objects), parquet or a text table."""
    if fmt == "csv":
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, out)
    elif fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, out, compression="zstd")
    elif fmt == "json":
        _write_json(table, out)
    else:
        out.write(render_table(table, max_rows).encode("utf-8"))


def _write_json(table, out: BinaryIO) -> None:
    import json

    out.write(b"[")
    first = True
    for batch in table.to_batches(max_chunksize=10_000):
        for row in batch.to_pylist():
            out.write(b"\n  " if first else b",\n  ")
            out.write(json.dumps(jsonable_row(row)).encode("utf-8"))
            first = False
    out.write(b"\n]\n" if not first else b"]\n")


def render_table(table, max_rows: int | None = None) -> str:
    """A text table of the first ``max_rows`` rows, and a line saying how many were left out.

    >>> import pyarrow as pa
    >>> print(render_table(pa.table({"day": ["01", "02", "03"], "n": [5, 12, None]}), max_rows=2), end="")
    day   n
    ---  --
    01    5
    02   12
    (3 rows; showing the first 2, 1 left out: --max-rows N shows more, --format csv|json|parquet writes them all)
    """
    import pyarrow as pa

    total = table.num_rows
    shown = table if max_rows is None or total <= max_rows else table.slice(0, max_rows)
    names = list(table.column_names)
    right = [pa.types.is_integer(f.type) or pa.types.is_floating(f.type) or pa.types.is_decimal(f.type)
             for f in table.schema]
    cells = [[_cell(v) for v in shown.column(i).to_pylist()] for i in range(len(names))]
    widths = [max([len(n), *(len(c) for c in column)]) for n, column in zip(names, cells)]

    def line(values: list[str]) -> str:
        parts = [v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right)]
        return "  ".join(parts).rstrip()

    lines = [line(names), line(["-" * w for w in widths])]
    lines += [line([column[row] for column in cells]) for row in range(shown.num_rows)]
    if shown.num_rows < total:
        lines.append(f"({total:,} rows; showing the first {shown.num_rows:,}, {total - shown.num_rows:,} left out: "
                     "--max-rows N shows more, --format csv|json|parquet writes them all)")
    elif total == 0:
        lines.append("(0 rows)")
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        text = value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ") + " UTC"
    else:
        jsonable = _jsonable(value)
        text = jsonable if isinstance(jsonable, str) else _json_text(jsonable)
    text = text.replace("\n", "\\n")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def _json_text(value: Any) -> str:
    import json

    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def jsonable_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: _jsonable(v) for k, v in row.items()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, float) and value != value:
        return None
    return value
