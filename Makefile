# hastack — every target installs what it needs first (uv from PyPI if missing,
# then the locked environment), so a fresh clone needs only Python >= 3.11 and make.

STACK ?= prod
PYTHON ?= python3
TOOLS := .tools
UV := $(shell command -v uv 2>/dev/null || echo $(TOOLS)/bin/uv)
# `setup` syncs once (writing bytecode, see [tool.uv] compile-bytecode); each run then
# skips the sync, which would otherwise re-scan site-packages for bytecode every time.
RUN := $(UV) run --frozen --no-sync

.PHONY: help setup plan plan-all diff check assess stacks test test-fast lint typecheck unit bench bench-suite golden policy-config clean

help:
	@echo "make plan [STACK=prod]   offline plan of one stack (build/plan/STACK.{json,mmd})"
	@echo "make plan-all            offline plan of every stack in stacks/"
	@echo "make diff A=dev B=prod   resource-by-resource difference of two stacks"
	@echo "make check [STACK=prod]  policy pack on the plan, through the analyzer protocol"
	@echo "make assess [STACK=prod] modeled RTO/RPO per failure domain (build/assess/STACK.{json,md})"
	@echo "make stacks              the stacks in stacks/ (layer, environment, region, cloud, tier)"
	@echo "make test                ruff, mypy and pytest"
	@echo "make test-fast           ruff and the unit tests, no mypy (the inner loop)"
	@echo "make policy-config       regenerate policies/config/*.json after editing policies/overrides/"
	@echo "make bench               plan vs its floor; policy check of a synthetic 10k-resource plan"
	@echo "make bench-suite         make unit with its CPU seconds, the machine's idle and steal time, a speed calibration"
	@echo "make golden              regenerate tests/golden/*.json and the README diagram after an intended change"

$(TOOLS)/bin/uv:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet uv

.venv/.hastack-synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $@

# The project's own modules are not in site-packages, so uv does not compile them; do it
# here (a no-op when up to date) so no run recompiles them where PYTHONDONTWRITEBYTECODE is set.
setup: .venv/.hastack-synced
	@$(RUN) python -m compileall -q hastack components policies >/dev/null

plan: setup
	$(RUN) hastack plan $(STACK)

plan-all: setup
	$(RUN) hastack plan --all --quiet

diff: setup
	$(RUN) hastack diff $(A) $(B)

check: setup
	$(RUN) hastack check $(STACK)

assess: setup
	$(RUN) hastack assess $(STACK)

lint: setup
	$(RUN) ruff check .

typecheck: setup
	$(RUN) mypy

# Tests run on every core; each committed stack is planned once per run, by the one
# `hastack plan --all` process the CLI tests check, and every worker reads those plans
# (tests/conftest.py, tests/support/shared_plans.py); the Prefect engine tests, which share
# one API server, stay on one worker (xdist group "prefect-engine", `--dist loadgroup`).
# pytest keeps the test modules it rewrites (for its assertion messages) as bytecode, but
# not where PYTHONDONTWRITEBYTECODE is set (CI, many containers): then every worker would
# rewrite and compile every test module on every run, seconds of CPU each. The cache goes
# to __pycache__ directories, which git ignores.
PYTEST := env -u PYTHONDONTWRITEBYTECODE $(RUN) pytest
PYTEST_WORKERS ?= auto
unit: setup
	$(PYTEST) -q -n $(PYTEST_WORKERS) --dist loadgroup

test: lint typecheck unit

# The inner loop: lint and the unit tests, stopping at the first failure; no mypy.
test-fast: lint
	$(PYTEST) -q -x --ignore=tests/test_golden.py

stacks: setup
	$(RUN) hastack stacks

policy-config: setup
	cd policies && $(abspath $(UV)) run --frozen --no-sync python -m hastack_policies.catalogue config

bench: setup
	$(RUN) python bench/bench_plan.py
	$(RUN) python bench/bench_check.py

bench-suite: setup
	$(RUN) python bench/bench_suite.py -- $(MAKE) --no-print-directory unit

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache

golden: setup
	UPDATE_GOLDEN=1 $(PYTEST) -q tests/test_golden.py
