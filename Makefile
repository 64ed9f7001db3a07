# The README quick start: `make run` (the main job) and `make test` (the tests).
# Each target creates/updates the local virtualenv by itself.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/clobsim run scenarios/ --out reports/latest --report

test: $(STAMP)
	$(PY) -m pytest

clean:
	rm -rf $(VENV) reports/latest logs
