# 和美社区 — everyday commands. `make run` starts the portal on one machine with nothing
# installed but Python (SQLite + kombu's filesystem broker under var/); set DATABASE_URL /
# REDIS_URL (see .env.example) to use PostgreSQL and Redis instead.

VENV     := .venv
PY       := $(VENV)/bin/python
STAMP    := $(VENV)/.installed
PYTHON   ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
I18N_IGNORE := --ignore ".venv/*" --ignore "static/vendor/*" --ignore "tests/*" --ignore "bench/*" --ignore "var/*"
PYTEST_ARGS ?=
UV_VERSION := 0.13.10

.DEFAULT_GOAL := help
.PHONY: help venv run test lint typecheck fmt messages migrations-check migrations-lint bench

help:
	@echo "make venv              create .venv and install requirements-dev.txt (only when they changed)"
	@echo "make run               migrate, seed the demo district, start web + Celery worker + beat"
	@echo "make test              run the whole test suite (PYTEST_ARGS=... passes options to pytest)"
	@echo "make lint / fmt        ruff check + format check / apply ruff fixes and formatting"
	@echo "make typecheck         mypy (django-stubs, DRF stubs) on baohe/ and the apps' services and selectors"
	@echo "make messages          update and compile the English translation"
	@echo "make migrations-check  fail when a model change has no migration"
	@echo "make migrations-lint   fail on a backward-incompatible migration not reviewed (PostgreSQL: DATABASE_URL)"
	@echo "make bench             district-scale data on PostgreSQL + load benchmarks (BENCH_ARGS=... passes options)"

# --- virtualenv: created once, reinstalled only when a requirements file is newer than the stamp
venv: $(STAMP)

$(PY):
	@if command -v uv >/dev/null 2>&1; then uv venv --seed --python $(PYTHON) $(VENV); else $(PYTHON) -m venv $(VENV); fi

# The packages go in with uv (parallel downloads, a shared wheel cache: seconds instead of minutes
# on a second checkout): the one on PATH, else one installed into .venv by pip first. Byte-compiled
# at install, as pip does (a machine with PYTHONDONTWRITEBYTECODE would otherwise compile them in
# every process).
$(STAMP): requirements.txt requirements-dev.txt | $(PY)
	@uv=$$(command -v uv || true); \
	if [ -z "$$uv" ]; then \
		$(PY) -m pip install --disable-pip-version-check --quiet uv==$(UV_VERSION) && uv=$(VENV)/bin/uv; \
	fi; \
	echo "$$uv pip install -r requirements-dev.txt"; \
	"$$uv" pip install --compile-bytecode --python $(PY) -r requirements-dev.txt
	touch $(STAMP)

# --- run the portal: web server, worker and beat together; Ctrl-C stops all three
run: venv
	$(PY) manage.py migrate --no-input
	@if command -v msgfmt >/dev/null 2>&1; then \
		$(PY) manage.py compilemessages $(I18N_IGNORE) || echo "compilemessages failed; using the committed .mo files"; \
	else \
		echo "msgfmt not found (gettext); using the committed .mo files"; \
	fi
	$(PY) manage.py seed_baohe
	bin/run-dev

test: venv
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: venv
	$(VENV)/bin/mypy

fmt: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

messages: venv
	$(PY) manage.py makemessages -l en $(I18N_IGNORE)
	$(PY) manage.py compilemessages $(I18N_IGNORE)

migrations-check: venv
	$(PY) manage.py makemigrations --check --dry-run

migrations-lint: venv
	$(PY) manage.py lint_migrations

# --- benchmarks (not part of `make test`): PostgreSQL at BENCH_POSTGRES (default
# postgres://postgres@127.0.0.1:5432); seeds bench_100k and bench_1m with `seed_baohe --scale
# district`, serves them with gunicorn, loads them on loopback, prints the table and writes it
# into bench/README.md (JSON in bench/results/, git-ignored). See bench/README.md.
BENCH_ARGS ?=
bench: venv
	$(PY) bench/run.py $(BENCH_ARGS)
