"""The ``lakekit`` command: click, and nothing else.

Each command parses its flags, calls one library function, and prints the result.
Library errors become one-line messages with the exit code SPEC gives their kind;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click

from lakekit.errors import LakekitError, first_line


def unexpected_error_line(ex: BaseException) -> str:
    """The one line for an exception lakekit did not raise on purpose (exit 4)."""
    first = first_line(ex) if str(ex).strip() else ""
    return f"unexpected {type(ex).__name__}: {first} (run with --debug for details)"


def _fail(ctx: click.Context, line: str, exit_code: int) -> None:
    """Print the error line (after the traceback under ``--debug``) and exit with its code:
    ``--debug`` shows more, it never changes what a script sees in ``$?``."""
    if ctx.obj and ctx.obj.get("debug"):
        import traceback

        traceback.print_exc(file=sys.stderr)
    click.echo(f"error: {line}", err=True)
    ctx.exit(exit_code)


class LakekitGroup(click.Group):
    """Turns lakekit errors (and stray exceptions) into one line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LakekitError as ex:
            _fail(ctx, str(ex), ex.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)
        except BrokenPipeError:
            # `lakekit rules | head`: the reader left; that is not an error. Point stdout
            # at devnull so the interpreter's final flush does not complain either.
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(0)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as ex:  # noqa: BLE001 - last line of defence: never a traceback
            _fail(ctx, unexpected_error_line(ex), 4)


@click.group(cls=LakekitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.version_option(package_name="lakekit")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """lakekit: turn raw records into a partitioned Parquet lake, query it with SQL,
    know what each query costs before it runs, and lint queries and layouts.

    \b
    Example:
      lakekit sample events --rows 10000 > events.jsonl
      lakekit ingest events.jsonl --table analytics.events --timestamp-column ts
      lakekit query "SELECT count(*) FROM analytics.events WHERE year = '2024'" --estimate-cost
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


# -- shared options -------------------------------------------------------------------
def json_option(f: Callable) -> Callable:
    """``--json``; a command that then fails or refuses still prints one JSON document:
    what it knows (an exception's ``known`` dict, e.g. the estimate of a refused query)
    plus ``"error": {"exit_code", "message"}``. The error line still goes to stderr."""
    import functools

    @functools.wraps(f)
    def command(*args: Any, **kwargs: Any) -> Any:
        if not kwargs.get("as_json"):
            return f(*args, **kwargs)
        emitted = _emitted[0]
        try:
            return f(*args, **kwargs)
        except LakekitError as ex:
            if _emitted[0] == emitted:  # a command that printed its own document said it all
                emit_json({**getattr(ex, "known", {}), "error": {"exit_code": ex.exit_code, "message": str(ex)}})
            raise
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt, BrokenPipeError):
            raise
        except Exception as ex:
            if _emitted[0] == emitted:
                emit_json({**getattr(ex, "known", {}), "error": {"exit_code": 4, "message": unexpected_error_line(ex)}})
            raise

    return click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")(command)


def lake_options(f: Callable) -> Callable:
    """``--warehouse`` and ``--catalog``, taken by every command that touches the lake."""
    f = click.option(
        "--catalog", type=click.Choice(["local", "glue"]), default=None,
        help="Catalog: local (SQLite in the warehouse) or glue. [env LAKEKIT_CATALOG]",
    )(f)
    f = click.option(
        "--warehouse", metavar="URI", default=None,
        help="Where table data lives: a folder or s3://bucket/prefix. [env LAKEKIT_WAREHOUSE; default ./lake]",
    )(f)
    return f


#: JSON documents printed by this process, so that a failing command's own document is not doubled
_emitted = [0]


def emit_json(data: Any) -> None:
    _emitted[0] += 1
    click.echo(json.dumps(data, indent=2, default=str))


def stderr_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _register() -> None:
    """Attach the command modules; each owns one family of commands."""
    import importlib

    for module in ("ingest", "tables", "sample", "query", "lint", "catalog", "compact", "history", "serverless"):
        mod = importlib.import_module(f"lakekit.cli.{module}")
        for command in getattr(mod, "COMMANDS", []):
            main.add_command(command)


_register()


def run() -> None:  # pragma: no cover - console script entry point
    main(prog_name="lakekit")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run())
