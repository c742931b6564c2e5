"""The local engine: DuckDB in-process, reading the lake's Parquet files directly.

How a query runs:

* The statement arrives qualified and planned (:mod:`lakekit.plan`): each scan of a
  table already knows the partitions and files its predicates keep. Each scan becomes
  a temporary DuckDB view over exactly those files, so DuckDB reads what Athena would
  read after partition pruning; DuckDB then prunes columns and row groups itself.
  The views replace the scans' tables in a copy of the statement: the plan itself is
  never changed.
* Partition keys come from the catalog's partition values: through DuckDB's
  ``hive_partitioning`` when the files sit in ``key=value`` folders that agree with
  the catalog (what ``lakekit ingest`` writes), else as constants per partition.
* The SQL keeps Athena's semantics: :mod:`lakekit.sql.trino` types it as Trino does
  and rewrites it into DuckDB SQL that gives Trino's answer (integer division, NULLs,
  dates, JSON, arrays, maps, lambdas, UNNEST), calling lakekit's DuckDB macros
  (:mod:`lakekit.duckdb_macros`), created on the connection the first time a query
  needs them; what it cannot make exact it refuses by name. Results come back in the
  Arrow form of their Trino types.
* ``s3://`` warehouses: DuckDB's own S3 support is an extension that must be
  downloaded, and lakekit never downloads extensions. S3 files are read through
  pyarrow datasets (pyarrow's S3 filesystem, boto3's endpoint and credentials)
  registered in DuckDB, which pushes projections and filters into them.
* Bytes actually read: DuckDB's profiler counts the bytes its file system reads
  (``io.total_bytes_read``); reads through pyarrow's native S3 file system are not counted.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.fs as pafs
from sqlglot import exp

from lakekit.aws import s3_filesystem
from lakekit.config import Settings
from lakekit.duckdb_connection import duckdb_connect
from lakekit.engines.base import EngineResult
from lakekit.errors import (
    CatalogOutOfDate,
    EngineError,
    LakekitError,
    NotSupportedLocally,
    QueryCancelled,
    QueryFailed,
    QueryTimeout,
    UsageError,
    first_line,
)
from lakekit.paths import hive_values, is_s3
from lakekit.plan import QueryPlan, ScanPlan
from lakekit.sql import PSEUDO_COLUMNS, OutsideRead, name_outputs_as_athena, refuse_outside_reads
from lakekit.types import duckdb_type

if TYPE_CHECKING:  # pragma: no cover
    import boto3

#: what the message of a refusal raised while the query runs (a DuckDB error()) holds
_REFUSAL = "is not supported by the local engine"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _partition_columns(table, values) -> str:
    """``, CAST('2024' AS VARCHAR) AS "year", ...``: a partition's keys as constant columns."""
    return "".join(
        f", CAST({_literal(v)} AS {duckdb_type(k.type)}) AS {_quote(k.name)}"
        for k, v in zip(table.partition_keys, values)
    )


