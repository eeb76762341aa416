# Comptoir — one command to run the shop, one to run the tests.
#   make run    virtualenv + pinned requirements, migrate, demo data, serve on :5000 (simulator on)
#   make test   the same set-up, then the whole test suite (TEST_DATABASE_URL for PostgreSQL)
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
export FLASK_APP = app.py

.PHONY: run test install install-dev db bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

db: install
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --if-empty

run: db
	$(BIN)/flask run --host $(HOST) --port $(PORT)

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# make bench [QUICK=1]: prints tables (see bench/README.md); wrk is used when installed.
bench: install-dev
	$(BIN)/python bench/run.py $(if $(QUICK),--quick) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance/*.db instance/*.db-*
