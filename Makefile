# ventanilla: `make demo` to try it, `make test` to check it. Everything else is optional.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean browser translations help

help:
	@echo "make demo   - install, load sample data into SQLite, serve http://127.0.0.1:8000"
	@echo "make test   - install and run the whole test suite (unit, integration, browser)"
	@echo "make lint   - ruff and mypy"
	@echo "make bench  - speed and memory benchmarks (prints figures)"

# The virtual environment with the package and its pinned dependencies.
.venv: $(STAMP)
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

# Debian packages the tests drive: Chromium for browser tests (Playwright's own download cannot
# work offline) and Dovecot, a real IMAP server for the e-mail connector's tests.
browser:
	@{ test -x /usr/bin/chromium && test -x /usr/sbin/dovecot; } || { \
	  echo "installing Debian's chromium and dovecot-imapd for the tests"; \
	  SUDO=$$(command -v sudo >/dev/null && [ "$$(id -u)" != 0 ] && echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium dovecot-imapd >/dev/null; }

demo: $(STAMP)
	$(BIN)/ventanilla demo --host 127.0.0.1 --port 8000

test: $(STAMP) browser
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: $(STAMP)
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

translations: $(STAMP)
	bash scripts/update_translations.sh

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
