# Comptoir — one command to run the shop, one to run the tests.
#   make run [PORT=5000] [HOST=127.0.0.1]  virtualenv + pinned requirements, migrate, demo data,
#                                          serve (development config, simulator on)
#   make admin EMAIL=you@example.com       create a dashboard account (asks for the password)
#   make test   the same set-up, then the whole test suite (TEST_DATABASE_URL for PostgreSQL)
#   make lint   ruff, mypy and import-linter (the rooms' layering);  make deploy-check  start it
#               the Heroku way and probe it
#   make requirements  re-pin requirements*.txt from requirements*.in (pip-tools)
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
export FLASK_APP = app.py

.PHONY: run test install install-dev db admin translations messages static lint requirements \
	deploy-check bench clean

# Anything that is not make run / make admin / the test suite runs the production config.
run db admin: export COMPTOIR_ENV ?= development
test: export COMPTOIR_ENV = testing

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
	$(BIN)/flask create-database
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --if-empty

run: db translations
	HOST=$(HOST) PORT=$(PORT) $(BIN)/flask run --host $(HOST) --port $(PORT)

# make admin EMAIL=owner@example.com [PASSWORD=…]: without PASSWORD it is asked twice. The
# password travels in the environment and is never printed (the recipe line is not echoed).
admin: db
	@test -n "$(EMAIL)" || { echo "usage: make admin EMAIL=owner@example.com" >&2; exit 2; }
	@echo "flask create-admin $(EMAIL)"
	@$(if $(PASSWORD),COMPTOIR_ADMIN_PASSWORD="$$ADMIN_PASSWORD_FROM_MAKE" ,)$(BIN)/flask create-admin "$(EMAIL)"
admin: export ADMIN_PASSWORD_FROM_MAKE = $(PASSWORD)

# Fingerprinted, compressed copies of static/ for production (bin/post_compile does it on Heroku).
static: install
	$(BIN)/python bin/build_static

test: install-dev translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

# Procfile's release line then its web line, with only what Heroku sets (see bin/deploy-check).
deploy-check: install translations
	bin/deploy-check

# After editing requirements.in / requirements-dev.in: pin everything again (UPGRADE=1 to upgrade).
requirements: install-dev
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links $(if $(UPGRADE),--upgrade) --output-file requirements.txt requirements.in
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links $(if $(UPGRADE),--upgrade) --output-file requirements-dev.txt requirements-dev.in

# make bench [QUICK=1]: prints tables (see bench/README.md); wrk is used when installed.
bench: install-dev
	$(BIN)/python bench/run.py $(if $(QUICK),--quick) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles instance/*.db instance/*.db-* translations/*/LC_MESSAGES/*.mo
