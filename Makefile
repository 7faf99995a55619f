# brs5-energy: `make run` starts everything locally, `make test` runs the tests; both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test migrate psql bench lint db-start db-stop

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: $(INSTALLED)
	$(BIN)/python -m stack.system run
	$(BIN)/python -m stack.run

test: $(INSTALLED)
	$(BIN)/python -m stack.system test
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

migrate: $(INSTALLED)
	$(BIN)/python -m stack.system run
	$(BIN)/python -m db.migrate

psql: $(INSTALLED)
	$(BIN)/python -m db.cluster psql

db-start db-stop: $(INSTALLED)
	$(BIN)/python -m db.cluster $(subst db-,,$@)

bench: $(INSTALLED)
	$(BIN)/python -m stack.system test
	$(BIN)/python -m tests.bench

lint: $(INSTALLED)
	$(BIN)/ruff check .
