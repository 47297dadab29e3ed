# govflow — two commands: `make run` (demo) and `make test` (the suite).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: run test install lint migrate demo serve worker clean

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
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" PORT=$(PORT) $(VENV)/bin/honcho -f Procfile.dev start

## make test: install, then ruff and pytest (DATABASE_URL / CELERY_BROKER_URL select real services)
test: install
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf var $(VENV) .pytest_cache .ruff_cache