class LocalEngine:
    """DuckDB in-process. One connection per engine; closed by :meth:`close`."""

    name = "local"

    def __init__(self, settings: Settings | None = None, boto3_session: boto3.Session | None = None):
        self._settings = settings
        self._session = boto3_session
        self._con = None
        self._allowed: frozenset[str] = frozenset()
        #: lakekit's DuckDB macros created on the connection so far
        self._macros: set[str] = set()

    def _connection(self, paths: frozenset[str]):
        """A sandboxed connection that may read ``paths`` (and the files of earlier plans).

        DuckDB's allowed paths cannot change once its configuration is locked, so a plan
        that needs a file the open connection may not read gets a new connection, allowed
        that plan's files and those the old one was: the lake's table files that this
        engine's queries read, never any other. A plan that needs no new file keeps the
        open connection, and with it DuckDB's caches of footers and data and the macros.
        """
        if self._con is not None and paths <= self._allowed:
            return self._con
        allowed = paths | self._allowed
        self.close()
        self._con = duckdb_connect(allowed_paths=allowed, profiling=True)
        self._allowed = allowed
        return self._con

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
        self._allowed = frozenset()
        self._macros = set()

    # ----------------------------------------------------------------------------------
    def check(self, plan: QueryPlan) -> None:
        """Everything :meth:`execute` does before DuckDB reads a byte, reading nothing:
        the sandbox check, Trino's analysis and the rewrite, and DuckDB binding the
        result against empty views of the scanned tables. ``--dry-run`` calls it so that
        it refuses what a run would refuse.
        """
        from lakekit.duckdb_macros import install

        con = duckdb_connect()
        try:
            translation, _ = self._prepare(con, plan, [], empty=True)
            try:
                install(con, translation.macros, set())
                con.sql(translation.sql)
            except LakekitError:
                raise
            except Exception as ex:  # DuckDB raises many kinds; one line each
                raise _engine_error(ex, plan) from ex
        finally:
            con.close()

    # ----------------------------------------------------------------------------------
    def execute(self, plan: QueryPlan, *, timeout: float | None = None) -> EngineResult:
        """Run the plan's qualified statement on DuckDB over the files its scans kept."""
        from lakekit.duckdb_macros import install

        con = self._connection(_local_files(plan))
        counters: list[_CountingHandler] = []
        translation, views = self._prepare(con, plan, counters)
        try:
            install(con, translation.macros, self._macros)
        except BaseException:
            self._drop_views(con, views)
            raise
        duck_sql = translation.sql

        timer = None
        timed_out = threading.Event()
        if timeout is not None and timeout > 0:

            def _stop() -> None:
                timed_out.set()
                con.interrupt()

            timer = threading.Timer(timeout, _stop)
            timer.daemon = True
        started = time.perf_counter()
        try:
            if timer is not None:
                timer.start()
            table = con.sql(duck_sql).to_arrow_table()
            profile = con.get_profiling_information(format="json")
        except KeyboardInterrupt:
            con.interrupt()
            raise QueryCancelled("query cancelled (interrupted); nothing more was read") from None
        except Exception as ex:  # DuckDB raises many kinds; one line each
            if timed_out.is_set():
                raise QueryTimeout(f"query did not finish within {timeout:g} s and was cancelled") from ex
            message = first_line(ex)
            if _REFUSAL in message:  # a refusal raised while running (a value only the data shows)
                construct = message.split("Error: ", 1)[-1].split(_REFUSAL)[0].strip()
                raise NotSupportedLocally(construct or "this query") from ex
            raise _engine_error(ex, plan) from ex
        finally:
            if timer is not None:
                timer.cancel()
            self._drop_views(con, views)
        seconds = time.perf_counter() - started
        # DuckDB counts what it reads from local files; reads through pyarrow's native S3
        # file system are counted by nobody, so a query over S3 reports no figure, not 0.
        bytes_read = None if counters else _bytes_read(profile)
        from lakekit.sql.trino.arrow import shape_result

        return EngineResult(
            table=shape_result(table, translation.columns),
            bytes_scanned=bytes_read,
            seconds=seconds,
            engine_seconds=seconds,
        )

    @staticmethod
    def _drop_views(con, views: Sequence[str]) -> None:
        for view in views:
            with contextlib.suppress(Exception):  # cleanup must not mask the query's error
                if "_arrow_" in view:
                    con.unregister(view)  # an S3 dataset registered from Python
                else:
                    con.execute(f"DROP VIEW IF EXISTS {_quote(view)}")

    def _prepare(self, con, plan: QueryPlan, counters: list, *, empty: bool = False):
        """Views for the plan's scans and the translation over them; with ``empty``, views
        of the right columns and types that read nothing. Returns (translation, views made)."""
        from lakekit.sql.trino import translate

        statement = plan.statement
        if not isinstance(statement, (exp.Query, exp.Values)):
            kind = str(statement.this) if isinstance(statement, exp.Command) else statement.key
            raise UsageError(
                f"the local engine runs queries (SELECT, WITH, VALUES), not {kind.upper()}; "
                "use --engine athena for DDL and INSERT"
            )
        # Checked here too: a plan may come from elsewhere than plan_query.
        refuse_outside_reads(statement)
        made: list[str] = []
        views: list[str] = []
        tables: dict[str, dict[str, str]] = {}
        try:
            for i, scan_plan in enumerate(plan.plans):
                view = f"lakekit_scan_{i}"
                try:
                    if empty:
                        self._create_empty_view(con, view, scan_plan)
                        made.append(view)
                    else:
                        made += self._create_view(con, view, scan_plan, counters)
                except LakekitError:
                    raise
                except Exception as ex:  # DuckDB opens the files' footers when a view is made
                    raise _engine_error(ex, plan) from ex
                views.append(view)
                columns = {c.name: c.type for c in (*scan_plan.table.columns, *scan_plan.table.partition_keys)}
                tables[view] = {**columns, **{k: v for k, v in PSEUDO_COLUMNS.items() if k not in columns}}
            translation = translate(name_outputs_as_athena(_with_views(statement, plan.plans, views)), tables, plan.sql)
        except BaseException:
            self._drop_views(con, made)
            raise
        return translation, made

    # ----------------------------------------------------------------------------------
    def _create_empty_view(self, con, view: str, plan: ScanPlan) -> None:
        table = plan.table
        columns = [(c.name, duckdb_type(c.type)) for c in (*table.columns, *table.partition_keys)]
        columns += [(name, _PSEUDO_DUCKDB_TYPES[name]) for name in sorted(_pseudo_columns(plan))]
        select = ", ".join(f"CAST(NULL AS {kind}) AS {_quote(name)}" for name, kind in columns)
        con.execute(f"CREATE OR REPLACE TEMP VIEW {_quote(view)} AS SELECT {select} WHERE false")

    def _create_view(self, con, view: str, plan: ScanPlan, counters: list) -> list[str]:
        """Create ``view`` over the scan's files; returns every view made (to drop after)."""
        files = list(plan.files)
        if not files:
            self._create_empty_view(con, view, plan)
            return [view]
        if any(is_s3(f.uri) for f in files):
            return self._create_s3_view(con, view, plan, counters)
        table = plan.table
        pseudo = _pseudo_columns(plan)
        facts = _local_file_facts(plan) if pseudo else {}
        keys = [k.name for k in table.partition_keys]
        if not keys:
            uris = [f.uri for f in files]
            body = f"SELECT *{_file_columns(pseudo, uris, facts)} FROM read_parquet({_list(uris)}, union_by_name=true)"
        elif all(_hive_path_agrees(f.uri, keys, f.partition_values) for f in files):
            uris = [f.uri for f in files]
            types = ", ".join(f"{_literal(k.name)}: {duckdb_type(k.type)}" for k in table.partition_keys)
            body = (
                f"SELECT *{_file_columns(pseudo, uris, facts)} FROM read_parquet({_list(uris)}, "
                f"hive_partitioning=true, hive_types={{{types}}}, union_by_name=true)"
            )
        else:
            # Locations that are not key=value folders: one branch per partition.
            groups: OrderedDict[tuple[str, ...], list[str]] = OrderedDict()
            for f in files:
                groups.setdefault(tuple(f.partition_values), []).append(f.uri)
            branches = []
            for values, uris in groups.items():
                branches.append(f"SELECT *{_partition_columns(table, values)}{_file_columns(pseudo, uris, facts)} "
                                f"FROM read_parquet({_list(uris)}, union_by_name=true)")
            body = " UNION ALL BY NAME ".join(branches)
        con.execute(f"CREATE OR REPLACE TEMP VIEW {_quote(view)} AS {_with_absent_columns(body, plan)}")
        return [view]

    def _create_s3_view(self, con, view: str, plan: ScanPlan, counters: list) -> list[str]:
        import pyarrow.dataset as ds

        native = s3_filesystem(self._session)
        handler = _CountingHandler(native)
        counters.append(handler)
        # DuckDB scans the datasets on its own threads: through a Python file-system
        # handler those threads call back into Python while pyarrow's I/O pool waits on
        # them, and a query over S3 could hang for good (seen under a 16-way ingest).
        # So the scan reads through pyarrow's native S3 file system, and the counting
        # handler serves only the footers and file facts read here, on this thread.
        fs = native
        table = plan.table
        pseudo = _pseudo_columns(plan)
        facts = _s3_file_facts(plan, handler) if pseudo else {}
        # one dataset per partition; per file when the query reads the files' own columns
        groups: OrderedDict[tuple, list[str]] = OrderedDict()
        for f in plan.files:
            key = (tuple(f.partition_values), f.uri if pseudo else None)
            groups.setdefault(key, []).append(f.uri)
        tables = []
        try:
            for (values, _), uris in groups.items():
                dataset = ds.dataset([u[len("s3://"):] for u in uris], filesystem=fs, format="parquet")
                tables.append((values, uris, dataset))
        except (OSError, pa.ArrowException) as ex:
            raise EngineError(f"cannot open the files of {table.qualified_name} on S3: {first_line(ex)}") from ex
        branches = []
        made = []
        for i, (values, uris, dataset) in enumerate(tables):
            name = f"{view}_arrow_{i}"
            con.register(name, dataset)
            made.append(name)
            constants = _file_constants(pseudo, uris[0], facts) if pseudo else ""
            branches.append(f"SELECT *{_partition_columns(table, values)}{constants} FROM {_quote(name)}")
        body = " UNION ALL BY NAME ".join(branches)
        con.execute(f"CREATE OR REPLACE TEMP VIEW {_quote(view)} AS {_with_absent_columns(body, plan)}")
        return [view, *made]


