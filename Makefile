# brs5-energy: `make run` starts everything locally, `make test` runs the tests; both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test migrate psql bench lint db-start db-stop install uninstall upgrade status backup restore

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
	$(BIN)/python -m db.migrate $(if $(filter 1 yes true,$(DROP_DEPENDENTS)),--drop-dependents)

psql: $(INSTALLED)
	$(BIN)/python -m db.cluster psql

db-start db-stop: $(INSTALLED)
	$(BIN)/python -m db.cluster $(subst db-,,$@)

bench: $(INSTALLED)
	$(BIN)/python -m stack.system test
	$(BIN)/python -m tests.bench

# Services on a home server (README "Install on a Raspberry Pi"): as root, or they print the commands to run.
install uninstall upgrade: $(INSTALLED)
	$(BIN)/python -m stack.services $@

status: $(INSTALLED)
	$(BIN)/python -m stack.status

# make backup [RAW=1]: a dated pg_dump of everything that cannot be rebuilt (raw readings with RAW=1)
backup: $(INSTALLED)
	$(BIN)/python -m stack.backup dump $(if $(filter 1 yes true,$(RAW)),--raw)

# make restore FILE=...: load a dump into an empty database (DATABASE_URL), then migrate it
restore: $(INSTALLED)
	@test -n "$(FILE)" || { echo "usage: make restore FILE=path/to/energy-....dump" >&2; exit 2; }
	$(BIN)/python -m stack.backup restore "$(FILE)"

lint: $(INSTALLED)
	$(BIN)/ruff check .
