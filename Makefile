# Quickstart: `make demo` runs the product against the sandboxes, `make test` runs the
# tests. Both create .venv and install what they need on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo test lint format bench sandbox messages lock clean

$(INSTALLED): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
		|| { echo "cobot-sevdesk needs Python 3.11 or newer as $(PYTHON)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

demo: $(INSTALLED)
	$(BIN)/cobot-sevdesk demo

sandbox: $(INSTALLED)
	$(BIN)/cobot-sevdesk sandbox

test: $(INSTALLED)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Benchmarks against the sandboxes (about 20 minutes); needs wrk and a local PostgreSQL.
bench: $(INSTALLED)
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; } \
		|| { echo "make bench needs wrk (apt-get install wrk)"; exit 1; }
	$(BIN)/python -m bench

# Update the translations (needs GNU gettext); the compiled .mo files are committed.
messages: $(INSTALLED)
	cd src/cobot_sevdesk && ../../$(BIN)/cobot-sevdesk makemessages -l de -l fr --no-location --no-obsolete -i "sandbox/*"
	cd src/cobot_sevdesk && ../../$(BIN)/cobot-sevdesk compilemessages

# Refresh the exact versions CI installs.
lock: $(INSTALLED)
	{ echo '# Exact versions CI and `make` install (pip install -c constraints.txt). Refresh with `make lock`.'; \
	  $(BIN)/pip freeze --exclude-editable; } > constraints.txt

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache test-artifacts
