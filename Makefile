# Local set-up and day-to-day commands. `make run` and `make test` do all the set-up.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
PORT ?= 5000

.PHONY: install run test benchmark lint migrate demo-user redis stop-workers cancel-running-tasks \
	cancel-scheduled-tasks cancel-all-tasks reconcile clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "backtick needs Python 3.11 or newer"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

redis: install
	$(PY) scripts/local_redis.py

migrate: install
	mkdir -p var/static
	$(MANAGE) migrate --noinput

demo-user: migrate
	PORT=$(PORT) $(MANAGE) create_demo_user

run: install redis migrate demo-user
	PORT=$(PORT) $(VENV)/bin/honcho start -f Procfile

test: install
	scripts/ensure_chromium.sh
	$(PY) -m pytest $(PYTEST_ARGS)

benchmark: install
	LOG_LEVEL=WARNING $(PY) -m pytest benchmarks/admin_changelist.py benchmarks/admin_actions.py \
		-m benchmark -s -q

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

stop-workers: install
	$(MANAGE) stop_workers

cancel-running-tasks: install
	$(MANAGE) cancel_running_tasks

cancel-scheduled-tasks: install
	$(MANAGE) cancel_scheduled_tasks

cancel-all-tasks: cancel-scheduled-tasks cancel-running-tasks

reconcile: install
	$(MANAGE) reconcile_tasks

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
