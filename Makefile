# One command each: `make docs` serves the site, `make test` runs everything.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
export NO_MKDOCS_2_WARNING := 1

.PHONY: docs site test quick lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable '.[docs,test]'
	touch $@

docs: $(STAMP)  ## serve the site on http://127.0.0.1:8001 (dev_addr in mkdocs.yml), reloading on changes
	$(BIN)/mkdocs serve

site: $(STAMP)  ## strict build into site/
	$(BIN)/mkdocs build --strict --quiet

lint: $(STAMP)
	$(BIN)/ruff check examples tests tools docs/hooks

test: lint  ## everything: lint, docs checks, real Redis/Celery/SMTP, browser, coverage of examples/
	rm -rf .coverage-data
	$(BIN)/coverage run -m pytest -n 3 --dist loadfile $(PYTEST_ARGS)
	$(BIN)/coverage combine --quiet
	$(BIN)/coverage report

quick: lint  ## the edit loop: lint, then every test not marked slow, without coverage
	$(BIN)/python -m pytest -n 3 --dist loadfile -m "not slow" $(PYTEST_ARGS)

bench: $(STAMP)  ## the benchmark page's numbers, on this machine (private Redis and workers, ~2 min)
	$(BIN)/python tools/benchmark.py

clean:
	rm -rf site .coverage-data
