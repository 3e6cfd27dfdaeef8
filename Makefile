# SPM Dashboard — `make run` serves the demo, `make test` runs the whole suite.
# Both create .venv with a Python >= 3.12 found on this machine (or PYTHON=/path/to/python).

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      ?= .venv
BIN       := $(VENV)/bin
STAMP     := $(VENV)/.installed
DEMO_PRODUCTS ?= 120
DEMO_MONTHS   ?= 12
HOST      ?= 127.0.0.1
PORT      ?= 8000
TEST_WORKERS ?= 2

# Candidates, best first: an explicit PYTHON, then versioned commands, then pyenv's installs, then python3.
# Each is run to check its version, so a pyenv shim that is not selected (and fails) is skipped.
define find_python
for candidate in $(PYTHON) python3.13 python3.12 \
    $$(ls -d "$$(pyenv root 2>/dev/null || echo $$HOME/.pyenv)"/versions/3.1[2-9]*/bin/python 2>/dev/null | sort -rV) \
    /usr/local/bin/python3 /usr/bin/python3 python3; do \
  if "$$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then \
    command -v "$$candidate" 2>/dev/null || echo "$$candidate"; exit 0; \
  fi; \
  if [ -n "$(PYTHON)" ] && [ "$$candidate" = "$(PYTHON)" ]; then \
    echo "PYTHON=$(PYTHON) is not a Python >= 3.12 (Django 6 needs it)." >&2; exit 1; \
  fi; \
done; exit 1
endef

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@py="$$($(find_python))" || { \
	  echo "error: SPM Dashboard needs Python 3.12 or newer (Django 6), and none was found." >&2; \
	  echo "       Install one (e.g. 'pyenv install 3.12' or your system's python3.12 package)," >&2; \
	  echo "       or point at it: make $(MAKECMDGOALS) PYTHON=/path/to/python3.12" >&2; exit 1; }; \
	if [ ! -x "$(BIN)/python" ] || ! "$(BIN)/python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)'; then \
	  echo "Creating $(VENV) with $$py ($$($$py --version))"; rm -rf "$(VENV)"; "$$py" -m venv "$(VENV)"; \
	fi
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip uv
	@echo "Installing dependencies into $(VENV)"
	@$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]'
	@touch $(STAMP)

.PHONY: install
install: $(STAMP) ## Create .venv and install the project with its dev/test extra

.PHONY: migrate
migrate: $(STAMP)
	@$(BIN)/python manage.py migrate --no-input -v 0

.PHONY: demo
demo: migrate ## Seed the demo portfolio when the database is empty
	@$(BIN)/python manage.py seed_demo --if-empty --products $(DEMO_PRODUCTS) --months $(DEMO_MONTHS) --seed 1

.PHONY: run
run: demo ## Set up and serve the dashboard at http://127.0.0.1:8000 (SQLite, Celery eager)
	@echo ""
	@echo "  SPM Dashboard: http://$(HOST):$(PORT)/  (another port: make run PORT=8101)"
	@echo ""
	@$(BIN)/python manage.py runserver $(HOST):$(PORT)

.PHONY: browser-deps
browser-deps: ## Install Debian's Chromium for the browser tests when it is missing (needs root and apt)
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "note: /usr/bin/chromium is missing and cannot be installed here: browser tests will be skipped"; fi

# axe-core (the accessibility test and make audit) and Lighthouse, pinned in bench/audit/package-lock.json.
AUDIT_STAMP := bench/audit/node_modules/.installed
$(AUDIT_STAMP): bench/audit/package-lock.json
	@if ! command -v npm >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian's nodejs and npm for the browser audits"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; fi
	@if command -v npm >/dev/null; then \
	  echo "Installing axe-core and Lighthouse into bench/audit/node_modules"; \
	  npm ci --prefix bench/audit --no-audit --no-fund --loglevel=error && touch $(AUDIT_STAMP); \
	else echo "note: npm is missing: the accessibility test is skipped and make audit cannot run"; fi

.PHONY: audit-deps
audit-deps: $(AUDIT_STAMP)

.PHONY: test
test: $(STAMP) browser-deps audit-deps ## Set up and run the whole suite (PostgreSQL/Redis tests skip when DATABASE_URL/CELERY_BROKER_URL are unset)
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/lint-imports --no-cache || { echo "error: an import breaks the layers of docs/ARCHITECTURE.md (pyproject.toml [tool.importlinter])" >&2; exit 1; }
	@$(BIN)/python manage.py makemigrations --check --dry-run -v 0 || { echo "error: models changed without a migration" >&2; exit 1; }
	@$(BIN)/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

.PHONY: lint
lint: $(STAMP) ## ruff check and format
	@$(BIN)/ruff check --fix .
	@$(BIN)/ruff format .

.PHONY: serve
serve: $(STAMP) ## Production shape without Docker: gunicorn + Celery worker + beat on local PostgreSQL and Redis
	@bash bench/serve.sh

.PHONY: clean
clean: ## Remove the virtualenv, the SQLite database and collected static files
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm staticfiles

.PHONY: bench
bench: $(STAMP) ## Benchmark pages, partials, rollups and seeding on the 1M-measurement portfolio (BENCH_PG=1 for PostgreSQL)
	@$(BIN)/python bench/run.py

.PHONY: load
load: $(STAMP) ## Load test the production stack (make serve) at 10, 50, 100 users on the 1M portfolio; LOAD_DURATION=30 s each
	@$(BIN)/python bench/load.py

.PHONY: faults
faults: $(STAMP) ## Stop Redis, SIGKILL a worker, restart PostgreSQL under load, run a slow query: print what held up
	@$(BIN)/python bench/faults.py

.PHONY: audit
audit: $(STAMP) browser-deps audit-deps ## axe-core, console/CSP and Lighthouse scores of every main page in headless Chromium
	@$(BIN)/python bench/audit.py

.PHONY: screenshots
screenshots: $(STAMP) browser-deps ## Retake the README tour's screenshots (docs/screenshots/)
	@$(BIN)/python bench/audit.py --screenshots
