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

.PHONY: help build release run test check-units install install-files uninstall bench format lint clean

# Installation directories (GNU conventions; DESTDIR stages into another root, e.g. for a package).
# systemd reads units, sysusers.d and tmpfiles.d from /usr/local/lib as well as /usr/lib, so the
# default PREFIX works as it is. SYSCONFDIR stays /etc: ConfigurationDirectory= means /etc/sigillum.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share
DOCDIR ?= $(DATADIR)/doc/sigillum
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
# Where install-files takes the executables from (make install builds them there first).
INSTALL_FROM ?= .build/release
INSTALL ?= install

PROGRAMS := sigillumd sigillum
# Installed when built (the verification sidecar comes with a later issue; its units ship now).
OPTIONAL_PROGRAMS := sigillum-verifyd
UNITS := sigillumd.service sigillumd.socket sigillumd-admin.socket sigillum-verifyd.service sigillum-verifyd.socket
DOCS := README.md $(sort $(wildcard Docs/*.md))
EXAMPLE_CONFIG := Config/sigillumd.example.yaml
CONFIG_FILE := $(SYSCONFDIR)/sigillum/sigillumd.yaml
# The units and the tmpfiles snippet name /usr/bin, /etc and /usr/share/doc; installed copies name the
# directories chosen here.
SUBSTITUTE := sed -e 's|/usr/bin/sigillum|$(BINDIR)/sigillum|g' -e 's|/etc/sigillum|$(SYSCONFDIR)/sigillum|g' \
    -e 's|file:/usr/share/doc/sigillum/|file:$(DOCDIR)/|g'

help: ## List the targets
	@echo "Sigillum make targets:"
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  %-13s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo
	@echo "Variables: SWIFT=$(SWIFT)  CONFIG=$(CONFIG) (build)  ARGS='$(ARGS)' (run)  TEST_ARGS='$(TEST_ARGS)' (test)"
	@echo "Examples:  make run ARGS=\"--listen 127.0.0.1:18080\"   make test TEST_ARGS=\"--filter Ledger\""
	@echo "           BENCH_DURATION=5 make bench   (see Benchmarks/README.md)"
	@echo "Install:   PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) BINDIR=$(BINDIR) SYSCONFDIR=$(SYSCONFDIR) DOCDIR=$(DOCDIR)"
	@echo "           SYSTEMDUNITDIR=$(SYSTEMDUNITDIR) SYSUSERSDIR=$(SYSUSERSDIR) TMPFILESDIR=$(TMPFILESDIR)"

build: ## swift build (CONFIG=debug by default)
	$(SWIFT) build -c $(CONFIG)

release: ## swift build -c release
	$(SWIFT) build -c release

run: ## Install run deps, build, start .build/CONFIG/sigillumd --dev ARGS in the foreground
	$(INSTALL_DEPS) run
	$(SWIFT) build -c $(CONFIG) --product sigillumd
	exec .build/$(CONFIG)/sigillumd --dev $(ARGS)

test: ## Install test deps, build, run all tests and the unit-file checks (log in .build/test.log)
	$(INSTALL_DEPS) test
	@start=$$SECONDS; \
	echo "== swift build --build-tests"; \
	if ! $(SWIFT) build --build-tests; then \
	    echo "== make test: FAILED (build) after $$((SECONDS - start))s"; echo "0 passed, 1 failed"; exit 1; \
	fi; \
	mkdir -p .build; \
	set +e; SWIFT=$(SWIFT) scripts/run-tests.sh $(TEST_LOG) $(TEST_ARGS); rc=$$?; set -e; \
	urc=0; \
	if [ -z "$(strip $(TEST_ARGS))" ]; then \
	    echo "== scripts/check-units.sh" | tee -a $(TEST_LOG); \
	    set +e; scripts/check-units.sh 2>&1 | tee -a $(TEST_LOG); urc=$${PIPESTATUS[0]}; set -e; \
	    if [ -r $(TEST_LOG).counts ] && read -r passed _ failed _ < $(TEST_LOG).counts; then \
	        if [ $$urc -eq 0 ]; then passed=$$((passed + 1)); else failed=$$((failed + 1)); fi; \
	        echo "$$passed passed, $$failed failed" > $(TEST_LOG).counts; \
	    fi; \
	fi; \
	if [ $$rc -eq 0 ] && [ $$urc -eq 0 ]; then \
	    echo "== make test: PASSED in $$((SECONDS - start))s (log: $(TEST_LOG))"; \
	elif [ $$rc -eq 0 ]; then \
	    echo "== make test: FAILED (unit-file checks) after $$((SECONDS - start))s (log: $(TEST_LOG))"; rc=1; \
	else \
	    echo "== make test: FAILED (swift test exit $$rc) after $$((SECONDS - start))s (log: $(TEST_LOG))"; \
	fi; \
	cat $(TEST_LOG).counts 2>/dev/null || echo "0 passed, 1 failed"; \
	exit $$rc

check-units: ## Install systemd tools; verify the units, their exposure scores (<= 1.5), install/uninstall
	$(INSTALL_DEPS) units
	scripts/check-units.sh

install: ## Release build with the Swift runtime linked in, then install-files (PREFIX=/usr/local, DESTDIR)
	@# --static-swift-stdlib: the installed binaries need no Swift toolchain at run time (only Debian's C
	@# libraries: libsqlite3, libcrypto, libpcsclite, libsystemd, zlib). Its own scratch folder keeps the
	@# dynamically linked release build of `make release`/`make bench` untouched.
	for p in $(PROGRAMS); do \
	    $(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-install --product $$p; \
	done
	$(MAKE) install-files INSTALL_FROM=.build-install/release

install-files: ## Install without building: executables from INSTALL_FROM, units, snippets, config, docs
	@for p in $(PROGRAMS); do \
	    [ -x "$(INSTALL_FROM)/$$p" ] || { echo "install: $(INSTALL_FROM)/$$p is missing: run \`make install\` (it builds)" >&2; exit 1; }; \
	done
	$(INSTALL) -d -m 0755 '$(DESTDIR)$(BINDIR)' '$(DESTDIR)$(SYSTEMDUNITDIR)' '$(DESTDIR)$(SYSUSERSDIR)' \
	    '$(DESTDIR)$(TMPFILESDIR)' '$(DESTDIR)$(DOCDIR)'
	@for p in $(PROGRAMS) $(OPTIONAL_PROGRAMS); do \
	    if [ -x "$(INSTALL_FROM)/$$p" ]; then \
	        echo "$(INSTALL) -m 0755 $(INSTALL_FROM)/$$p $(DESTDIR)$(BINDIR)/$$p"; \
	        $(INSTALL) -m 0755 "$(INSTALL_FROM)/$$p" '$(DESTDIR)$(BINDIR)/'"$$p"; \
	    fi; \
	done
	@for u in $(UNITS); do \
	    echo "install systemd/$$u -> $(DESTDIR)$(SYSTEMDUNITDIR)/$$u"; \
	    $(SUBSTITUTE) "systemd/$$u" > '$(DESTDIR)$(SYSTEMDUNITDIR)/'"$$u"; \
	    chmod 0644 '$(DESTDIR)$(SYSTEMDUNITDIR)/'"$$u"; \
	done
	$(INSTALL) -m 0644 systemd/sysusers.d/sigillum.conf '$(DESTDIR)$(SYSUSERSDIR)/sigillum.conf'
	$(SUBSTITUTE) systemd/tmpfiles.d/sigillum.conf > '$(DESTDIR)$(TMPFILESDIR)/sigillum.conf'
	chmod 0644 '$(DESTDIR)$(TMPFILESDIR)/sigillum.conf'
	$(INSTALL) -m 0644 $(DOCS) '$(DESTDIR)$(DOCDIR)/'
	$(INSTALL) -m 0644 $(EXAMPLE_CONFIG) '$(DESTDIR)$(DOCDIR)/sigillumd.example.yaml'
	@# The configuration: written once, never overwritten. Group sigillum when this is the real root
	@# and the group exists; otherwise systemd-tmpfiles --create sets it (tmpfiles.d/sigillum.conf).
	$(INSTALL) -d -m 0750 '$(DESTDIR)$(SYSCONFDIR)/sigillum'
	@cfg='$(DESTDIR)$(CONFIG_FILE)'; \
	if [ -e "$$cfg" ]; then \
	    echo "kept $$cfg (it exists; the new example is $(DOCDIR)/sigillumd.example.yaml)"; \
	else \
	    echo "$(INSTALL) -m 0640 $(EXAMPLE_CONFIG) $$cfg"; \
	    $(INSTALL) -m 0640 $(EXAMPLE_CONFIG) "$$cfg"; \
	    if [ -z '$(DESTDIR)' ] && [ "$$(id -u)" -eq 0 ] && getent group sigillum >/dev/null; then \
	        chgrp sigillum '$(SYSCONFDIR)/sigillum' "$$cfg"; \
	    fi; \
	fi
	@if [ -z '$(DESTDIR)' ]; then \
	    echo; echo "Installed. Next (as root): systemctl daemon-reload; systemd-sysusers; systemd-tmpfiles --create;"; \
	    echo "edit $(CONFIG_FILE); systemctl enable --now sigillumd.socket sigillumd-admin.socket sigillumd.service"; \
	    echo "(Docs/operations.md, \"Running under systemd\")"; \
	fi

uninstall: ## Remove what install-files put (a changed config stays; the state directory always stays)
	rm -f $(foreach p,$(PROGRAMS) $(OPTIONAL_PROGRAMS),'$(DESTDIR)$(BINDIR)/$(p)')
	rm -f $(foreach u,$(UNITS),'$(DESTDIR)$(SYSTEMDUNITDIR)/$(u)')
	rm -f '$(DESTDIR)$(SYSUSERSDIR)/sigillum.conf' '$(DESTDIR)$(TMPFILESDIR)/sigillum.conf'
	rm -f $(foreach d,$(DOCS),'$(DESTDIR)$(DOCDIR)/$(notdir $(d))') '$(DESTDIR)$(DOCDIR)/sigillumd.example.yaml'
	@cfg='$(DESTDIR)$(CONFIG_FILE)'; \
	if [ -e "$$cfg" ] && ! cmp -s $(EXAMPLE_CONFIG) "$$cfg"; then \
	    echo "kept $$cfg: it differs from the shipped example (remove it by hand if it is no longer wanted)"; \
	else \
	    rm -f "$$cfg"; \
	fi
	@rmdir '$(DESTDIR)$(DOCDIR)' '$(DESTDIR)$(SYSCONFDIR)/sigillum' 2>/dev/null || true
	@if [ -z '$(DESTDIR)' ]; then \
	    echo "Left in place: /var/lib/sigillum (ledger, keys), the sigillum user. Disable the units first:"; \
	    echo "systemctl disable --now sigillumd.service sigillumd.socket sigillumd-admin.socket; systemctl daemon-reload"; \
	fi

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
