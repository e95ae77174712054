# commwatch — developer and demo targets. Everything installs into ./.venv.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
CONFIG ?= config

.PHONY: setup run test lint install clean

$(BIN)/commwatch: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/commwatch

setup: $(BIN)/commwatch  ## create .venv and install commwatch with its test tools

run: setup  ## run the daemon on the shipped config (SQLite in ./var, notices to ./var/outbox)
	$(BIN)/commwatch check-config -c $(CONFIG)
	$(BIN)/commwatch run -c $(CONFIG)

test: setup  ## the whole test suite (real peers where installed; CI=true makes missing peers fail)
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: setup  ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

install:  ## install as a systemd service (root): see deploy/install.sh
	./deploy/install.sh

clean:
	rm -rf $(VENV) var build *.egg-info
