# Two commands do all set-up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
BENCH_STAMP := $(VENV)/.installed-bench-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test lint typecheck unit bench browser imap clean demo

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $@

# the bench extra (SpiffWorkflow, the peer measured beside the engine) on top of the test one;
# $(STAMP) removes this stamp too, so a changed pyproject.toml reinstalls both
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	@rm -f $(VENV)/.installed-bench-*
	@touch $@

## run: the live demo on the embedded defaults: scheduler + web app on http://127.0.0.1:8000,
##      SQLite under var/, mail as files (ARGS="--speed 1d" for one virtual day per second)
run: $(STAMP)
	$(BIN)/python run_scheduler.py --demo --web $(ARGS)

## browser: make sure Debian's chromium is there for the Playwright tests
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }

## imap: make sure Debian's dovecot-imapd is there for the inbox tests (the tests start their own
##       throw-away server; the system's dovecot is never configured or started)
imap:
	@command -v dovecot >/dev/null 2>&1 || { \
	  echo "Installing Debian's dovecot-imapd for the inbox tests"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq dovecot-imapd >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq dovecot-imapd >/dev/null; fi; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

## test: lint, type-check and the whole test suite (SQLite; PostgreSQL too when AFTALEFLOW_TEST_DATABASE_URL is set)
test: $(STAMP) browser imap lint typecheck
	$(BIN)/python -m pytest

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit -q

## bench: the performance suite; writes bench/RESULTS.md
bench: $(BENCH_STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
