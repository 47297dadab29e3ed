# govflow — two commands: `make run` (demo) and `make test` (the suite).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: run test install lint migrate demo demo-reset serve worker clean chromium browser-test docs

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

## make run: install, migrate the embedded SQLite database, load the demo, serve on :8000
## (web + Celery worker + beat over the filesystem transport, started by honcho)
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo
	$(PY) manage.py log_verifier_key > var/log.vkey
	test -f var/witness.key || $(PY) -m govflow.witness keygen --name demo.govflow/witness --out var/witness.key >/dev/null
	echo "http://127.0.0.1:7380 $$($(PY) -m govflow.witness vkey --key var/witness.key)" > var/witnesses.txt
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" PORT=$(PORT) $(VENV)/bin/honcho -f Procfile.dev start

## make demo-reset: start the demo over (the embedded SQLite database, its media and broker
## files; keys in var/ are kept). Stop `make run` first. PostgreSQL: drop and create the
## database instead (its audit log is append-only by design: nothing deletes it).
VAR ?= var
demo-reset: install
	@if [ -n "$$DATABASE_URL" ]; then echo "demo-reset: DATABASE_URL is set; drop and create that database instead (dropdb; createdb), then make run" >&2; exit 1; fi
	rm -rf $(VAR)/govflow.sqlite3 $(VAR)/media $(VAR)/broker $(VAR)/celerybeat-schedule* $(VAR)/cache
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo

## make docs: regenerate the reference pages under docs/reference/ from the code
docs: install
	$(PY) manage.py docs_reference

## make test: install, then ruff, mypy (config in pyproject.toml) and pytest
## (DATABASE_URL / CELERY_BROKER_URL select real services)
test: install chromium
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) -m pytest

## make chromium: Debian's Chromium for the console's browser tests (Playwright drives it;
## no browser is downloaded), and Pango, which WeasyPrint needs to render the release
## dossier as PDF. Needs root and apt; elsewhere the browser tests skip.
chromium:
	@if [ -x /usr/bin/chromium ] && ldconfig -p | grep -q libpangoft2-1.0; then \
		echo "chromium: $$(/usr/bin/chromium --version 2>/dev/null); pango: present"; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core; \
	else echo "chromium/pango: not installed and cannot install (no root/apt): browser and PDF tests will fail or skip"; fi

## make browser-test: only the Playwright tests of the console, against a live server
browser-test: install chromium
	$(PY) -m pytest -m browser

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

clean:
	rm -rf var $(VENV) .pytest_cache .ruff_cache
