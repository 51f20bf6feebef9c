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

.PHONY: test demo bench bootstrap lint sanity units ansible-lint docs-lint changelog-lint integration build clean

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
	pytest tests/unit

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

clean:
	rm -rf build tests/output .pytest_cache .ruff_cache