# -- Athena's hidden columns: "$path", "$file_size", "$file_modified_time" ----------------------
_PSEUDO_DUCKDB_TYPES = {"$path": "VARCHAR", "$file_size": "BIGINT", "$file_modified_time": "TIMESTAMPTZ"}


def _pseudo_columns(plan: ScanPlan) -> set[str]:
    """The hidden columns this scan's query reads."""
    wanted = set(plan.scan.columns) & set(PSEUDO_COLUMNS)
    clash = {c.name for c in plan.table.columns} & {"file_index"}
    if wanted and clash:
        raise UsageError(f"{plan.table.qualified_name} has a column named file_index, which hides the file "
                         f"number {', '.join(sorted(wanted))} is computed from; run it with --engine athena")
    return wanted


def _local_file_facts(plan: ScanPlan) -> dict[str, tuple[int, int]]:
    """uri -> (size, modification time in ms), as the file is now."""
    facts: dict[str, tuple[int, int]] = {}
    gone = []
    for f in plan.files:
        try:
            st = os.stat(f.uri)
        except FileNotFoundError:
            gone.append(f.uri)
            continue
        facts[f.uri] = (st.st_size, st.st_mtime_ns // 1_000_000)
    if gone:
        raise CatalogOutOfDate.for_files(plan.table.qualified_name, gone)
    return facts


def _s3_file_facts(plan: ScanPlan, handler: _CountingHandler) -> dict[str, tuple[int, int]]:
    infos = handler.get_file_info([f.uri[len("s3://"):] for f in plan.files])
    facts: dict[str, tuple[int, int]] = {}
    gone = []
    for f, info in zip(plan.files, infos):
        if info.type == pafs.FileType.NotFound:
            gone.append(f.uri)
            continue
        mtime = info.mtime_ns // 1_000_000 if info.mtime_ns is not None else None
        facts[f.uri] = (info.size, mtime)
    if gone:
        raise CatalogOutOfDate.for_files(plan.table.qualified_name, gone)
    return facts


def _file_columns(pseudo: set[str], uris: list[str], facts: dict[str, tuple[int, int]]) -> str:
    """The hidden columns of rows read by one ``read_parquet(uris)``, looked up by DuckDB's
    ``file_index`` (the position of the row's file in ``uris``)."""
    if not pseudo:
        return ""
    index = "CAST(file_index AS BIGINT) + 1"
    out = []
    if "$path" in pseudo:
        out.append(f"list_extract({_list(uris)}, {index}) AS \"$path\"")
    if "$file_size" in pseudo:
        sizes = "[" + ", ".join(str(facts[u][0]) for u in uris) + "]::BIGINT[]"
        out.append(f"list_extract({sizes}, {index}) AS \"$file_size\"")
    if "$file_modified_time" in pseudo:
        times = "[" + ", ".join(str(facts[u][1]) for u in uris) + "]::BIGINT[]"
        out.append(f"CAST(epoch_ms(list_extract({times}, {index})) AS TIMESTAMPTZ) AS \"$file_modified_time\"")
    return ", " + ", ".join(out)


def _file_constants(pseudo: set[str], uri: str, facts: dict[str, tuple[int, int]]) -> str:
    """The hidden columns of rows read from the one file ``uri``, as constants."""
    size, mtime = facts[uri]
    values = {
        "$path": _literal(uri),
        "$file_size": f"CAST({size} AS BIGINT)",
        "$file_modified_time": f"CAST(epoch_ms(CAST({mtime} AS BIGINT)) AS TIMESTAMPTZ)" if mtime is not None
        else "CAST(NULL AS TIMESTAMPTZ)",
    }
    return "".join(f", {values[name]} AS {_quote(name)}" for name in sorted(pseudo))


def _local_files(plan: QueryPlan) -> frozenset[str]:
    """The local files the plan reads: the only ones its DuckDB connection may open."""
    return frozenset(f.uri for scan in plan.plans for f in scan.files if not is_s3(f.uri))


def _engine_error(ex: Exception, plan: QueryPlan) -> LakekitError:
    """DuckDB's failure as lakekit's error: a missing file points at ``catalog sync``."""
    import duckdb

    if isinstance(ex, (duckdb.PermissionException, duckdb.IOException)):
        # A file of the plan that is gone: DuckDB then tries the name as a folder, which
        # its sandbox refuses, or fails to open it.
        for scan in plan.plans:
            gone = [f.uri for f in scan.files if not is_s3(f.uri) and not os.path.exists(f.uri)]
            if gone:
                return CatalogOutOfDate.for_files(scan.table.qualified_name, gone)
    if isinstance(ex, duckdb.PermissionException):
        # The SQL check let something through that DuckDB's sandbox stopped.
        return OutsideRead(f"the query tried to reach outside the lake ({first_line(ex)}); "
                           "the local engine reads only the lake's tables (FROM db.table)")
    if isinstance(ex, (duckdb.BinderException, duckdb.CatalogException)):
        # DuckDB cannot bind what the transpile gave it (a function it lacks, other
        # argument types): the query may well be valid Athena SQL.
        return UsageError(f"the local engine cannot run this query ({first_line(ex)}); "
                          "if Athena accepts it, run it with --engine athena")
    return QueryFailed(f"local engine (DuckDB): {first_line(ex)}")


def _with_views(statement: exp.Expression, plans: Sequence[ScanPlan], views: Sequence[str]) -> exp.Expression:
    """A copy of ``statement`` whose scanned tables read the given views instead.

    The scans' nodes belong to ``statement``; a copy has the same shape, so walking
    both in step finds each node's twin in the copy.
    """
    copy = statement.copy()
    wanted = {id(p.scan.node): (view, p.scan.alias) for p, view in zip(plans, views)}
    twins = [(dup, wanted[id(orig)]) for orig, dup in zip(statement.walk(), copy.walk()) if id(orig) in wanted]
    if len(twins) != len(wanted):
        raise EngineError("internal error: a scan's table is not part of the planned statement")
    for node, (view, alias) in twins:
        replacement = exp.Table(this=exp.to_identifier(view, quoted=True),
                                alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True)))
        if node.args.get("sample") is not None:  # TABLESAMPLE stays with its table
            replacement.set("sample", node.args["sample"])
        node.replace(replacement)
    return copy


