"""lakekit's errors: one base class, one subclass per kind of failure.

Every error carries the process exit code SPEC assigns to its kind, so the CLI maps
errors to exit codes in one place and library users can catch by kind.
"""

from __future__ import annotations


class LakekitError(Exception):
    """Base of every error lakekit raises on purpose. Its message is one line."""

    exit_code = 4


class UsageError(LakekitError):
    """A flag, argument or setting is wrong; the message says which and what to use."""

    exit_code = 2


class InputError(LakekitError):
    """Input data that stops a command as a whole (not a single bad record)."""

    exit_code = 2


class UnsafeNameError(InputError):
    """A table name or partition value that could escape its table's folder."""


class TableNotFound(UsageError):
    """The catalog has no such table."""


class RejectLimitExceeded(LakekitError):
    """More records were rejected than ``--max-rejects`` allows; nothing was committed."""

    exit_code = 1


class NothingWritten(LakekitError):
    """Every record was rejected: nothing was committed and no source recorded as done."""

    exit_code = 1


class BudgetExceeded(LakekitError):
    """A query's estimated cost is over ``--max-cost``; it was not run."""

    exit_code = 3


class CatalogError(LakekitError):
    """The catalog (local SQLite or AWS Glue) failed."""


class CommitOutcomeUnknown(CatalogError):
    """The commit point's reply was lost: the commit may or may not have landed. Its
    files are kept; the next writer's recovery finishes it or removes it."""


class CatalogOutOfDate(CatalogError):
    """The catalog lists files or partitions that storage no longer holds (deleted
    outside lakekit); ``lakekit catalog sync`` brings the catalog up to date.

    Exit 4, not 2: the query and its flags are right; the catalog and the storage
    disagree, which SPEC counts among catalog and storage errors.
    """

    @classmethod
    def for_files(cls, table: str, uris: list[str]) -> CatalogOutOfDate:
        """The one message for a table whose catalogued files are gone.

        >>> print(*str(CatalogOutOfDate.for_files("lake.t", ["/w/t/a.parquet"])).split("; "), sep="\\n")
        1 file the catalog lists for lake.t is gone from storage (/w/t/a.parquet)
        run `lakekit catalog sync lake.t` to bring the catalog up to date
        """
        count = f"{len(uris)} file the catalog lists for {table} is" if len(uris) == 1 else \
            f"{len(uris):,} files the catalog lists for {table} are"
        example = uris[0] if len(uris) == 1 else f"e.g. {uris[0]}"
        return cls(f"{count} gone from storage ({example}); "
                   f"run `lakekit catalog sync {table}` to bring the catalog up to date")


class StorageError(LakekitError):
    """Reading or writing the warehouse's storage failed."""


class EngineError(LakekitError):
    """The query engine (DuckDB or Athena) failed to run a query."""


class QueryFailed(EngineError):
    """The engine ran the query and it failed; the message carries the engine's reason."""


class QueryCancelled(EngineError):
    """The query was cancelled (by the user or the engine) before it finished."""


class QueryTimeout(EngineError):
    """The query did not finish within the allowed time and was cancelled."""


def first_line(ex: BaseException) -> str:
    """An exception's first non-empty line, for one-line messages (its type when empty).

    >>> first_line(ValueError("bad value\\n  detail")), first_line(KeyError())
    ('bad value', 'KeyError')
    """
    lines = [line.strip() for line in str(ex).splitlines() if line.strip()]
    return lines[0] if lines else type(ex).__name__


class TrinoTypeError(UsageError):
    """A type error Athena (Trino) reports before running a query (``'=' cannot be applied
    to varchar, integer``); the query is wrong on every engine."""


class NotSupportedLocally(UsageError):
    """Valid Athena SQL the local engine cannot answer exactly as Athena would: refused,
    never answered differently. The message names the construct and ``--engine athena``."""

    def __init__(self, construct: str, reason: str | None = None) -> None:
        self.construct = construct
        self.reason = reason
        why = f" ({reason})" if reason else ""
        super().__init__(f"{construct} is not supported by the local engine{why}; run it with --engine athena")
