# The two commands: `make run` starts the adapter, `make test` runs every test.
# Both create .venv and install what they need.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-cluster lint typecheck unit bench clean browser-deps bench-deps

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m adapter.serve

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The console's browser tests drive Debian's Chromium (Playwright never downloads a browser here).
# Without root or apt the install is skipped and those tests say why they did not run.
CHROMIUM := /usr/bin/chromium
browser-deps:
	@test -x $(CHROMIUM) || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
		|| echo "browser-deps: could not install chromium; tests/browser will be skipped"

# The second pass runs what touches Redis again on a 3-master Redis Cluster (scripts/redis-cluster), but for
# the tests that start a Redis of their own (the failover test's cluster among them): they ran in the first.
CLUSTER_REDIS_URL ?= redis://127.0.0.1:7001/0
CLUSTER_SUITES := tests/integration tests/e2e tests/faults

test: $(STAMP) browser-deps lint typecheck
	$(BIN)/python -m pytest
	$(MAKE) test-cluster

test-cluster: $(STAMP)
	scripts/redis-cluster 7001 3
	TEST_REDIS_URL=$(CLUSTER_REDIS_URL) $(BIN)/python -m pytest -m "not own_redis" $(CLUSTER_SUITES)

# The ingest bench drives the adapter with wrk, from Debian's packages.
bench-deps:
	@command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) \
		|| echo "bench-deps: could not install wrk; bench ingest will say it cannot run"

bench: $(STAMP) bench-deps
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
