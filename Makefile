# Sigillum — developer entry points. `make` (or `make help`) lists the targets.
# GNU make; recipes run in bash with -e -u -o pipefail.

SWIFT ?= swift
CONFIG ?= debug
ARGS ?=
TEST_ARGS ?=

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

INSTALL_DEPS := scripts/install-deps.sh
TEST_LOG := .build/test.log
# Directories that hold Swift files (evaluated only when format/lint run).
format_dirs = $(foreach d,$(1),$(if $(shell find $(d) -name '*.swift' -print -quit 2>/dev/null),$(d)))

.PHONY: help build release run test bench format lint clean

help: ## List the targets
	@echo "Sigillum make targets:"
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  %-9s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo
	@echo "Variables: SWIFT=$(SWIFT)  CONFIG=$(CONFIG) (build)  ARGS='$(ARGS)' (run)  TEST_ARGS='$(TEST_ARGS)' (test)"
	@echo "Examples:  make run ARGS=\"--listen 127.0.0.1:18080\"   make test TEST_ARGS=\"--filter Ledger\""
	@echo "           BENCH_DURATION=5 make bench   (see Benchmarks/README.md)"

build: ## swift build (CONFIG=debug by default)
	$(SWIFT) build -c $(CONFIG)

release: ## swift build -c release
	$(SWIFT) build -c release

run: ## Install run deps, build, start .build/CONFIG/sigillumd --dev ARGS in the foreground
	$(INSTALL_DEPS) run
	$(SWIFT) build -c $(CONFIG) --product sigillumd
	exec .build/$(CONFIG)/sigillumd --dev $(ARGS)

test: ## Install test deps, build everything with tests, run all tests (log in .build/test.log)
	$(INSTALL_DEPS) test
	@start=$$SECONDS; \
	echo "== swift build --build-tests"; \
	if ! $(SWIFT) build --build-tests; then \
	    echo "== make test: FAILED (build) after $$((SECONDS - start))s"; echo "0 passed, 1 failed"; exit 1; \
	fi; \
	mkdir -p .build; \
	set +e; SWIFT=$(SWIFT) scripts/run-tests.sh $(TEST_LOG) $(TEST_ARGS); rc=$$?; set -e; \
	if [ $$rc -eq 0 ]; then \
	    echo "== make test: PASSED in $$((SECONDS - start))s (log: $(TEST_LOG))"; \
	else \
	    echo "== make test: FAILED (swift test exit $$rc) after $$((SECONDS - start))s (log: $(TEST_LOG))"; \
	fi; \
	cat $(TEST_LOG).counts 2>/dev/null || echo "0 passed, 1 failed"; \
	exit $$rc

bench: ## Install bench deps, release build, Benchmarks/run.sh (BENCH_* env, see Benchmarks/README.md)
	$(INSTALL_DEPS) bench
	$(SWIFT) build -c release
	Benchmarks/run.sh

format: ## swift format --in-place the Swift files in Sources Tests Benchmarks
	@dirs="$(call format_dirs,Sources Tests Benchmarks)"; \
	if [ -z "$$dirs" ]; then echo "no Swift files to format"; exit 0; fi; \
	echo "$(SWIFT) format --in-place --recursive $$dirs"; \
	$(SWIFT) format --in-place --recursive $$dirs

lint: ## swift format lint --strict Sources Tests (uses .swift-format)
	@dirs="$(call format_dirs,Sources Tests)"; \
	if [ -z "$$dirs" ]; then echo "no Swift files to lint"; exit 0; fi; \
	echo "$(SWIFT) format lint --strict --recursive $$dirs"; \
	$(SWIFT) format lint --strict --recursive $$dirs

clean: ## swift package clean (keeps resolved dependencies; `swift package reset` drops them too)
	$(SWIFT) package clean
