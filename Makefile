# make up   - install, migrate, start the server and a worker with demo data
# make test - install and run every test (SQLite phase, then PostgreSQL phase)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)

.PHONY: install test up bench clean soak up-scale

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check -e .  # the SDK, importable from anywhere
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

test: install
	$(PY) tests/run.py

up: install
	$(PY) manage.py up

bench: install
	$(PY) bench/sdk_overhead.py

# Removes what the clone built and stored; never ~/.orchestrator (unsent events wait there).
clean:
	rm -rf $(VENV) test-results staticfiles build *.egg-info db.sqlite3 db.sqlite3-*

# make soak - load, faults mid-load, retention under load, hostile input; one table (a few minutes)
soak: install
	$(PY) -m tests.soak $(SOAK_ARGS)

# make up-scale - two Daphne processes and two Celery workers on PostgreSQL + Redis (docs/deploy.md)
up-scale: install
	$(PY) -m orchestrator.topology $(SCALE_ARGS)
