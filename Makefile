# The whole set-up: `make run` serves the site, `make test` runs every test.
VENV ?= .venv
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 5000
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test lint format browser clean translations translations-update vendor

# The mail sender runs beside the site and stops with it.
run: $(VENV)/.installed translations
	$(FLASK) db upgrade
	$(FLASK) petition seed
	$(FLASK) mail send --loop & sender=$$!; \
	trap 'kill $$sender 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

test: $(VENV)/.dev-installed browser node_modules/.installed translations
	$(PY) -m pytest $(PYTEST_ARGS)

# The message catalogs, compiled: .mo files are build products (not in git), made from the .po.
translations: $(VENV)/.installed
	$(VENV)/bin/pybabel compile -d translations

# After adding or changing strings: extract them (babel.cfg says where), merge them into each
# language's catalog, then translate what is new or marked fuzzy. `make test` fails until then.
translations-update: $(VENV)/.installed
	$(VENV)/bin/pybabel extract -F babel.cfg --project="Solidarity petitions" --no-wrap \
	  --add-location=file -o translations/messages.pot .
	$(VENV)/bin/pybabel update -i translations/messages.pot -d translations --no-wrap --ignore-obsolete

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

# Browser tests drive Debian's Chromium; install it when missing (needs root, as on CI).
browser:
	@test -x $(CHROMIUM) || { \
	  echo "installing chromium from Debian"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# axe-core, injected into pages by the accessibility tests.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The ALTCHA widget (package.json pins it), copied into static/ so that the site serves it itself:
# its CSP-strict build, its style sheet and the one worker the site's challenges use.
vendor: node_modules/.installed
	mkdir -p static/vendor/altcha/workers
	cp node_modules/altcha/dist/external/altcha.min.js node_modules/altcha/dist/external/altcha.css \
	  node_modules/altcha/LICENSE.txt static/vendor/altcha/
	cp node_modules/altcha/dist/workers/pbkdf2.js static/vendor/altcha/workers/

clean:
	rm -rf $(VENV) node_modules .pytest_cache
