# Secretariat: every target does its own set-up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: demo test lint serve migrate install install-dev clean bench bench-impact

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# WeasyPrint (impact reports as PDF) needs Pango and a font; Debian-based machines get them here.
SYSTEM_LIBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-dejavu-core
.PHONY: system-libs
system-libs:
	@if ! ldconfig -p | grep -q "libpangoft2-1.0.so.0" || ! ldconfig -p | grep -q "libharfbuzz-subset.so.0" || ! fc-list 2>/dev/null | grep -qi dejavu; then \
		echo "Installing $(SYSTEM_LIBS) for PDF rendering"; \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $(SYSTEM_LIBS); \
		else sudo apt-get update -qq && sudo apt-get install -y -qq $(SYSTEM_LIBS); fi; \
	fi

$(VENV)/.installed: pyproject.toml | $(BIN)/python system-libs
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python system-libs
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make demo: create or upgrade instance/secretariat.db, load the demo network, serve on $(PORT)
demo: $(VENV)/.installed
	$(BIN)/secretariat db upgrade
	$(BIN)/secretariat seed demo
	$(BIN)/secretariat serve --port $(PORT)

migrate: $(VENV)/.installed
	$(BIN)/secretariat db upgrade

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

## make test: lint, the suite on SQLite, and again on $$SECRETARIAT_TEST_DATABASE_URL when set
test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	env -u SECRETARIAT_TEST_DATABASE_URL $(BIN)/pytest -q
	@if [ -n "$$SECRETARIAT_TEST_DATABASE_URL" ]; then \
		echo "== again on $$SECRETARIAT_TEST_DATABASE_URL"; \
		$(BIN)/pytest -q; \
	fi

## make bench: time the key pages on a generated network in a throw-away database (BENCH_ARGS="--members 2000")
bench: $(VENV)/.installed
	$(BIN)/python scripts/benchmark.py $(BENCH_ARGS)

## make bench-impact: time an impact report (figures, PDF, data pack) for a programme of 100 members
bench-impact: $(VENV)/.installed
	$(BIN)/python scripts/benchmark_impact.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build dist *.egg-info
