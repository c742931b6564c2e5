"""Safe fixes as text edits: the file keeps its formatting and comments around a change.

A fix never re-renders the SQL: it inserts text at token boundaries found with
sqlglot's tokenizer (comments are not tokens, so a comment after a condition stays
after it), and only where the meaning of the statement is kept. Edits of one file
are applied from its end, so earlier offsets stay valid.

>>> text = "SELECT a FROM t\\nWHERE x > 1 -- recent\\nGROUP BY a"
>>> import sqlglot
>>> select = sqlglot.parse_one(text, read="athena")
>>> print(apply_edits(text, [append_conjunct(text, select, "year = '2024'")]))
SELECT a FROM t
WHERE x > 1 AND year = '2024' -- recent
GROUP BY a
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.tokens import Token, TokenType

#: tokens that end a WHERE clause (or a FROM clause) at parenthesis depth 0
_CLAUSE_ENDS = {
    TokenType.GROUP_BY, TokenType.ORDER_BY, TokenType.LIMIT, TokenType.HAVING, TokenType.WINDOW,
    TokenType.UNION, TokenType.INTERSECT, TokenType.EXCEPT, TokenType.QUALIFY, TokenType.SEMICOLON,
    TokenType.FETCH, TokenType.OFFSET,
}


@dataclass(frozen=True, order=True)
class TextEdit:
    """Replace ``text[start:end]`` with ``replacement`` (``start == end``: an insertion)."""

    start: int
    end: int
    replacement: str


def apply_edits(text: str, edits: Sequence[TextEdit]) -> str:
    """``text`` with the edits applied; overlapping edits are refused."""
    ordered = sorted(edits)
    for before, after in zip(ordered, ordered[1:]):
        if after.start < before.end:
            raise ValueError(f"overlapping edits at {after.start}")
    for edit in reversed(ordered):
        text = text[: edit.start] + edit.replacement + text[edit.end:]
    return text


def _tokens(text: str) -> list[Token]:
    from sqlglot.dialects.athena import Athena

    return Athena().tokenize(text)


def _leaf_starts(node: exp.Expression) -> list[int]:
    return [n.meta["start"] for n in node.walk() if n.meta and "start" in n.meta]


def _clause_end(tokens: list[Token], first: int) -> int:
    """Index of the last token of the clause starting at ``tokens[first]``."""
    depth = 0
    last = first - 1
    for i in range(first, len(tokens)):
        token = tokens[i]
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
            if depth < 0:
                break  # closes the subquery this clause belongs to
        elif depth == 0 and token.token_type in _CLAUSE_ENDS:
            break
        last = i
    return last


def append_conjunct(text: str, select: exp.Select, predicate: str) -> TextEdit | list[TextEdit]:
    """The edit(s) that add ``AND predicate`` to ``select``'s WHERE (or a WHERE when it has none).

    ``select`` must be a node of ``text`` parsed by sqlglot (its tokens carry offsets).
    A WHERE whose top is an ``OR`` is parenthesised first, so the new conjunct bounds
    all of it.
    """
    tokens = _tokens(text)
    where = select.args.get("where")
    if where is not None:
        starts = _leaf_starts(where.this)
        if not starts:
            raise ValueError("the WHERE clause has no position in the text")
        first = next(i for i, t in enumerate(tokens) if t.start >= min(starts))
        keyword = max(i for i in range(first) if tokens[i].token_type == TokenType.WHERE)
        last = _clause_end(tokens, keyword + 1)
        start, end = tokens[keyword + 1].start, tokens[last].end + 1
        if isinstance(where.this, exp.Or):
            return [TextEdit(start, start, "("), TextEdit(end, end, f") AND {predicate}")]
        return TextEdit(end, end, f" AND {predicate}")
    from_ = select.args.get("from_") or select.args.get("from")
    starts = _leaf_starts(from_) if from_ is not None else []
    if not starts:
        raise ValueError("the SELECT has no FROM clause to bound")
    first = next(i for i, t in enumerate(tokens) if t.start >= min(starts))
    keyword = max(i for i in range(first) if tokens[i].token_type == TokenType.FROM)
    last = _clause_end(tokens, keyword + 1)
    end = tokens[last].end + 1
    return TextEdit(end, end, f" WHERE {predicate}")


def edits_of(result: TextEdit | list[TextEdit]) -> list[TextEdit]:
    return result if isinstance(result, list) else [result]
