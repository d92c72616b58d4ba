# Two commands on a fresh machine: `make run` (the app on SQLite, jobs inline, demo data) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install browsers pdf-libs services lint bench-seed bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,bench]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP) pdf-libs
	$(BIN)/zarts db upgrade
	$(BIN)/zarts demo-if-empty
	@# The scheduler runs beside the web server (reminders, report cadence, retries) and stops with it.
	$(BIN)/zarts schedule & trap 'kill $$! 2>/dev/null' EXIT INT TERM; \
	$(BIN)/zarts run --host 127.0.0.1 --port 5000

# Browser tests drive Debian's Chromium; install it when missing (needs root, as on CI).
browsers:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

# PDFs (WeasyPrint) need Pango, HarfBuzz and a system font; install them when missing (needs root, as on CI).
pdf-libs:
	@ldconfig -p | grep -q 'libpangoft2-1.0.so.0' && test -d /usr/share/fonts/truetype/dejavu || \
	  (apt-get update -qq && apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b \
	   libharfbuzz-subset0 libfontconfig1 fonts-dejavu-core >/dev/null)

# Two processes (each with its own PostgreSQL database and Redis keys), then the few tests that
# disturb shared services, alone.
test: $(STAMP) browsers pdf-libs
	$(BIN)/python -m pytest -n 2 -m "not serial" $(PYTEST_ARGS)
	$(BIN)/python -m pytest -m serial $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check zarts tests bench migrations
	$(BIN)/ruff format --check zarts tests bench migrations

clean:
	rm -rf $(VENV) instance .pytest_cache
