# Tidings -- developer entry points. GNU make; Debian 12 (apt) for `deps`.
#
#   make deps       OS packages needed to build (installed only if missing)
#   make test-deps  deps + Python modules for the integration-test servers
#   make build      debug build          make release   release build
#   make demo       build, then run the daemon on the example events (scripts/demo.sh)
#   make test       unit + integration tests, schemathesis against the API, the unit booted under systemd
#   make bench      release build, every benchmark scenario against servers on loopback (BENCHMARKS.md)
#   make install    release build (Swift runtime linked in), then binary, configuration and unit in place
#   make clean      remove var/ and .build/

SWIFT ?= swift
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

# Evaluated when a recipe runs (after the build), not when make starts.
BIN_PATH = $$($(SWIFT) build --show-bin-path)
RELEASE_BIN_PATH = $$($(SWIFT) build -c release --show-bin-path)
# The installed binary carries the Swift runtime, so a server needs no Swift toolchain.
STATIC = --static-swift-stdlib
PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: all deps test-deps bench-deps build release demo test bench install check-systemd clean help
.DEFAULT_GOAL := build

help:
	@sed -n '3,10p' Makefile | sed 's/^# \{0,1\}//'

all: build

deps:
	scripts/deps.sh

test-deps:
	scripts/deps.sh --test

bench-deps: deps
	scripts/deps.sh --bench

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

demo: deps build
	TIDINGS_BIN="$(BIN_PATH)/tidings" scripts/demo.sh

# Test cases run at once: Swift Testing's default (twice the cores) starved the tests that start
# servers past their waits on a slow two-core machine (README, "make test").
TEST_WIDTH ?= 2

test: test-deps
	$(SWIFT) build --build-tests
	SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=$(TEST_WIDTH) $(SWIFT) test
	scripts/api-check.sh "$(BIN_PATH)/tidings"
	scripts/check-systemd.sh "$(BIN_PATH)/tidings"
	scripts/check-install.sh "$(BIN_PATH)/tidings"
	scripts/boot-test.sh

# BENCH_ARGS: e.g. `--only 1,2 --scale 0.1`; the table also goes to var/bench/results.json.
bench: bench-deps
	$(SWIFT) build -c release
	"$(RELEASE_BIN_PATH)/tidings-bench" --tidings "$(RELEASE_BIN_PATH)/tidings" $(BENCH_ARGS)

# DESTDIR=/some/root installs into a scratch root instead (what the tests do).
install: deps
	$(SWIFT) build -c release $(STATIC)
	DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" scripts/install.sh "$$($(SWIFT) build -c release $(STATIC) --show-bin-path)/tidings"

# The unit-file checks alone, against the current debug binary.
check-systemd: build
	scripts/check-systemd.sh "$(BIN_PATH)/tidings"

clean:
	rm -rf var .build
