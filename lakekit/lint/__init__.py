"""lakekit lint: find what makes Athena queries and table layouts cost more than they must.

``lint_query`` checks SQL (rules Q001-Q010), ``lint_layout`` checks layout files,
folders, ``s3://`` prefixes and catalog tables (rules L001-L011). Both return a
:class:`LintResult`; ``lakekit rules`` documents every rule.

>>> result = lint_query(["SELECT * FROM analytics.events ORDER BY ts"], warehouse="/nonexistent")
>>> [(v.code, v.line, v.column) for v in result.violations]
[('Q001', 1, 8), ('Q002', 1, 15), ('Q004', 1, 32)]
>>> result.exit_code
1
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Sequence

from lakekit.errors import UsageError
from lakekit.lint.options import LintOptions, lint_options
from lakekit.lint.rules import RULES, LayoutRule, Rule, select_rules
from lakekit.lint.violation import Violation

if TYPE_CHECKING:  # pragma: no cover
    import boto3

    from lakekit.catalog.base import Catalog
    from lakekit.config import Settings
    from lakekit.lint.targets import TableFacts

__all__ = ["LintResult", "Violation", "RULES", "lint_layout", "lint_query"]

_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")
LAYOUT_SUFFIXES = (".yaml", ".yml")


@dataclass
class LintResult:
    """What a lint run found: violations (sorted by place), notes, and what was checked."""

    violations: list[Violation]
    #: things the user should know once (e.g. "no catalog: partition keys assumed")
    notes: list[str] = field(default_factory=list)
    #: paths, SQL sources and targets that were checked
    checked: list[str] = field(default_factory=list)
    #: the rules that ran, for output formats that describe them (SARIF)
    rules: list[type[Rule]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def exit_code(self) -> int:
        """0 when clean, 1 when anything was found (SPEC)."""
        return 1 if self.violations else 0

    def to_dicts(self) -> list[dict[str, Any]]:
        return [v.to_dict() for v in self.violations]


def _settings(settings: "Settings | None", warehouse: str | None, catalog: str | None) -> "Settings":
    if settings is not None:
        return settings
    from lakekit.config import resolve_settings

    return resolve_settings(warehouse=warehouse, catalog=catalog)


def _open_catalog_if_any(settings: "Settings", boto3_session) -> "tuple[Catalog | None, str]":
    """The configured catalog when one exists, and where it was looked for."""
    from lakekit.catalog import open_catalog

    if settings.catalog == "glue":
        return open_catalog(settings, boto3_session), "glue"
    path = settings.local_catalog_path()
    if not os.path.isfile(path):
        return None, path
    return open_catalog(settings, boto3_session), path


def _options(settings: "Settings", select, ignore) -> LintOptions:
    return lint_options(settings.lint, select=select, ignore=ignore)


# -- queries ---------------------------------------------------------------------------
def _query_sources(sources: Sequence[Any]) -> list[tuple[str, str]]:
    """(path, text) pairs: files are read, folders give their ``*.sql``, anything else is SQL."""
    pairs: list[tuple[str, str]] = []
    for index, source in enumerate(sources):
        if isinstance(source, tuple):
            pairs.append((str(source[0]), str(source[1])))
            continue
        text = os.fspath(source)
        if "\n" not in text and len(text) < 4096 and os.path.isdir(text):
            found = sorted(
                os.path.join(d, f) for d, _, fs in os.walk(text) for f in fs if f.lower().endswith(".sql")
            )
            pairs.extend((p, _read_text(p)) for p in found)
        elif "\n" not in text and len(text) < 4096 and os.path.isfile(text):
            pairs.append((text, _read_text(text)))
        elif text.strip().lower().endswith(".sql") and " " not in text.strip():
            raise UsageError(f"SQL file {text} not found; check the path")
        else:
            pairs.append((f"<sql{index + 1}>" if len(sources) > 1 else "<sql>", text))
    return pairs


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except UnicodeDecodeError as ex:
        raise UsageError(f"{path}: not UTF-8 text; is it a SQL file?") from ex
    except OSError as ex:
        raise UsageError(f"cannot read {path}: {ex.strerror}") from ex


def lint_query(
    sources: Sequence[Any],
    *,
    table_stats: bool = False,
    select: Sequence[str] | str | None = None,
    ignore: Sequence[str] | str | None = None,
    warehouse: str | None = None,
    catalog: str | None = None,
    settings: "Settings | None" = None,
    boto3_session: "boto3.Session | None" = None,
) -> LintResult:
    """Lint SQL in Athena's dialect with the query rules (Q001-Q010).

    Args:
        sources: SQL files, folders (their ``*.sql``), SQL text, or ``(name, text)`` pairs.
        table_stats: insist on the catalog (its partition keys, sizes and columns);
            without it the catalog is used when one exists, and partition keys are
            assumed when none does.
        select: rule codes or prefixes to run (default: ``[lint] select`` or all).
        ignore: rule codes or prefixes to skip.
        warehouse, catalog, settings, boto3_session: where the catalog is, as elsewhere.

    Returns:
        A :class:`LintResult`; ``-- noqa`` comments have already been applied.

    Raises:
        InputError: a source does not parse. UsageError: bad codes, missing files.

    >>> sql = "SELECT country, count(DISTINCT user_id) FROM events WHERE dt = '2024-03-07' GROUP BY country"
    >>> [(v.code, v.column, v.fix) for v in lint_query([sql], warehouse="/nonexistent").violations]
    [('Q006', 17, 'use approx_distinct(user_id) unless the exact number matters')]
    """
    from lakekit.lint.catalog_view import CatalogView
    from lakekit.lint.noqa import is_silenced
    from lakekit.lint.rules.query import QueryContext
    from lakekit.lint.source import SqlSource

    settings = _settings(settings, warehouse, catalog)
    options = _options(settings, select, ignore)
    rules = [r for r in select_rules(options.select, options.ignore, family="query")]
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    pairs = _query_sources(sources)
    notes: list[str] = []
    cat, where = _open_catalog_if_any(settings, boto3_session)
    if cat is None and table_stats:
        raise UsageError(
            f"--table-stats needs a catalog and there is none at {where}; "
            "pass --warehouse (or --catalog glue) where the tables are"
        )
    codes = {rule.code for rule in rules}
    if cat is None and codes & {"Q002", "Q003", "Q007", "Q010"}:
        said = []
        if codes & {"Q002", "Q003"}:
            how = "from [lint] partition_keys" if options.partition_keys_configured else "assumed"
            said.append(f"partition keys {how} ({', '.join(options.partition_keys)})")
        skipped = sorted(codes & {r.code for r in rules if getattr(r, "needs_catalog", False)})
        if skipped:
            said.append(f"{' and '.join(skipped)} need a catalog and were skipped")
        notes.append(f"no catalog at {where}: {'; '.join(said)}")
    for path in sources:
        if isinstance(path, (str, os.PathLike)) and "\n" not in os.fspath(path) and os.path.isdir(path):
            if not any(p.startswith(os.path.join(os.fspath(path), "")) or p == os.fspath(path) for p, _ in pairs):
                notes.append(f"{os.fspath(path)}: no .sql files found")
    view = CatalogView(cat, options.partition_keys)
    instances = [rule() for rule in rules]
    violations: list[Violation] = []
    try:
        for path, text in pairs:
            source = SqlSource(path, text)
            for statement in source.statements:
                ctx = QueryContext(source, statement, view, options, notes)
                for rule in instances:
                    for violation in rule.check(ctx):
                        if not is_silenced(source.noqa, violation.line, violation.code):
                            violations.append(violation)
    finally:
        if cat is not None:
            cat.close()
    violations = sorted(set(violations), key=Violation.sort_key)
    return LintResult(violations, notes, [p for p, _ in pairs], rules)


# -- layouts ---------------------------------------------------------------------------
def _target_kind(target: str) -> str:
    if target.startswith("s3://"):
        return "storage"
    if target.lower().endswith(LAYOUT_SUFFIXES):
        if not os.path.isfile(target):
            raise UsageError(f"layout file {target} not found; check the path")
        return "layout"
    if os.path.isdir(target):
        return "storage"
    if _TABLE_NAME.match(target) and not os.path.exists(target):
        return "table"
    if os.path.isfile(target):
        raise UsageError(
            f"{target}: not a layout file (.yaml); give a layout file, a folder, an s3:// prefix or DB.TABLE"
        )
    raise UsageError(f"{target}: no such layout file, folder, s3:// prefix or DB.TABLE; check the name")


def _catalog_table_facts(cat: "Catalog", table, boto3_session) -> "TableFacts":
    """The table's files under its location, plus those of partitions registered elsewhere
    (Glue lets a partition live outside its table's folder)."""
    from lakekit.lint import targets as tg
    from lakekit.storage import Storage

    storage = Storage(table.location, boto3_session)
    tables = []
    if storage.exists(table.location):
        tables = tg.scan_storage(storage, table.location, table.qualified_name, single_table=True)
    facts = tables[0] if tables else tg.TableFacts(table.qualified_name)
    facts.path = table.qualified_name
    facts.table = table
    facts.catalog_partitions = cat.list_partitions(table.database, table.name)
    keys = [k.name for k in table.partition_keys]
    for partition in facts.catalog_partitions:
        if not partition.location or storage.is_under(partition.location, table.location):
            continue
        elsewhere = Storage(partition.location, boto3_session)
        if not elsewhere.exists(partition.location):
            continue
        folders = tuple(f"{k}={v}" for k, v in zip(keys, partition.values))
        for found in tg.scan_storage(elsewhere, partition.location, partition.location, single_table=True):
            facts.files.extend(replace(f, partition=folders + f.partition) for f in found.files)
    return facts


def lint_layout(
    targets: Sequence[str] | str,
    *,
    select: Sequence[str] | str | None = None,
    ignore: Sequence[str] | str | None = None,
    warehouse: str | None = None,
    catalog: str | None = None,
    settings: "Settings | None" = None,
    boto3_session: "boto3.Session | None" = None,
) -> LintResult:
    """Lint table layouts with the layout rules (L001-L011).

    Args:
        targets: layout files (``*.yaml``), local folders, ``s3://`` prefixes, or catalog
            tables ``DB.TABLE`` (then catalog and storage are checked against each other).
            Storage is listed and Parquet footers are read; data pages never are.
        select, ignore: rule codes or prefixes, as for :func:`lint_query`.
        warehouse, catalog, settings, boto3_session: where the catalog is.

    Returns:
        A :class:`LintResult`.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "t.yaml")
    >>> _ = open(path, "w").write("table: a.t\\nformat: csv\\ncompression: gzip\\n")
    >>> [(v.code, v.line) for v in lint_layout([path]).violations]
    [('L003', 2), ('L005', 3)]
    """
    from lakekit.catalog import require_table
    from lakekit.lint import targets as tg
    from lakekit.storage import Storage

    settings = _settings(settings, warehouse, catalog)
    options = _options(settings, select, ignore)
    rules = [r for r in select_rules(options.select, options.ignore, family="layout")]
    instances: list[LayoutRule] = [rule() for rule in rules]  # type: ignore[misc]
    if isinstance(targets, str):
        targets = [targets]
    violations: list[Violation] = []
    notes: list[str] = []
    cat = None
    try:
        for target in targets:
            kind = _target_kind(target)
            if kind == "layout":
                facts = tg.read_layout_file(target)
                for rule in instances:
                    violations.extend(rule.check_layout(facts, options))
                continue
            if kind == "storage":
                storage = Storage(target, boto3_session)
                tables = tg.scan_storage(storage, target, target)
                if not tables:
                    notes.append(f"{target}: no data files found")
            else:
                if cat is None:
                    cat, where = _open_catalog_if_any(settings, boto3_session)
                    if cat is None:
                        raise UsageError(
                            f"{target}: no catalog at {where} to find the table in; pass --warehouse or --catalog"
                        )
                database, _, name = target.partition(".")
                tables = [_catalog_table_facts(cat, require_table(cat, database, name), boto3_session)]
            for facts in tables:
                unreadable = [f for f in facts.files if f.footer_error]
                if unreadable:
                    notes.append(
                        f"{facts.path}: {len(unreadable)} file(s) named like Parquet could not be read as Parquet "
                        f"and were skipped (e.g. {unreadable[0].uri}: {unreadable[0].footer_error})"
                    )
                for rule in instances:
                    violations.extend(rule.check_table(facts, options))
    finally:
        if cat is not None:
            cat.close()
    violations = sorted(set(violations), key=Violation.sort_key)
    return LintResult(violations, notes, list(targets), rules)


