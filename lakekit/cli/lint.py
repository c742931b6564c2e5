"""``lakekit lint query|layout`` and ``lakekit rules``: click, and nothing else."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from lakekit.cli import emit_json, json_option, lake_options


def _codes(values: tuple[str, ...]) -> list[str] | None:
    """``--select Q001,Q004 --select L`` -> ['Q001', 'Q004', 'L']; None when not given."""
    if not values:
        return None
    return [code.strip() for value in values for code in value.split(",") if code.strip()]


def lint_options(f: Callable) -> Callable:
    f = click.option(
        "--format", "fmt", type=click.Choice(["text", "json", "github", "sarif"]), default="text",
        show_default=True, help="Output: text (path:line:col: CODE name message), json, github annotations, sarif 2.1.0.",
    )(f)
    f = click.option("--ignore", multiple=True, metavar="CODES", help="Rule codes or prefixes to skip (Q009,L00).")(f)
    f = click.option("--select", multiple=True, metavar="CODES", help="Rule codes or prefixes to run (Q, L001, ALL).")(f)
    return f


def _report(result, fmt: str, as_json: bool) -> None:
    from lakekit.lint.formatters import format_fixed, render

    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    if result.fixed:
        click.echo(format_fixed(result.fixed), err=True)
    click.echo(render("json" if as_json else fmt, result.violations, result.rules))
    sys.exit(result.exit_code)


@click.group("lint")
def lint() -> None:
    """Find what makes queries and table layouts cost more than they must.

    Exit status: 0 clean, 1 findings, 2 usage or input error. `lakekit rules`
    explains every rule.

    \b
    Example:
      lakekit lint query queries/*.sql
      lakekit lint layout layouts/events.yaml lake/analytics/events analytics.events
    """


@lint.command("query")
@click.argument("sources", nargs=-1, required=True, metavar="FILE|SQL...")
@click.option("--table-stats", is_flag=True, help="Require the catalog: its partition keys, sizes (Q007) and columns (Q010).")
@click.option("--fix", is_flag=True, help="Rewrite the SQL files with the safe fixes (Q002: the partition predicate "
              "the timestamp range implies) and say what changed.")
@click.option("--max-cost", type=float, default=None, metavar="USD",
              help="Q011 over-budget: a statement whose estimate costs more than USD. [max_cost in [lint]]")
@click.option("--baseline", default=None, metavar="FILE",
              help="Q012 cost-increase: a file whose estimate is more than 10% above FILE's figure for it.")
@click.option("--write-baseline", default=None, metavar="FILE",
              help="Record this run's estimates (path -> bytes scanned) in FILE.")
@lint_options
@lake_options
@json_option
def lint_query(sources, table_stats, fix, max_cost, baseline, write_baseline, select, ignore, fmt,
               warehouse, catalog, as_json) -> None:
    """Lint SQL (Athena's dialect) with the query rules Q001-Q012.

    FILE|SQL: .sql files, folders (their .sql files), SQL text, or - for stdin.
    The catalog supplies partition keys, sizes and columns when one exists; without
    one, year/month/day/dt/date are assumed partition keys. With a catalog, findings
    say what fixing them saves a run, and --max-cost/--baseline make the linter a
    cost gate for CI. `-- noqa` or `-- noqa: Q001,Q004` at the end of a line
    silences findings on that line.

    \b
    Example:
      lakekit lint query queries/*.sql
      lakekit lint query "SELECT * FROM analytics.events" --select Q001,Q002
      lakekit lint query queries/ --format sarif > lint.sarif
      lakekit lint query queries/ --fix
      lakekit lint query queries/ --max-cost 0.05 --baseline lint-baseline.json
    """
    from lakekit.lake import open_lake

    items: list = []
    for source in sources:
        items.append(("<stdin>", sys.stdin.read()) if source == "-" else source)
    with open_lake(warehouse=warehouse, catalog=catalog) as lake:
        result = lake.lint_query(items, table_stats=table_stats, select=_codes(select), ignore=_codes(ignore),
                                 fix=fix, max_cost=max_cost, baseline=baseline, write_baseline=write_baseline)
    _report(result, fmt, as_json)


@lint.command("layout")
@click.argument("targets", nargs=-1, required=True, metavar="TARGET...")
@lint_options
@lake_options
@json_option
def lint_layout(targets, select, ignore, fmt, warehouse, catalog, as_json) -> None:
    """Lint table layouts with the layout rules L001-L011.

    TARGET: a layout file (layouts/*.yaml, checked before data exists), a local
    folder or s3:// prefix (listed; only Parquet footers are read), or a catalog
    table DB.TABLE (its storage is checked against the catalog's partitions).
    Thresholds come from [lint] in lakekit.toml (e.g. small_file_size = "64MiB").

    \b
    Example:
      lakekit lint layout layouts/*.yaml
      lakekit lint layout lake/analytics/events s3://bucket/raw/clicks/
      lakekit lint layout analytics.events --warehouse lake --format github
    """
    from lakekit.lake import open_lake

    with open_lake(warehouse=warehouse, catalog=catalog) as lake:
        result = lake.lint_layout(list(targets), select=_codes(select), ignore=_codes(ignore))
    _report(result, fmt, as_json)


@click.command("rules")
@click.argument("code", required=False)
@json_option
def rules(code: str | None, as_json: bool) -> None:
    """List the lint rules, or explain one (what it does, why it costs, what to write).

    \b
    Example:
      lakekit rules
      lakekit rules Q003
    """
    from lakekit.lint.rules import RULES, get_rule

    if code:
        rule = get_rule(code)
        if as_json:
            emit_json({"code": rule.code, "name": rule.name, "family": rule.family, "doc": rule.doc()})
        else:
            click.echo(rule.doc())
        return
    if as_json:
        emit_json([{"code": r.code, "name": r.name, "family": r.family, "summary": r.summary()} for r in RULES.values()])
        return
    width = max(len(r.name) for r in RULES.values())
    for rule in RULES.values():
        click.echo(f"{rule.code}  {rule.name:<{width}}  {rule.summary()}")


COMMANDS = [lint, rules]
