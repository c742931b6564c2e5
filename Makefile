# `make test` and `make demo` work on a fresh clone with only Python 3.11 installed:
# they create .venv when missing and install lakekit with its extras first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test demo bench bench-ingest docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[aws,dev]"
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

demo: $(STAMP)
	@rm -rf demo && mkdir -p demo
	$(BIN)/lakekit sample events --rows 200000 --days 30 > demo/events.jsonl
	$(BIN)/lakekit ingest demo/events.jsonl --layout layouts/events.yaml --warehouse demo/lake --target-file-size 4MiB
	$(BIN)/lakekit tables --warehouse demo/lake
	$(BIN)/lakekit describe analytics.events --warehouse demo/lake --partitions 5
	@if $(BIN)/lakekit query --help >/dev/null 2>&1; then \
		$(BIN)/lakekit query -f queries/daily_revenue.sql --estimate-cost --warehouse demo/lake; fi

# The benchmarks behind docs/performance.md (several minutes each).
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[aws,dev,bench]"
	$(BIN)/python benchmarks/ingest.py --records 2000000 --repeat 3
	$(BIN)/python benchmarks/estimate.py --runs 3
	$(BIN)/python benchmarks/catalog.py --repeat 3
	$(BIN)/python benchmarks/lint.py

# The ingest benchmark alone, as docs/performance.md reports it (about 15 minutes on
# a quiet 2-core machine); prints the table and writes it to ingest-report.md.
bench-ingest: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[aws,dev,bench]"
	$(BIN)/python benchmarks/ingest.py --records 2000000 --repeat 3 --out ingest-report.md

clean:
	rm -rf $(VENV) demo lake .lakekit
