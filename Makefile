# commwatch — developer and demo targets. Everything installs into ./.venv.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
CONFIG ?= config

DIST   ?= dist

.PHONY: setup run test lint install clean dist acceptance

$(BIN)/commwatch: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/commwatch

setup: $(BIN)/commwatch  ## create .venv and install commwatch with its test tools

run: setup  ## run the daemon on the shipped config (SQLite in ./var, schema upgraded first; notices to ./var/outbox)
	$(BIN)/commwatch check-config -c $(CONFIG)
	$(BIN)/commwatch db upgrade -c $(CONFIG)
	$(BIN)/commwatch run -c $(CONFIG)

test: setup  ## the whole test suite from the source tree (real peers where installed; CI=true makes missing peers fail)
	$(BIN)/python -m pytest -q -rs -p no:cacheprovider --ignore=tests/acceptance

dist: setup  ## build the sdist and the wheel into ./dist
	rm -rf $(DIST)
	$(BIN)/python -m build --quiet --outdir $(DIST) .
	@ls -l $(DIST)

# The wheel goes into a fresh venv outside the checkout (removed afterwards), without
# test extras; the tests run from the source venv but only ever start that program.
acceptance: dist  ## install the wheel into a fresh venv (no extras) and run tests/acceptance against it
	@set -e; accept=$$(mktemp -d -t commwatch-acceptance.XXXXXX); \
	trap 'rm -rf "$$accept"' EXIT; \
	echo "acceptance: fresh venv $$accept/venv"; \
	$(PYTHON) -m venv "$$accept/venv"; \
	"$$accept/venv/bin/pip" install --quiet --disable-pip-version-check $(DIST)/commwatch-*.whl; \
	COMMWATCH_INSTALLED="$$accept/venv/bin/commwatch" \
	  $(BIN)/python -m pytest -q -rs -p no:cacheprovider tests/acceptance

lint: setup  ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

install:  ## install as a systemd service (root): see deploy/install.sh
	./deploy/install.sh

clean:
	rm -rf $(VENV) var build dist *.egg-info
