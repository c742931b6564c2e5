"""Running the lint rules: queries (Q001-Q010) and layouts (L001-L011).

:meth:`lakekit.Lake.lint_query` and :meth:`lakekit.Lake.lint_layout` resolve the
settings and the catalog, then call :func:`run_lint_query` / :func:`run_lint_layout`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from lakekit.catalog.base import Catalog, Table, require_table
from lakekit.errors import UsageError
from lakekit.lint import targets as tg
from lakekit.lint.catalog_view import CatalogView
from lakekit.lint.noqa import is_silenced
from lakekit.lint.options import LintOptions
from lakekit.lint.pricing import Pricer, StatementPrice
from lakekit.lint.result import LintResult
from lakekit.lint.rules import LayoutRule, select_rules
from lakekit.lint.rules.query import QueryContext
from lakekit.lint.source import SqlSource
from lakekit.lint.targets import TableFacts
from lakekit.lint.violation import Violation
from lakekit.paths import is_s3, partition_folders
from lakekit.storage import Storage

if TYPE_CHECKING:  # pragma: no cover
    import boto3

_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")
LAYOUT_SUFFIXES = (".yaml", ".yml")


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


def run_lint_query(
    sources: Sequence[Any],
    *,
    options: LintOptions,
    catalog: Catalog | None,
    catalog_where: str,
    table_stats: bool = False,
    pricer: Pricer | None = None,
    fix: bool = False,
) -> LintResult:
    """Lint SQL in Athena's dialect with the query rules (Q001-Q012).

    Args:
        sources: SQL files, folders (their ``*.sql``), SQL text, or ``(name, text)`` pairs.
        options: the ``[lint]`` settings with the run's select and ignore applied
            (and ``max_cost``/``baseline`` for the cost gate, Q011/Q012).
        catalog: the lake's catalog when one exists (partition keys, sizes, columns);
            without it partition keys are assumed.
        catalog_where: where the catalog was looked for, for notes and errors.
        table_stats: insist on the catalog.
        pricer: estimates one statement (findings then carry savings, and Q011/Q012
            can judge); None without a catalog.
        fix: rewrite the SQL files with the safe fixes (Q002, Q003: the partition
            predicate the timestamp range implies) and report what was fixed.

    Returns:
        A :class:`LintResult`; ``-- noqa`` comments have already been applied.

    Raises:
        InputError: a source does not parse. UsageError: bad codes, missing files.

    >>> import lakekit
    >>> sql = "SELECT country, count(DISTINCT user_id) FROM events WHERE dt = '2024-03-07' GROUP BY country"
    >>> [(v.code, v.column, v.fix) for v in lakekit.lint_query([sql], warehouse="/nonexistent").violations]
    [('Q006', 17, 'use approx_distinct(user_id) unless the exact number matters')]
    """
    rules = list(select_rules(options.select, options.ignore, family="query"))
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    pairs = _query_sources(sources)
    notes: list[str] = []
    cat, where = catalog, catalog_where
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
        is_folder = isinstance(path, (str, os.PathLike)) and "\n" not in os.fspath(path) and os.path.isdir(path)
        if is_folder and not any(p.startswith(os.path.join(os.fspath(path), "")) or p == os.fspath(path)
                                 for p, _ in pairs):
            notes.append(f"{os.fspath(path)}: no .sql files found")
    view = CatalogView(cat, options.partition_keys)
    instances = [rule() for rule in rules]
    wants_price = pricer is not None and (fix or codes & PRICED_CODES)
    violations: list[Violation] = []
    estimates: dict[str, int] = {}
    fixed: list[Violation] = []
    for path, text in pairs:
        found, total = _lint_source(path, text, view, options, notes, instances, pricer if wants_price else None)
        if fix and found and os.path.isfile(path):
            done, text = _apply_fixes(path, text, found)
            if done:
                fixed += done
                found, total = _lint_source(path, text, view, options, notes, instances,
                                            pricer if wants_price else None)
        violations += found
        if total is not None:
            estimates[path] = total
    violations = sorted(set(violations), key=Violation.sort_key)
    return LintResult(violations, notes, [p for p, _ in pairs], rules, fixed=fixed, estimates=estimates)


#: rules whose findings are priced, or that judge the price
PRICED_CODES = {"Q001", "Q002", "Q003", "Q011", "Q012"}


def _lint_source(
    path: str, text: str, view: CatalogView, options: LintOptions, notes: list[str],
    instances: list, pricer: Pricer | None,
) -> tuple[list[Violation], int | None]:
    """One source's findings, and its statements' estimated bytes scanned (None: not priced)."""
    source = SqlSource(path, text)
    spans = source.statement_spans
    prices: list[StatementPrice | None] = []
    if pricer is not None and spans:
        prices = [pricer(text[start:end]) for start, end in spans]
    found: list[Violation] = []
    for i, statement in enumerate(source.statements):
        ctx = QueryContext(source, statement, view, options, notes,
                           price=prices[i] if prices else None,
                           offset=spans[i][0] if spans else 0,
                           source_prices=prices)
        for rule in instances:
            for violation in rule.check(ctx):
                if not is_silenced(source.noqa, violation.line, violation.code):
                    found.append(violation)
    total = sum(p.bytes_scanned for p in prices) if prices and all(p is not None for p in prices) else None
    return found, total


def _apply_fixes(path: str, text: str, found: list[Violation]) -> tuple[list[Violation], str]:
    """Rewrite ``path`` with the findings' safe fixes (one edit set a finding; a set that
    overlaps one already taken waits for the next run). Returns the fixed findings."""
    from lakekit.lint.fix import apply_edits

    taken: list = []
    done: list[Violation] = []
    for violation in sorted(found, key=Violation.sort_key):
        if not violation.edits:
            continue
        spans = [(e.start, e.end) for e in taken]
        if any(e.start < end and start < e.end or e.start == start for e in violation.edits for start, end in spans):
            continue
        taken += violation.edits
        done.append(violation)
    if not done:
        return [], text
    fixed = apply_edits(text, taken)
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(fixed)
    except OSError as ex:
        raise UsageError(f"cannot write the fixed {path}: {ex.strerror}") from ex
    return done, fixed


def _target_kind(target: str) -> str:
    if is_s3(target):
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


def _catalog_table_facts(cat: Catalog, table: Table, boto3_session: boto3.Session | None) -> TableFacts:
    """The table's files under its location, plus those of partitions registered elsewhere
    (Glue lets a partition live outside its table's folder)."""
    storage = Storage(table.location, boto3_session)
    tables = []
    if storage.exists(table.location):
        tables = tg.scan_storage(storage, table.location, table.qualified_name, single_table=True)
    facts = tables[0] if tables else TableFacts(table.qualified_name)
    facts.path = table.qualified_name
    facts.table = table
    facts.catalog_partitions = cat.list_partitions(table.database, table.name)
    keys = [k.name for k in table.partition_keys]
    facts.files = [f for f in facts.files if _read_through_catalog(storage, f, table, facts.catalog_partitions, keys)]
    for partition in facts.catalog_partitions:
        if not partition.location or storage.is_under(partition.location, table.location):
            continue
        elsewhere = Storage(partition.location, boto3_session)
        if not elsewhere.exists(partition.location):
            continue
        folders = tuple(partition_folders(keys, partition.values))
        for found in tg.scan_storage(elsewhere, partition.location, partition.location, single_table=True):
            facts.files.extend(replace(f, partition=folders + f.partition) for f in found.files)
    return facts


def _lint_layout_file(path: str, instances: list[LayoutRule], options: LintOptions, notes: list[str]) -> list[Violation]:
    """The findings on one layout file; one that does not load is an L000 finding."""
    from lakekit.lint.rules.layout import InvalidLayout

    try:
        facts = tg.read_layout_file(path)
    except UsageError as ex:
        invalid = [rule for rule in instances if isinstance(rule, InvalidLayout)]
        if invalid:
            return [invalid[0].unreadable(path, str(ex))]
        notes.append(f"{path}: not checked, the layout file does not load ({ex})")
        return []
    found: list[Violation] = []
    for rule in instances:
        found.extend(rule.check_layout(facts, options))
    return found
def _read_through_catalog(storage: Storage, found, table: Table, partitions, keys: list[str]) -> bool:
    """Whether a file under the table's folder is one its readers see: under the table's
    location or a registered partition's. Other files of a registered partition (older
    versions a commit superseded, kept while queries may read them; a commit in flight)
    are not the layout; files of partitions the catalog lacks are kept for L010."""
    if not table.partition_keys:
        return storage.is_under(found.uri, table.location)
    if any(storage.is_under(found.uri, p.location) for p in partitions):
        return True
    values = tg.hive_values(found.partition, keys)
    return values is None or values not in {tuple(p.values) for p in partitions}


def run_lint_layout(
    targets: Sequence[str] | str,
    *,
    options: LintOptions,
    catalog: Callable[[], tuple[Catalog | None, str]],
    boto3_session: boto3.Session | None = None,
) -> LintResult:
    """Lint table layouts with the layout rules (L001-L011).

    Args:
        targets: layout files (``*.yaml``), local folders, ``s3://`` prefixes, or catalog
            tables ``DB.TABLE`` (then catalog and storage are checked against each other).
            Storage is listed and Parquet footers are read; data pages never are.
        options: the ``[lint]`` settings with the run's select and ignore applied.
        catalog: gives the lake's catalog (None when there is none) and where it was
            looked for; called only when a ``DB.TABLE`` target needs it.
        boto3_session: for ``s3://`` targets.

    Returns:
        A :class:`LintResult`.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "t.yaml")
    >>> _ = open(path, "w").write("table: a.t\\nformat: csv\\ncompression: gzip\\n")
    >>> import lakekit
    >>> [(v.code, v.line) for v in lakekit.lint_layout([path]).violations]
    [('L003', 2), ('L005', 3)]
    """
    rules = list(select_rules(options.select, options.ignore, family="layout"))
    instances: list[LayoutRule] = [rule() for rule in rules]  # type: ignore[misc]
    if isinstance(targets, str):
        targets = [targets]
    violations: list[Violation] = []
    notes: list[str] = []
    cat = None
    for target in targets:
        kind = _target_kind(target)
        if kind == "layout":
            violations.extend(_lint_layout_file(target, instances, options, notes))
            continue
        if kind == "storage":
            storage = Storage(target, boto3_session)
            layouts: list[str] = []
            if not is_s3(target):
                # a local folder of layout files (layouts/): each is a layout, not data
                layouts = tg.layout_files_under(target, LAYOUT_SUFFIXES)
                for path in layouts:
                    violations.extend(_lint_layout_file(path, instances, options, notes))
            tables = tg.scan_storage(storage, target, target, exclude_suffixes=LAYOUT_SUFFIXES)
            if not tables and not layouts:
                notes.append(f"{target}: no data files found")
        else:
            if cat is None:
                cat, where = catalog()
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
    violations = sorted(set(violations), key=Violation.sort_key)
    return LintResult(violations, notes, list(targets), rules)
