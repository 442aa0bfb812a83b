# One command for the whole quality bar: `make check`.
PY ?= .venv/bin/python
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: install demo test test-postgres lint typecheck check bench

.venv/bin/python:
	python3 -m venv .venv

install: .venv/bin/python
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"

demo: install
	.venv/bin/aispend demo

test: install
	$(PY) -m pytest -q -n auto

test-postgres: install
	AISPEND_TEST_DATABASE_URL=$(PG_URL) $(PY) -m pytest -q -n auto

lint: install
	$(PY) -m ruff check src tests bench
	$(PY) -m ruff format --check src tests bench

typecheck: install
	$(PY) -m mypy

check: lint typecheck test test-postgres

bench: install
	$(PY) bench/ingest.py
	$(PY) bench/backfill.py
