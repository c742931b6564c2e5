"""The two ways the local engine turns a query down before it runs.

* :class:`TrinoTypeError`: Athena itself rejects the query (``'=' cannot be applied to
  varchar, integer``); the message is Athena's, and the query is wrong everywhere.
* :class:`NotSupportedLocally`: the query is valid Athena SQL, but the local engine
  cannot answer it exactly as Athena would, so it refuses rather than answer
  differently; the message names the construct and says to use ``--engine athena``.
"""

from __future__ import annotations

from lakekit.errors import UsageError

__all__ = ["NotSupportedLocally", "TrinoTypeError", "not_supported"]


class TrinoTypeError(UsageError):
    """A type error Athena (Trino) reports at analysis time; the query cannot run anywhere."""


class NotSupportedLocally(UsageError):
    """Valid Athena SQL the local engine cannot run with Athena's semantics."""

    def __init__(self, construct: str, reason: str | None = None) -> None:
        self.construct = construct
        self.reason = reason
        why = f" ({reason})" if reason else ""
        super().__init__(f"{construct} is not supported by the local engine{why}; run it with --engine athena")


def not_supported(construct: str, reason: str | None = None) -> NotSupportedLocally:
    """The refusal for ``construct``: raise the result.

    >>> str(not_supported("format('%x')", "Java format strings"))
    "format('%x') is not supported by the local engine (Java format strings); run it with --engine athena"
    """
    return NotSupportedLocally(construct, reason)
