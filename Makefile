# Comptoir — one command to run the shop, one to run the tests.
#   make run    virtualenv + pinned requirements, migrate, demo data, serve on :5000 (simulator on)
#   make test   the same set-up, then the whole test suite (TEST_DATABASE_URL for PostgreSQL)
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
export FLASK_APP = app.py

.PHONY: run test install install-dev db translations messages bench clean

# French catalogue: compiled here (and on Heroku by bin/post_compile), never committed as .mo.
PO = translations/fr/LC_MESSAGES/messages.po
MO = $(PO:.po=.mo)

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

$(MO): $(PO) | $(VENV)/.installed
	$(BIN)/pybabel compile --domain messages --directory translations
	touch $@

translations: $(MO)

# After changing customer-facing strings: re-extract, merge into the .po, then translate what is new.
messages: install
	$(BIN)/pybabel extract --mapping-file babel.cfg --keywords _l --keywords lazy_gettext \
		--no-location --sort-output --output-file translations/messages.pot .
	$(BIN)/pybabel update --input-file translations/messages.pot --output-dir translations \
		--width 100

db: install translations
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --if-empty

run: db translations
	$(BIN)/flask run --host $(HOST) --port $(PORT)

test: install-dev translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# make bench [QUICK=1]: prints tables (see bench/README.md); wrk is used when installed.
bench: install-dev
	$(BIN)/python bench/run.py $(if $(QUICK),--quick) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance/*.db instance/*.db-* translations/*/LC_MESSAGES/*.mo
