# Two entry points: `make run` and `make test` (and `make test-fast`, the loop while changing code).
# All create .venv and install on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run check test test-fast bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit("Python >= 3.11 is required, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The sandbox page's card renderer comes from the npm registry, pinned and checked (sandbox/assets.py).
$(STAMP): pyproject.toml sandbox/assets.py | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m sandbox.assets
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/python run_bot.py

# Lint and format, types, the layering (import-linter contracts in pyproject.toml).
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The checks, then two test processes, one per core of the machines it runs on, tests spread by
# file; then, alone, the test that restarts PostgreSQL under everyone's feet.
test: check
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "not serial"
	$(BIN)/python -m pytest -m serial

# The fast tier (tests/conftest.py marks it): in process, SQLite only, no real HTTP, fewer
# generated examples where a test leaves their count to the profile. Under a minute on two cores.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m fast --hypothesis-profile=fast

# The comparison library of bench/sla.py is installed for the benchmark only, pinned.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet businesstimedelta==1.0.1
	$(BIN)/python bench/sla.py
	$(BIN)/python bench/command_cost.py
	$(BIN)/python bench/webhook.py
	$(BIN)/python bench/broadcast.py
	$(BIN)/python bench/paging.py --rate 10
	$(BIN)/python bench/paging.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache .import_linter_cache sandbox/static/vendor tests/browser/artefacts
