"""Source field names made into column names Glue and Athena can hold.

Glue and Athena fold names to lower case and allow letters, digits and ``_``; a name
such as ``Culmen Length (mm)`` cannot be queried, and ``amount`` beside ``Amount``
becomes two catalog columns of which Athena can read only one. lakekit renames the
way awswrangler's ``sanitize_columns`` does (accents stripped, each run of other
characters to ``_``, lower case), reports each rename, and refuses two source names
that fold to one column: guessing which one the user meant would lose the other.

Nested field names (inside ``struct<...>``) are renamed the same way: Glue keeps them
in the column's type string, where a space or a ``:`` would break it.

>>> sanitize_name("Culmen Length (mm)"), sanitize_name("studyName"), sanitize_name("Año")
('culmen_length_mm_', 'studyname', 'ano')
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.types as pat

from lakekit.errors import InputError

_OTHER = re.compile(r"[^A-Za-z0-9_]+")
# Glue's limit on a column name.
MAX_NAME_LENGTH = 255


def sanitize_name(name: str) -> str:
    """The column name for a source field name (awswrangler's ``sanitize_column_name``).

    >>> sanitize_name("Sample Number"), sanitize_name("user_id"), sanitize_name("a--b")
    ('sample_number', 'user_id', 'a_b')
    """
    stripped = "".join(c for c in unicodedata.normalize("NFD", name) if unicodedata.category(c) != "Mn")
    return _OTHER.sub("_", stripped).lower()


class NameCollision(InputError):
    """Two source names fold to one column name."""


@dataclass
class ColumnNamer:
    """Source names to column names for one ingest, remembering every rename.

    The same source name always maps to the same column; a second source name folding
    to a column already taken by another source name stops the ingest.

    >>> namer = ColumnNamer()
    >>> namer.column("Sample Number"), namer.renamed
    ('sample_number', {'Sample Number': 'sample_number'})
    """

    #: source name -> column name, for names that changed (reported to the user)
    renamed: dict[str, str] = field(default_factory=dict)
    _columns: dict[str, str] = field(default_factory=dict)  # source name -> column
    _owners: dict[str, str] = field(default_factory=dict)  # column -> source name

    def column(self, source_name: str, where: str = "", renamed_where: str = "") -> str:
        """The column for ``source_name``; ``where`` is the source path of the struct a
        nested name is in (``a.b.``), ``renamed_where`` the same path renamed."""
        key = where + source_name
        known = self._columns.get(key)
        if known is not None:
            return known
        name = sanitize_name(source_name)
        shown = f"{where}{source_name}"
        if not name:
            raise InputError(f"field {shown!r} has an empty name, which Glue and Athena cannot hold as a column; "
                             "give it a name in the source (or drop it with --transform)")
        if len(name) > MAX_NAME_LENGTH:
            raise InputError(f"field name {shown[:60]!r}... is {len(name)} characters long; Glue allows "
                             f"{MAX_NAME_LENGTH}; shorten it in the source")
        owner = self._owners.get(where + name)
        if owner is not None and owner != key:
            raise NameCollision(
                f"source fields {owner!r} and {shown!r} both become column {where + name!r} (Glue and Athena "
                "fold names to lower case, with '_' for other characters); rename one of them in the source")
        self._owners[where + name] = key
        self._columns[key] = name
        if name != source_name:
            self.renamed[shown] = renamed_where + name
        return name

    def rename_type(self, t: pa.DataType, where: str, renamed_where: str) -> pa.DataType:
        """``t`` with every struct field name inside it made a column name."""
        if pat.is_struct(t):
            fields = []
            for i in range(t.num_fields):
                f = t.field(i)
                name = self.column(f.name, where, renamed_where)
                inner = self.rename_type(f.type, f"{where}{f.name}.", f"{renamed_where}{name}.")
                fields.append(pa.field(name, inner, nullable=f.nullable))
            return pa.struct(fields)
        if pat.is_list(t) or pat.is_large_list(t):
            inner = self.rename_type(t.value_type, where, renamed_where)
            return pa.list_(inner) if pat.is_list(t) else pa.large_list(inner)
        return t

    def rename_table(self, table: pa.Table) -> pa.Table:
        """The table with top-level and nested names made column names (zero-copy)."""
        names = [self.column(n) for n in table.column_names]
        changed = names != table.column_names
        columns = []
        for name, new_name, col in zip(table.column_names, names, table.columns):
            if pat.is_nested(col.type):
                renamed = self.rename_type(col.type, f"{name}.", f"{new_name}.")
                if renamed != col.type:
                    col = pa.chunked_array([c.view(renamed) for c in col.chunks], type=renamed)
                    changed = True
            columns.append(col)
        if not changed:
            return table
        return pa.Table.from_arrays(columns, names=names)
