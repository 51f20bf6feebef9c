# siterecovery.failback: the two commands of the README, and the steps they are made of.
#   make test   every check CI runs (ruff, sanity, unit, ansible-lint, docs, integration)
#   make demo   the main job on the lab
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(VENV)/collections
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH := false
# Nothing an earlier run left in the home directory may count: every cache of the tools
# (pip's downloads, ansible-test's pip bootstrap, ansible-lint's, Go's build cache) lives in
# this checkout, so a clean clone starts from nothing, as CI does.
export HOME := $(CURDIR)/.cache/home
export XDG_CACHE_HOME := $(CURDIR)/.cache/home/.cache
export GOCACHE := $(CURDIR)/tests/lab/.build/gocache
export COVERAGE_FILE := $(CURDIR)/tests/output/coverage/.coverage

.PHONY: test demo bench bootstrap lint sanity units ansible-lint docs-lint changelog-lint integration build mutation clean

test: bootstrap lint sanity units ansible-lint docs-lint changelog-lint integration build
	@echo "make test: all checks passed"

bootstrap:
	@tests/tools/bootstrap.sh

lint: bootstrap
	ruff check .
	pycodestyle --max-line-length 160 --ignore E402,W503,W504,E741,E203,E701,E704 plugins tests

sanity: bootstrap
	tests/tools/sanity.sh

units: bootstrap
	mkdir -p tests/output/coverage
	pytest tests/unit --cov=plugins --cov-branch --cov-report=
	pytest -q -p no:cacheprovider tests/recorded
	coverage json -q -o tests/output/coverage/unit.json
	python tests/tools/coverage_report.py tests/output/coverage/unit.json

ansible-lint: bootstrap
	ansible-lint

docs-lint: bootstrap
	antsibull-docs lint-collection-docs . --plugin-docs

changelog-lint: bootstrap
	antsibull-changelog lint

integration: bootstrap
	tests/tools/integration.sh

build: bootstrap
	tests/tools/build.sh

demo: bootstrap
	tests/tools/demo.sh

bench: bootstrap
	python tests/bench/bench.py

# Mutation check of the code that changes things (slow: tens of minutes; not part of `make test`).
mutation: bootstrap
	tests/tools/mutation.sh

clean:
	rm -rf build tests/output .pytest_cache .ruff_cache .cache
