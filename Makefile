# The README's two commands: `make reproduce` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: reproduce test unit install clean-cache

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(STAMP)

install: $(STAMP)

# Executes every notebook and regenerates reports/ (figures, HTML, claims).
reproduce: $(STAMP)
	$(BIN)/python run_all.py

# Unit tests, then nbval over the committed notebooks with an empty result cache,
# so every number in them is recomputed.
test: $(STAMP)
	UGC_NO_PROGRESS=1 UGC_CACHE_DIR=$$(mktemp -d) $(BIN)/python -m pytest -q tests \
		--nbval notebooks --nbval-sanitize-with notebooks/nbval_sanitize.cfg

# The unit suite alone (under a minute).
unit: $(STAMP)
	UGC_NO_PROGRESS=1 UGC_CACHE_DIR=$$(mktemp -d) $(BIN)/python -m pytest -q tests

clean-cache:
	rm -rf $${HOME}/.cache/ugc_lib
