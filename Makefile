# streamtag: the two set-up commands of the README, and a few helpers.
#   make demo   installs missing system packages, builds, runs the tour
#   make test   the same set-up, then the whole test suite (what CI runs)
#   make install / uninstall / check-units   systemd installation (systemd/README.md)
#   make fuzz / test-asan / test-tsan   fuzzers and sanitizers (docs/reliability.md)
#   make docs   regenerates docs/configuration.md and docs/metrics.md from the code
SWIFT      ?= swift
PREFIX     ?= /usr/local
DESTDIR    ?=
APT_PACKAGES := libopenblas-dev libzmq3-dev pkg-config
# What only the tests need: a real browser for the live page's test (LivePageBrowserTests),
# man for the man pages' test, curl for the runnable block of docs/websocket.md.
TEST_APT_PACKAGES := chromium man-db curl
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN := .build/release/streamtag

.PHONY: deps deps-test build demo test test-python test-asan test-tsan fuzz bench docs docs-api clean install install-files uninstall check-units deps-units

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

deps-test:
	@missing=""; for p in $(TEST_APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	@# pyzmq for SecurityPyZMQTests (key files against pyzmq's zmq.auth, a Python client over
	@# CURVE): pip where it works, else Debian's python3-zmq.
	@python3 -c 'import zmq' 2>/dev/null || python3 -m pip install --quiet pyzmq 2>/dev/null || { \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-zmq; }

build: deps
	$(SWIFT) build -c release --product streamtag

demo: build
	$(BIN) demo

test: deps deps-test
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --parallel
	$(MAKE) --no-print-directory test-python
	$(MAKE) --no-print-directory docs-api

# The Python client package (clients/python) in a venv with pytest, against the debug daemon
# that the Swift suite built.
PYENV := .build/pyenv
test-python:
	@test -x $(PYENV)/bin/python || python3 -m venv $(PYENV) || { \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-venv && \
	  python3 -m venv $(PYENV); }
	$(PYENV)/bin/pip install --quiet ./clients/python pytest
	STREAMTAG_BIN="$$PWD/.build/debug/streamtag" $(PYENV)/bin/python -m pytest -p no:cacheprovider clients/python/tests

# A sanitizer writes its reports to files (log_path), from the test process and from every
# streamtag it runs as a child, whose stderr a test may not show: print them, and fail if any.
# STREAMTAG_TEST_SLOWDOWN stretches the tests' deadlines by the sanitizer's slowdown
# (Tests/StreamTagTestSupport/TestSlowdown.swift).
sanitizer_reports = if ls $(1)/* >/dev/null 2>&1; then echo "sanitizer reports in $(1):"; cat $(1)/*; status=1; fi; exit $$status

# The whole suite under AddressSanitizer / ThreadSanitizer, each in its own build directory
# (a sanitized build cannot share .build). Leaks are checked, in the test process and in every
# streamtag it runs; the one suppression is explained in its file.
ASAN_OPTIONS ?= detect_leaks=1
LSAN_OPTIONS ?= suppressions=$(CURDIR)/scripts/lsan-suppressions.txt:print_suppressions=0
test-asan: deps
	$(SWIFT) build --build-tests --sanitize address --scratch-path .build-asan
	@rm -rf .build-asan/reports && mkdir -p .build-asan/reports
	@status=0; STREAMTAG_TEST_SLOWDOWN=4 \
	  ASAN_OPTIONS="$(ASAN_OPTIONS):log_path=$(CURDIR)/.build-asan/reports/asan" LSAN_OPTIONS="$(LSAN_OPTIONS)" \
	  $(SWIFT) test --skip-build --parallel --sanitize address --scratch-path .build-asan || status=$$?; \
	  $(call sanitizer_reports,.build-asan/reports)

# STREAMTAG_TSAN swaps Mutex for a pthread mutex ThreadSanitizer can see (TSanVisibleMutex.swift).
TSAN_FLAGS := --sanitize thread --scratch-path .build-tsan -Xswiftc -DSTREAMTAG_TSAN
test-tsan: deps
	$(SWIFT) build --build-tests $(TSAN_FLAGS)
	@rm -rf .build-tsan/reports && mkdir -p .build-tsan/reports
	@status=0; STREAMTAG_TEST_SLOWDOWN=10 TSAN_OPTIONS="log_path=$(CURDIR)/.build-tsan/reports/tsan" \
	  $(SWIFT) test --skip-build --parallel $(TSAN_FLAGS) || status=$$?; \
	  $(call sanitizer_reports,.build-tsan/reports)

# Each libFuzzer target (Fuzz/) for FUZZ_SECONDS; fails if any crashes (Fuzz/run.sh).
FUZZ_SECONDS ?= 60
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) Fuzz/run.sh

bench: build
	$(BIN) bench kernel
	$(BIN) bench train
	$(BIN) bench e2e

# The generated references of the manual (GeneratedDocsTests fails when they are stale), and
# streamtag(1) from the command line's own help, by swift-argument-parser's generate-manual
# (ManPageTests renders it with man -l). MAN_DATE is the date the page shows: a fixed one, so
# that regenerating an unchanged command line changes nothing.
DEBUG_BIN := .build/debug/streamtag
MAN_DATE  ?= 2026-12-06
docs: deps
	$(SWIFT) build --product streamtag
	$(SWIFT) build --product generate-manual
	mkdir -p docs/man
	.build/debug/generate-manual $(DEBUG_BIN) --date $(MAN_DATE) --output-directory docs/man
	$(DEBUG_BIN) docs config > docs/configuration.md.tmp && mv docs/configuration.md.tmp docs/configuration.md
	$(DEBUG_BIN) docs metrics > docs/metrics.md.tmp && mv docs/metrics.md.tmp docs/metrics.md
	$(DEBUG_BIN) docs config-man --date $(MAN_DATE) > docs/man/streamtag.yaml.5.tmp && mv docs/man/streamtag.yaml.5.tmp docs/man/streamtag.yaml.5
	$(MAKE) --no-print-directory docs-api

# The DocC reference of the Swift client library, in .build/docs (not committed: `make docs-api`
# and open it with `xcrun docc preview` or any static server after --transform-for-static-hosting).
# Warnings are errors, so a broken symbol link fails `make test`.
docs-api:
	mkdir -p .build/docs
	rm -rf .build/docs/StreamTagClient.doccarchive
	$(SWIFT) package --allow-writing-to-directory .build/docs generate-documentation --target StreamTagClient \
	  --output-path .build/docs/StreamTagClient.doccarchive --warnings-as-errors
	test -d .build/docs/StreamTagClient.doccarchive/documentation/streamtagclient

clean:
	rm -rf .build .build-asan .build-tsan Fuzz/.build

# --- systemd installation (see systemd/README.md) -----------------------------------------
# make install: release build, then the files:
#   $(DESTDIR)$(PREFIX)/bin/streamtag
#   $(DESTDIR)/etc/streamtag/streamtag.yaml   (an existing one is kept; the new defaults go
#                                               next to it as streamtag.yaml.dist)
#   $(DESTDIR)/etc/streamtag/models/           (for model files: read-only to the service)
#   $(DESTDIR)$(UNITDIR)/streamtag.service, streamtag@.service   (ExecStart= follows PREFIX)
# make install-files does the same without building (BIN= names the binary to install).
UNITDIR ?= /etc/systemd/system
UNITS   := streamtag.service streamtag@.service
UNIT_APT_PACKAGES := systemd procps
SYSTEMD_RUNNING = $(shell [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ] && echo yes)

install: build install-files

install-files:
	@test -x "$(BIN)" || { echo "$(BIN) is missing: run make build first" >&2; exit 1; }
	install -d -m 0755 "$(DESTDIR)$(PREFIX)/bin" "$(DESTDIR)/etc/streamtag/models" "$(DESTDIR)$(UNITDIR)"
	install -m 0755 "$(BIN)" "$(DESTDIR)$(PREFIX)/bin/streamtag"
	install -d -m 0755 "$(DESTDIR)$(PREFIX)/share/man/man1" "$(DESTDIR)$(PREFIX)/share/man/man5"
	install -m 0644 docs/man/streamtag.1 "$(DESTDIR)$(PREFIX)/share/man/man1/streamtag.1"
	install -m 0644 docs/man/streamtag.yaml.5 "$(DESTDIR)$(PREFIX)/share/man/man5/streamtag.yaml.5"
	@if [ -e "$(DESTDIR)/etc/streamtag/streamtag.yaml" ]; then \
	  install -m 0644 config/streamtag.yaml "$(DESTDIR)/etc/streamtag/streamtag.yaml.dist"; \
	  echo "kept $(DESTDIR)/etc/streamtag/streamtag.yaml; the shipped one is streamtag.yaml.dist"; \
	else \
	  echo "install -m 0644 config/streamtag.yaml $(DESTDIR)/etc/streamtag/streamtag.yaml"; \
	  install -m 0644 config/streamtag.yaml "$(DESTDIR)/etc/streamtag/streamtag.yaml"; \
	fi
	@for u in $(UNITS); do \
	  echo "install systemd/$$u -> $(DESTDIR)$(UNITDIR)/$$u (ExecStart=$(PREFIX)/bin/streamtag)"; \
	  sed 's|^ExecStart=/usr/local/bin/streamtag |ExecStart=$(PREFIX)/bin/streamtag |' "systemd/$$u" > "$(DESTDIR)$(UNITDIR)/$$u.tmp" && \
	  chmod 0644 "$(DESTDIR)$(UNITDIR)/$$u.tmp" && mv -f "$(DESTDIR)$(UNITDIR)/$$u.tmp" "$(DESTDIR)$(UNITDIR)/$$u" || exit 1; \
	done
ifeq ($(SYSTEMD_RUNNING),yes)
	systemctl daemon-reload
	@echo "now: systemctl enable --now streamtag (or streamtag@NAME for instances, see systemd/README.md)"
endif

# Stops and disables the units, removes the binary and the units. Configuration, models and
# state (/etc/streamtag, /var/lib/streamtag) stay: remove them by hand if you want them gone.
uninstall:
ifeq ($(SYSTEMD_RUNNING),yes)
	-systemctl disable --now streamtag.service
	-systemctl stop 'streamtag@*.service'
	-for l in /etc/systemd/system/*.wants/streamtag@*.service; do [ -L "$$l" ] && rm -f "$$l"; done; true
endif
	rm -f "$(DESTDIR)$(PREFIX)/bin/streamtag" "$(DESTDIR)$(PREFIX)/share/man/man1/streamtag.1" \
	  "$(DESTDIR)$(PREFIX)/share/man/man5/streamtag.yaml.5"
	for u in $(UNITS); do rm -f "$(DESTDIR)$(UNITDIR)/$$u"; done
ifeq ($(SYSTEMD_RUNNING),yes)
	systemctl daemon-reload
endif
	@echo "kept $(DESTDIR)/etc/streamtag and the state in /var/lib/streamtag (/var/lib/private/streamtag)"

deps-units:
	@missing=""; for p in $(UNIT_APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

# Installs into a temporary DESTDIR (with the built binary if there is one, else a stand-in:
# the units are checked, not the program) and checks the installed units:
#  - ExecStart= is $(PREFIX)/bin/streamtag, and the template differs from streamtag.service
#    only in its instance lines;
#  - systemd-analyze verify, failing on any complaint (it exits 0 on some), with ExecStart=
#    pointed at the DESTDIR copy of the binary;
#  - systemd-analyze security --offline: exposure at most 2.0 (--threshold is in tenths).
CHECK_BIN = $(firstword $(wildcard .build/release/streamtag .build/debug/streamtag) /bin/true)
CHECK_INSTANCE_LINES = ^(\#|Description=|ExecStart=|StateDirectory=|RuntimeDirectory=|WorkingDirectory=)

check-units: deps-units
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(MAKE) --no-print-directory install-files DESTDIR="$$tmp" BIN="$(CHECK_BIN)" >/dev/null; \
	mkdir "$$tmp/verify"; status=0; \
	grep -Ev '$(CHECK_INSTANCE_LINES)' "$$tmp$(UNITDIR)/streamtag.service" > "$$tmp/plain"; \
	grep -Ev '$(CHECK_INSTANCE_LINES)' "$$tmp$(UNITDIR)/streamtag@.service" > "$$tmp/template"; \
	if ! diff -u "$$tmp/plain" "$$tmp/template"; then \
	  echo "check-units: streamtag@.service differs from streamtag.service beyond its instance lines" >&2; status=1; \
	fi; \
	for u in $(UNITS); do \
	  unit="$$tmp$(UNITDIR)/$$u"; \
	  if ! grep -q '^ExecStart=$(PREFIX)/bin/streamtag serve ' "$$unit"; then \
	    echo "check-units: $$u: ExecStart= does not start $(PREFIX)/bin/streamtag" >&2; status=1; \
	  fi; \
	  sed 's|^ExecStart=$(PREFIX)/bin/|ExecStart='"$$tmp"'$(PREFIX)/bin/|' "$$unit" > "$$tmp/verify/$$u"; \
	  if ! systemd-analyze verify "$$tmp/verify/$$u" 2> "$$tmp/verify.err" || [ -s "$$tmp/verify.err" ]; then \
	    echo "check-units: systemd-analyze verify $$u:" >&2; cat "$$tmp/verify.err" >&2; status=1; \
	  else \
	    echo "systemd-analyze verify $$u: ok"; \
	  fi; \
	  if systemd-analyze security --offline=true --threshold=20 "$$tmp/verify/$$u" > "$$tmp/security.out" 2>&1; then \
	    echo "systemd-analyze security $$u: $$(grep 'Overall exposure' "$$tmp/security.out" | sed 's/.*: //')"; \
	  else \
	    cat "$$tmp/security.out" >&2; echo "check-units: $$u: exposure above 2.0" >&2; status=1; \
	  fi; \
	done; \
	exit $$status
