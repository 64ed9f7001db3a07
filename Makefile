# The README quick start: `make run` (the main job) and `make test` (lint, types, import contracts, tests).
# Each target creates/updates the local virtualenv by itself.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test test-slow venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/clobsim run scenarios/ --out reports/latest --report

# lint, format, types (core strictly), the import contracts, then the tests on every core
# (pytest-xdist); the long explorations are `make test-slow`, which CI runs too (.ci/run)
test: $(STAMP)
	$(VENV)/bin/ruff check core sim tests
	$(VENV)/bin/ruff format --check core sim tests
	$(VENV)/bin/mypy --strict -p core
	$(VENV)/bin/mypy -p sim
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -n auto -m "not slow"

test-slow: $(STAMP)
	$(PY) -m pytest -n auto -m slow

clean:
	rm -rf $(VENV) reports/latest logs