def _with_absent_columns(body: str, plan: ScanPlan) -> str:
    """Add, as NULLs, catalog columns that none of the scan's files holds.

    A column added by a later ingest is missing from older files; Athena reads it as
    NULL there. DuckDB's ``union_by_name`` fills it in when at least one file has it;
    when none does (the statistics say which columns each file holds), add it here.
    """
    if not plan.files or any(not f.row_groups for f in plan.files):
        return body  # a file without row groups lists no columns: cannot tell
    present = {name for f in plan.files for rg in f.row_groups for name in rg.columns}
    absent = [c for c in plan.table.columns if c.name not in present]
    if not absent:
        return body
    extra = ", ".join(f"CAST(NULL AS {duckdb_type(c.type)}) AS {_quote(c.name)}" for c in absent)
    return f"SELECT *, {extra} FROM ({body})"


def _list(uris) -> str:
    return "[" + ", ".join(_literal(u) for u in uris) + "]"


def _hive_path_agrees(uri: str, keys: list[str], values: Sequence[str]) -> bool:
    """Whether ``uri``'s ``key=value`` folders carry exactly the catalog's values."""
    found = hive_values(uri)
    return all(found.get(k) == v for k, v in zip(keys, values)) and set(found) == set(keys)


def _bytes_read(profile: str | None) -> int:
    if not profile:
        return 0
    try:
        data = json.loads(profile)
    except ValueError:
        return 0
    io = data.get("io") or {}
    value = io.get("total_bytes_read")
    return int(value) if isinstance(value, (int, float)) else 0


