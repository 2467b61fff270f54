# The two commands of the README: `make run` and `make test`.
# Both install everything they need into .venv first (only when pyproject.toml changed).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test install bench

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

# The translations (locale/*/django.po) compiled to .mo, which git ignores:
# they are build output. msgfmt is Debian's gettext (apt-get install gettext).
# Without msgfmt the pages stay in English (the "-" goes on past the error).
install: $(VENV)/.installed
	-DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-compilemessages-only}" \
		$(PY) manage.py compilemessages --ignore '$(VENV)' --ignore var -v 0

# The embedded default: SQLite, django-q2 on the ORM broker, demo data,
# the web server and a worker together. Ctrl-C stops both. The first run
# writes var/local.env (DJANGO_DEBUG=true, this install's own random secret
# and audit keys); manage.py reads it, so commands run by hand match.
run: install
	$(PY) -m cvx_site.local_env --base-url "$${CVX_BASE_URL:-http://$(HOST):$(PORT)}"
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" HOST=$(HOST) PORT=$(PORT) \
		$(VENV)/bin/honcho --procfile Procfile.dev start

# The whole suite, on SQLite and on a throwaway PostgreSQL server.
test: install
	$(PY) scripts/test_all.py $(ARGS)

# Every benchmark on its own throwaway PostgreSQL; a table of ratios against targets.
bench: install
	$(PY) bench/run_all.py $(ARGS)
