"""Settings: command-line flag > ``LAKEKIT_*`` environment variable > ``lakekit.toml``
(or ``[tool.lakekit]`` in ``pyproject.toml``) > built-in default.

>>> s = resolve_settings(warehouse="/tmp/lake", env={}, cwd="/nonexistent")
>>> s.warehouse, s.catalog, s.engine
('/tmp/lake', 'local', 'local')
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

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
        return self.warehouse.startswith("s3://")

    def local_catalog_path(self) -> str:
        if self.catalog_path:
            return self.catalog_path
        if self.is_s3:
            return os.path.join(".lakekit", "catalog.db")
        return os.path.join(self.warehouse, "_lakekit", "catalog.db")


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
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike | None = None,
    **flags: Any,
) -> Settings:
    """Resolve settings; ``flags`` are command-line values, ``None`` meaning "not given"."""
    env = os.environ if env is None else env
    file_conf = load_config_file(cwd)
    known = {f.name for f in fields(Settings)}
    unknown = set(flags) - known
    if unknown:
        raise TypeError(f"unknown settings: {sorted(unknown)}")
    values: dict[str, Any] = {}
    for name in known:
        if flags.get(name) is not None:
            values[name] = flags[name]
        elif name in ENV_VARS and env.get(ENV_VARS[name]):
            values[name] = env[ENV_VARS[name]]
        elif name in file_conf:
            values[name] = file_conf[name]
    if "lint" in values and not isinstance(values["lint"], Mapping):
        raise UsageError("[lint] in lakekit.toml must be a table")
    settings = Settings(**values)
    if settings.catalog not in CATALOG_KINDS:
        raise UsageError(f"unknown catalog {settings.catalog!r}; use one of {', '.join(CATALOG_KINDS)}")
    if settings.engine not in ENGINE_KINDS:
        raise UsageError(f"unknown engine {settings.engine!r}; use one of {', '.join(ENGINE_KINDS)}")
    try:
        price = float(settings.price_per_tb)
    except (TypeError, ValueError) as ex:
        raise UsageError(f"price_per_tb must be a number, not {settings.price_per_tb!r}") from ex
    if price < 0:
        raise UsageError("price_per_tb must not be negative")
    return settings
