"""Settings: command-line flag > ``LAKEKIT_*`` environment variable > ``lakekit.toml``
(or ``[tool.lakekit]`` in ``pyproject.toml``) > built-in default.

>>> s = resolve_settings(warehouse="/tmp/lake", env={}, cwd="/nonexistent")
>>> s.warehouse, s.catalog, s.engine
('/tmp/lake', 'local', 'local')
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from lakekit import paths
from lakekit.errors import UsageError

#: setting name -> environment variable that overrides the config file.
ENV_VARS = {
    "warehouse": "LAKEKIT_WAREHOUSE",
    "catalog": "LAKEKIT_CATALOG",
    "engine": "LAKEKIT_ENGINE",
    "region": "LAKEKIT_REGION",
    "athena_output": "LAKEKIT_ATHENA_OUTPUT",
    "athena_workgroup": "LAKEKIT_ATHENA_WORKGROUP",
    "catalog_path": "LAKEKIT_CATALOG_PATH",
}

CATALOG_KINDS = ("local", "glue")
ENGINE_KINDS = ("local", "athena")


@dataclass(frozen=True)
class Settings:
    """Where the lake lives and what runs it. Build with :func:`resolve_settings`."""

    warehouse: str = "./lake"
    catalog: str = "local"
    engine: str = "local"
    region: str | None = None
    athena_output: str | None = None
    athena_workgroup: str = "primary"
    #: SQLite catalog file; default ``<warehouse>/_lakekit/catalog.db`` for a local
    #: warehouse and ``./.lakekit/catalog.db`` for an ``s3://`` one.
    catalog_path: str | None = None
    price_per_tb: float = 5.0
    #: the ``[lint]`` table of the config file, as written (select, ignore, thresholds).
    lint: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_s3(self) -> bool:
        return paths.is_s3(self.warehouse)

    def local_catalog_path(self) -> str:
        return self.catalog_path or paths.local_catalog_path(self.warehouse)


def load_config_file(cwd: str | os.PathLike | None = None) -> dict[str, Any]:
    """The ``lakekit.toml`` of ``cwd``, else its ``pyproject.toml``'s ``[tool.lakekit]``."""
    base = Path(cwd or os.getcwd())
    candidates = [(base / "lakekit.toml", None), (base / "pyproject.toml", ("tool", "lakekit"))]
    for path, section in candidates:
        if not path.is_file():
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as ex:
            raise UsageError(f"{path}: not valid TOML ({ex}); fix or remove the file") from ex
        for key in section or ():
            data = data.get(key, {})
        if data:
            return dict(data)
    return {}


def resolve_settings(
    *,
    settings: Settings | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike | None = None,
    **flags: Any,
) -> Settings:
    """The one settings merge: flag > ``LAKEKIT_*`` env > ``lakekit.toml`` > default.

    ``flags`` are command-line (or keyword-argument) values, ``None`` meaning "not
    given". ``settings``, when given, stands for everything below the flags (a
    caller that resolved them already): the flags still override it.

    >>> base = resolve_settings(warehouse="/tmp/a", env={}, cwd="/nonexistent")
    >>> resolve_settings(settings=base, warehouse="/tmp/b").warehouse
    '/tmp/b'
    """
    known = {f.name for f in fields(Settings)}
    unknown = set(flags) - known
    if unknown:
        raise TypeError(f"unknown settings: {sorted(unknown)}")
    given = {name: value for name, value in flags.items() if value is not None}
    if settings is not None:
        if not given:
            return settings
        return _checked(replace(settings, **given))
    env = os.environ if env is None else env
    file_conf = load_config_file(cwd)
    values: dict[str, Any] = {}
    for name in known:
        if name in given:
            values[name] = given[name]
        elif name in ENV_VARS and env.get(ENV_VARS[name]):
            values[name] = env[ENV_VARS[name]]
        elif name in file_conf:
            values[name] = file_conf[name]
    if "lint" in values and not isinstance(values["lint"], Mapping):
        raise UsageError("[lint] in lakekit.toml must be a table")
    return _checked(Settings(**values))


def _checked(settings: Settings) -> Settings:
    if settings.catalog not in CATALOG_KINDS:
        raise UsageError(f"unknown catalog {settings.catalog!r}; use one of {', '.join(CATALOG_KINDS)}")
    if settings.engine not in ENGINE_KINDS:
        raise UsageError(f"unknown engine {settings.engine!r}; use one of {', '.join(ENGINE_KINDS)}")
    check_price_per_tb(settings.price_per_tb, "price_per_tb")
    return settings


def check_price_per_tb(value: object, what: str = "--price-per-tb") -> float:
    """The price as a float, or a UsageError: NaN, infinity and negatives are refused,
    since with them no estimate can ever be over a budget (NaN compares false).

    >>> check_price_per_tb("5"), check_price_per_tb(0)
    (5.0, 0.0)
    >>> check_price_per_tb(float("nan"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    lakekit.errors.UsageError: --price-per-tb nan is not a price: give dollars per TB (2^40 bytes), a finite ...
    """
    import math

    try:
        price = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as ex:
        raise UsageError(f"{what} must be a number, not {value!r}") from ex
    if not math.isfinite(price) or price < 0:
        raise UsageError(
            f"{what} {value} is not a price: give dollars per TB (2^40 bytes), a finite number >= 0 (default 5.0)"
        )
    return price


def check_max_cost(value: float | None, what: str = "--max-cost") -> float | None:
    """A budget in dollars (``None``: no budget); NaN and negatives are refused.

    >>> check_max_cost(None), check_max_cost(0.5), check_max_cost(float("inf"))
    (None, 0.5, inf)
    """
    import math

    if value is None:
        return None
    if math.isnan(value) or value < 0:
        raise UsageError(f"{what} {value} is not a budget: give dollars, a number >= 0")
    return float(value)
