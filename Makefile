# streamtag: the two set-up commands of the README, and a few helpers.
#   make demo   installs missing system packages, builds, runs the tour
#   make test   the same set-up, then the whole test suite (what CI runs)
SWIFT      ?= swift
PREFIX     ?= /usr/local
DESTDIR    ?=
APT_PACKAGES := libopenblas-dev libzmq3-dev pkg-config
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN := .build/release/streamtag

.PHONY: deps build demo test bench clean

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build -c release --product streamtag

demo: build
	$(BIN) demo

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --parallel

bench: build
	$(BIN) bench kernel
	$(BIN) bench train

clean:
	rm -rf .build
