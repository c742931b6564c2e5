"""Trino's documented answers, and a comparison of the local engine's results with them.

Each ``*.yaml`` file here holds the examples of one page of Trino's documentation
(``source:``, a path in trinodb/trino), or the queries of an issue. A case is one
query with the answer Trino documents for it:

``sql``
    the query, in Athena's dialect.
``result`` + ``type``
    a one-row, one-column answer: the value and its Trino type (as ``typeof`` spells it).
``columns`` + ``types`` + ``rows``
    a table answer; rows compare in order when the query ends in ``ORDER BY`` (or
    ``ordered: true``), as a multiset otherwise.
``error``
    Trino fails the query (the fragment is Trino's message); the local engine must
    fail it too, never answer.
``refused``
    the local engine refuses the query on purpose (exit 2): the fragment must be in its
    message, which also names ``--engine athena``. The Trino answer stays recorded.
``basis``
    where the answer comes from when the page states a rule rather than an example.
``session_zone``
    the answer depends on the session time zone; Athena's is UTC.
``doc_note``
    where the page contradicts itself and which part the case follows.

Values are written as Trino prints them: decimals as strings (``'1.20'``), dates,
times and timestamps as text (``'2012-08-10'``, ``'2012-10-30 18:00:00.000
America/Los_Angeles'``), intervals as ``'2 03:00:00.000'`` or ``'3-5'``, varbinary as
hex bytes (``'61 62 63'``), maps as mappings, rows as lists (positional), JSON as its
text. Nothing here is computed by lakekit or DuckDB.
"""
