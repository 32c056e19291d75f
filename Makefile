# The two commands a newcomer needs: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: run test lint format clean drill mutation

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# Stamps re-run pip only when a requirements file changes.
$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

# ensure_admin prints the admin's password on the run that creates the account only.
# The links pages carry (canonical, JSON-LD) name this server unless NEWSROOM_SITE_URL is set.
run: $(VENV)/.runtime
	$(PY) manage.py migrate --noinput
	$(PY) manage.py ensure_admin --port $(PORT)
	$(PY) manage.py import_explainers --publish --reviewed-by admin explainers/demo/explainer-seed.txt
	NEWSROOM_SITE_URL=$${NEWSROOM_SITE_URL:-http://127.0.0.1:$(PORT)} $(PY) manage.py runserver 127.0.0.1:$(PORT)

test: $(VENV)/.dev
	$(PY) -m pytest $(PYTEST_ARGS)

# Mutation testing of the rules that matter most (docs/testing.md): slow, so not part of CI.
# MUTATION_MODULES="workflow guards" runs some of them; mutation/<name>.toml lists them all.
mutation: $(VENV)/.dev
	nice -n 10 $(PY) mutation/run.py $(MUTATION_MODULES)

# The failure drill (bench/drill.py): the production topology on loopback while parts fail.
drill: $(VENV)/.runtime
	$(PY) bench/drill.py $(DRILL_ARGS)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

format: $(VENV)/.dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache
