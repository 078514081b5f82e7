# One command each: `make docs` serves the site, `make test` runs everything.
# Both set themselves up: a .venv installed from requirements.lock, the generated source pages,
# and (for the tests) the system packages of tools/system-deps.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
LOCK    := requirements.lock
IMAGE_LOCK := requirements-image.lock
export NO_MKDOCS_2_WARNING := 1

.PHONY: docs site test quick includes mutants lint bench lock upgrade system-deps container-base source-pages clean section

# Exactly the locked versions; the project itself is not installed (nothing to import).
$(STAMP): $(LOCK)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# Every file's sha256 is in the lock: pip refuses a wheel whose bytes differ, and any
	# package the lock does not name.
	$(BIN)/python -m pip install --quiet --require-hashes --requirement $(LOCK)
	# The project itself, editable and without dependencies: mkdocs.yml names the diagrams'
	# fence format (docs/hooks/mermaid_svg.py) by module, so it must be importable.
	$(BIN)/python -m pip install --quiet --no-deps --editable .
	touch $@

# The lock: pyproject.toml's ranges resolved to exact versions, for every platform and
# Python >= 3.11, with the sha256 of every file each version publishes (--generate-hashes).
# `make lock` keeps the current pins where pyproject still allows them (run it after editing
# the dependencies); `make upgrade` moves every pin to the newest allowed. The image's lock is
# the subset the sandbox needs (every section's extra), at the same pins, with the same hashes.
lock upgrade:
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet 'uv>=0.9,<1'
	$(BIN)/uv pip compile pyproject.toml --all-extras --universal --python-version 3.11 \
	  --generate-hashes --no-header --quiet $(if $(filter upgrade,$@),--upgrade) --output-file $(LOCK)
	sed -i '1i # Exact versions of every dependency in pyproject.toml. Refresh: make lock (or make upgrade).' $(LOCK)
	PYTHONPATH=tools $(BIN)/python -c 'import sections; print(*sections.runtime_requirements(), sep="\n")' \
	  | $(BIN)/uv pip compile - --constraint $(LOCK) --universal --python-version 3.11 \
	  --generate-hashes --no-header --quiet --output-file $(IMAGE_LOCK)
	sed -i '1i # The sandbox image: every section'"'"'s extra, at the pins and hashes of $(LOCK). Refresh: make lock.' $(IMAGE_LOCK)

system-deps:
	tools/system-deps

# The container tests' base image, from Debian packages: minutes the first time on a machine,
# nothing after (tests/support/containers.py).
container-base: system-deps $(STAMP)
	PYTHONPATH=tests $(BIN)/python -m support.containers

source-pages: $(STAMP)  ## docs/source/: every example, tool and test as a page (git-ignored)
	$(BIN)/python tools/source_pages.py

docs: source-pages  ## serve the site on http://127.0.0.1:8008 (dev_addr in mkdocs.yml), reloading on changes
	$(BIN)/mkdocs serve

site: source-pages  ## strict build into site/
	$(BIN)/mkdocs build --strict --quiet

lint: $(STAMP)
	$(BIN)/ruff check examples tests tools docs/hooks

test: system-deps lint container-base  ## everything: lint, docs checks, real Redis/Celery/SMTP, browser, coverage of examples/
	rm -rf .coverage-data
	$(BIN)/coverage run -m pytest -n 3 --dist loadfile $(PYTEST_ARGS)
	$(BIN)/coverage combine --quiet
	$(BIN)/coverage report

# SECTION=<name> (a section of pyproject.toml's [tool.guide]): only its tests and the site's.
quick: system-deps lint  ## the edit loop: lint, then every test not marked slow, without coverage
	paths="$(if $(SECTION),$$($(BIN)/python tools/sections.py --tests $(SECTION)) tests/site)" && \
	  $(BIN)/python -m pytest -n 3 --dist loadfile -m "not slow" $$paths $(PYTEST_ARGS)

includes: $(STAMP) system-deps container-base  ## rewrite the figures pages quote (docs/_includes/) from one fresh run
	UPDATE_INCLUDES=1 $(BIN)/python -m pytest -n 3 --dist loadfile $(PYTEST_ARGS)
	UPDATE_INCLUDES=1 $(BIN)/python tools/mutants.py

mutants: $(STAMP) system-deps container-base  ## break each central claim (tests/mutants.toml) in a copy; its proof must fail
	$(BIN)/python tools/mutants.py $(MUTANTS_ARGS)

bench: system-deps $(STAMP)  ## the benchmark page's numbers, on this machine (private Redis and workers, ~2 min)
	$(BIN)/python tools/benchmark.py

# A new section, ready to fill in (tools/new_section.py says what it writes). Its cheat sheet
# comes from its pages as the build reads them, so it needs the project's Python.
section: $(STAMP)  ## make section NAME=testing TITLE="Testing" [QUESTIONS=41-46]
	$(BIN)/python tools/new_section.py --name "$(NAME)" --title "$(TITLE)" \
	  $(if $(QUESTIONS),--questions $(QUESTIONS))

# Everything a build or a test run writes, and nothing else (.venv stays).
clean:
	rm -rf site .cache docs/source .coverage-data build *.egg-info screenshots
