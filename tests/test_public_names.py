"""No function shadows a module: the package's modules import by their dotted names, and
the API's functions of the same spelling stay functions."""

from __future__ import annotations

import importlib
import inspect
import types

import pytest

import lakekit


@pytest.mark.parametrize("module", ["lakekit.ingestion.pipeline", "lakekit.ingestion.commit", "lakekit.plan.partitions",
                                    "lakekit.plan.query_plan", "lakekit.engines.local", "lakekit.catalog.glue"])
def test_modules_import_by_their_dotted_names(module):
    assert isinstance(importlib.import_module(module), types.ModuleType)


@pytest.mark.parametrize("name", ["ingest", "query", "estimate", "lint_query", "lint_layout", "crawl", "sync", "open_lake"])
def test_the_api_names_are_functions(name):
    assert inspect.isfunction(getattr(lakekit, name))


def test_a_module_attribute_can_be_patched_by_its_dotted_path(monkeypatch):
    monkeypatch.setattr("lakekit.ingestion.commit.recover", lambda *a, **k: "patched")
    from lakekit.ingestion import commit

    assert commit.recover() == "patched"
