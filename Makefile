# Switchboard: `make dev` runs the platform locally, `make test` runs every check.
# Everything it needs beyond cargo and python3 is installed into project-local venvs under .venv/.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
MOTO_VENV := $(VENV)/moto
TOOLS_VENV := $(VENV)/tools
BENCH_VENV := $(VENV)/bench
SCHEMATHESIS_VENV := $(VENV)/schemathesis
CHECKOV_VENV := $(VENV)/checkov
export MOTO_PORT ?= 4566

.PHONY: help dev test bench bench-tools fmt lint unit-test e2e-test template-check venvs clean fuzz

help:
	@echo "make dev    - run every function, moto and the Meta sandbox locally"
	@echo "make test   - formatting, lints, unit, conformance and end-to-end tests, template checks"
	@echo "make bench  - webhook throughput vs pywa, bootstrap size; writes target/bench/report.json"

# moto, aws-sam-cli and pywa pin different boto3/pydantic versions: one venv each.
$(MOTO_VENV)/.installed: local/python/moto.txt
	$(PYTHON) -m venv $(MOTO_VENV)
	$(MOTO_VENV)/bin/pip install --quiet --disable-pip-version-check -r $<
	touch $@

$(TOOLS_VENV)/.installed: local/python/deploy-tools.txt
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/pip install --quiet --disable-pip-version-check -r $<
	touch $@

$(BENCH_VENV)/.installed: local/python/bench.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check -r $<
	touch $@

# schemathesis, for the API schema test (tests/tests/api_schema.rs) that e2e-test runs.
$(SCHEMATHESIS_VENV)/.installed: local/python/schemathesis.txt
	$(PYTHON) -m venv $(SCHEMATHESIS_VENV)
	$(SCHEMATHESIS_VENV)/bin/pip install --quiet --disable-pip-version-check -r $<
	touch $@

# checkov, for template-check; it pins its own versions of packages aws-sam-cli and cfn-lint
# also need, so it does not share their venv.
$(CHECKOV_VENV)/.installed: local/python/checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r $<
	touch $@

venvs: $(MOTO_VENV)/.installed $(TOOLS_VENV)/.installed $(SCHEMATHESIS_VENV)/.installed $(CHECKOV_VENV)/.installed

fmt:
	cargo fmt --all

# The fuzz targets (their own workspace, see fuzz) are linted here too: they build the API's
# state and call the parsers, so a change there that breaks `make fuzz` fails `make test`. They
# share this workspace's target directory, where most of their dependencies are already checked.
lint:
	cargo fmt --all -- --check
	cargo fmt --manifest-path fuzz/Cargo.toml --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	cargo clippy --manifest-path fuzz/Cargo.toml --bins --locked --target-dir target -- -D warnings

# The host's target triple, named explicitly: cargo-lambda (under `sam build`) always passes
# --target, and a test build made for the same explicit triple is one it can reuse instead of
# compiling the whole workspace a second time.
HOST_TARGET := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')

# Unit, conformance and end-to-end tests share one moto server, started and stopped here;
# every end-to-end test provisions its own uniquely-prefixed resources from template.yaml.
# Each stack records the AWS calls its functions made; iam-check then proves every call is
# allowed by that function's policies in template.yaml and every granted action was used.
AWS_CALL_LOG := $(CURDIR)/target/aws-calls
e2e-test: $(MOTO_VENV)/.installed $(SCHEMATHESIS_VENV)/.installed
	rm -rf $(AWS_CALL_LOG)
	# The runner binary the restart test (tests/tests/runner_restart.rs) kills and starts again.
	CARGO_BUILD_TARGET=$(HOST_TARGET) cargo build --quiet --locked --workspace --bin switchboard-dev
	SWITCHBOARD_DEV_BIN=$(CURDIR)/target/$(HOST_TARGET)/debug/switchboard-dev \
	  SWITCHBOARD_AWS_CALL_LOG=$(AWS_CALL_LOG) CARGO_BUILD_TARGET=$(HOST_TARGET) scripts/with-moto.sh cargo nextest run --workspace --locked --no-fail-fast
	CARGO_BUILD_TARGET=$(HOST_TARGET) cargo run --quiet --locked -p switchboard-dev -- iam-check --calls $(AWS_CALL_LOG) --template template.yaml

template-check: $(TOOLS_VENV)/.installed $(CHECKOV_VENV)/.installed
	scripts/check-template.sh

test: lint e2e-test template-check

dev: $(MOTO_VENV)/.installed
	scripts/dev.sh

bench: bench-tools $(BENCH_VENV)/.installed $(MOTO_VENV)/.installed
	scripts/bench.sh

# valgrind (instructions per update, scripts/bench-callgrind.sh) and wrk (webhook load,
# scripts/bench-load.sh) are Debian packages, not pip or cargo ones: installed here only when
# missing, through sudo when not root, so a second run touches nothing.
bench-tools:
	@missing=""; \
	command -v valgrind >/dev/null || missing="$$missing valgrind"; \
	command -v wrk >/dev/null || missing="$$missing wrk"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then as_root=""; \
	  elif command -v sudo >/dev/null; then as_root="sudo"; \
	  else echo "bench-tools: installing$$missing needs root or sudo" >&2; exit 1; fi; \
	  echo "Installing$$missing (Debian packages)..."; \
	  $$as_root apt-get update -q && \
	  $$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

# Every fuzz target (fuzz/, its own workspace) for FUZZ_SECONDS each, seeded from
# ../shared/conformance; fails on a crash. cargo-fuzz is installed project-locally.
CARGO_FUZZ_VERSION := 0.13.2
CARGO_FUZZ := $(VENV)/cargo/bin/cargo-fuzz
FUZZ_SECONDS ?= 60
$(CARGO_FUZZ):
	cargo install cargo-fuzz --version $(CARGO_FUZZ_VERSION) --locked --root $(VENV)/cargo

fuzz: $(CARGO_FUZZ)
	FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run.sh

clean:
	rm -rf $(VENV) .aws-sam target/bench
