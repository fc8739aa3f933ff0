# dockmedic — `make run` sets up and starts dockmedic on its embedded stack; `make test`
# sets up and runs every test. Provisioning is idempotent: a second run changes nothing.
SHELL := /bin/bash
.DEFAULT_GOAL := help

TEMPORAL_UI ?= http://127.0.0.1:8233
# Per-test timeout for node's runner (ms): end-to-end tests wait on real containers and timers.
TEST_TIMEOUT_MS ?= 600000
NODE_TEST_FLAGS ?= --test-concurrency=1 --test-timeout=$(TEST_TIMEOUT_MS) --test-reporter=spec

.PHONY: help setup build lint cycles run test bench stop status clean
# setup installs node_modules that build and lint use: never run the steps side by side (make -j).
.NOTPARALLEL:

help:
	@echo "make setup   install what is missing, start dockerd/Redis/Temporal, build the scenario image and dist/"
	@echo "make run     setup, then start dockmedic (dockmedic up)"
	@echo "make test    setup, build, lint, cycles, then every test (node --test)"
	@echo "make bench   setup, build, then the gateway overhead benchmark"
	@echo "make lint | cycles | build | status | stop | clean"

# Everything: apt packages, Temporal binaries, npm ci, keys, stack, scenario image, tsc.
setup:
	@scripts/setup.sh

build:
	@scripts/build.sh

lint:
	@node_modules/.bin/eslint .
	@echo "lint      ok"

# No import cycles in the sources, type-only imports included (eslint's import/no-cycle skips those).
cycles:
	@node_modules/.bin/depcruise --config .dependency-cruiser.cjs src workflows activities test bench

run: setup
	@echo "Temporal UI: $(TEMPORAL_UI)"
	node dist/src/cli/main.js up

# node 20 would run every .js under a test/ directory (helpers too): name the test files.
test: setup build lint cycles
	@files=$$(find dist/test -name '*.test.js' | sort); \
	if [[ -z $$files ]]; then echo "no compiled tests under dist/test" >&2; exit 1; fi; \
	node --test $(NODE_TEST_FLAGS) $$files

bench: setup build
	node dist/bench/run.js

stop:
	@scripts/stack.sh stop

status:
	@scripts/stack.sh status

# Build output only; the state directory (keys, Temporal history, audit log) is kept.
clean:
	rm -rf dist
