"""``python -m lakekit``: the same command as ``lakekit`` (used with ``-X importtime``)."""

if __name__ == "__main__":
    import sys

    from lakekit.cli import run

    sys.exit(run())