class _CountingHandler(pafs.FileSystemHandler):
    """A read-only pyarrow file-system handler that counts the bytes read through it."""

    def __init__(self, fs) -> None:
        super().__init__()
        self._fs = fs
        self.bytes_read = 0
        self._lock = threading.Lock()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _CountingHandler) and other._fs == self._fs

    def __ne__(self, other: object) -> bool:
        return not self == other

    def get_type_name(self) -> str:
        return "lakekit-counting"

    def normalize_path(self, path: str) -> str:
        return self._fs.normalize_path(path)

    def get_file_info(self, paths):
        return self._fs.get_file_info(paths)

    def get_file_info_selector(self, selector):
        return self._fs.get_file_info(selector)

    def open_input_file(self, path: str):
        return pa.PythonFile(_CountingFile(self._fs.open_input_file(path), self), mode="r")

    def open_input_stream(self, path: str):
        return pa.PythonFile(_CountingFile(self._fs.open_input_stream(path), self), mode="r")

    def _add(self, n: int) -> None:
        with self._lock:
            self.bytes_read += n

    # a query only reads: every writing operation is refused
    def _read_only(self, *args: Any, **kwargs: Any) -> None:
        raise OSError("the local engine opens the lake read-only")

    create_dir = delete_dir = delete_dir_contents = delete_root_dir_contents = _read_only
    delete_file = move = copy_file = open_output_stream = open_append_stream = _read_only


class _CountingFile:
    def __init__(self, f, handler: _CountingHandler) -> None:
        self._f = f
        self._handler = handler
        self.closed = False

    def read(self, n: int = -1) -> bytes:
        data = self._f.read() if n is None or n < 0 else self._f.read(n)
        self._handler._add(len(data))
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._f.seek(offset, whence)

    def tell(self) -> int:
        return self._f.tell()

    def size(self) -> int:
        return self._f.size()

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True
        self._f.close()
