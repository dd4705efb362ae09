# thresher developer loop. `make help` lists the targets.
# Everything runs in a local virtualenv ($(VENV)) that `make install` creates: a fresh machine
# needs only python3 (>= 3.10) and a Rust toolchain (>= 1.89, with clippy and rustfmt).

VENV   ?= .venv
PYDIRS := $(wildcard python tests benches)
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
DATA   ?= ../shared/data/scifact
SPLIT  ?= test
RUNS   ?= runs
NAME   := $(notdir $(patsubst %/,%,$(DATA)))
STAMP  := $(VENV)/.thresher-installed
SOURCES := pyproject.toml Cargo.toml $(wildcard Cargo.lock) $(shell find rust -name '*.rs' -o -name Cargo.toml 2>/dev/null)

.PHONY: help install demo test test-rust test-python lint format bench clean

help: ## show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(PY):
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(STAMP): $(PY) $(SOURCES)
	$(PIP) install -q -e ".[dev]"
	@touch $@

install: $(STAMP) ## create the venv and build thresher (release) with its dev tools

demo: $(STAMP) ## index, search and evaluate $(DATA) (default: SciFact); prints the metrics table
	@mkdir -p $(RUNS)
	$(VENV)/bin/thresher index $(DATA) -o $(RUNS)/$(NAME).idx
	$(VENV)/bin/thresher eval $(RUNS)/$(NAME).idx $(DATA) --split $(SPLIT) --run $(RUNS)/$(NAME).$(SPLIT).trec

test: test-rust test-python ## run the whole test suite (cargo test + pytest)

test-rust: ## Rust unit, property and parity tests
	cargo test -p thresher-core --release
	# debug build: the bitpacking crate's scalar kernel against the same reference layout
	cargo test -p thresher-core --test bitpack_reference

test-python: $(STAMP) ## Python tests (pytest)
	$(VENV)/bin/pytest -q

lint: $(STAMP) ## rustfmt, clippy, ruff, mypy (package + stubtest), benches compile
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo bench -p thresher-core --no-run
	$(VENV)/bin/ruff check $(PYDIRS)
	$(VENV)/bin/ruff format --check $(PYDIRS)
	$(PY) -m mypy python/thresher
	$(PY) -m mypy.stubtest thresher._core

format: $(STAMP) ## format Rust and Python
	cargo fmt --all
	$(VENV)/bin/ruff format $(PYDIRS)
	$(VENV)/bin/ruff check --fix $(PYDIRS)

clean: ## remove build products and the venv
	cargo clean
	rm -rf $(VENV) $(RUNS) python/thresher/*.so
