"""The two ways the local engine turns a query down before it runs.

* :class:`~lakekit.errors.TrinoTypeError`: Athena itself rejects the query (``'='
  cannot be applied to varchar, integer``); the query is wrong everywhere.
* :class:`~lakekit.errors.NotSupportedLocally`: valid Athena SQL that the local engine
  cannot answer exactly as Athena would, so it refuses rather than answer differently.
"""

from __future__ import annotations

from lakekit.errors import NotSupportedLocally, TrinoTypeError

__all__ = ["NotSupportedLocally", "TrinoTypeError", "not_supported"]


def not_supported(construct: str, reason: str | None = None) -> NotSupportedLocally:
    """The refusal for ``construct``: raise the result.

    >>> str(not_supported("format('%x')", "Java format strings"))
    "format('%x') is not supported by the local engine (Java format strings); run it with --engine athena"
    """
    return NotSupportedLocally(construct, reason)
