# The two commands: `make run` and `make test`. See README.md.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test bench lint db-start db-stop cluster cluster-stop clean

# A virtual environment with the dependencies; Debian's python3-venv is
# installed first when venv is missing and we are root.
$(VENV)/installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -m venv $(VENV) >/dev/null 2>&1 || { rm -rf $(VENV) && \
	  [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  echo "installing python3-venv" && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv \
	    >/dev/null && $(PYTHON) -m venv $(VENV); } || { \
	  echo "error: '$(PYTHON) -m venv' failed: install python3-venv" \
	    "(sudo apt-get install python3-venv) and run make again" >&2; \
	  exit 1; }
	@$(PY) -m pip install -q --disable-pip-version-check \
	  -r requirements.txt -r requirements-dev.txt
	@touch $@

db-start: $(VENV)/installed
	@$(PY) scripts/localdb.py start

db-stop:
	@$(PYTHON) scripts/localdb.py stop

# A three-node Galera cluster on loopback, data in .cluster/; .env names
# its nodes (see scripts/cluster.py). Starting it when it runs does nothing.
cluster:
	@$(PYTHON) scripts/cluster.py start

cluster-stop:
	@$(PYTHON) scripts/cluster.py stop

run: db-start
	@echo "== 0-main.py: create the database and table, load user_data.csv"
	@$(PY) 0-main.py
	@echo "== 1-main.py: the first six users of the stream"
	@$(PY) 1-main.py
	@echo "== 2-main.py | head: users over 25, in batches of 50"
	@$(PY) 2-main.py | head
	@echo "== 3-main.py | head: users, in pages of 100"
	@$(PY) 3-main.py | head
	@echo "== 4-stream_ages.py: the average age, streamed"
	@$(PY) 4-stream_ages.py

test: $(VENV)/installed
	@$(VENV)/bin/actionlint $(wildcard .github/workflows/*.yml .github/workflows/*.yaml)
	@$(PY) -m pycodestyle $(wildcard *.py scripts tests bench)
	@$(PY) -m pytest

bench: db-start
	@$(PY) -m pip install -q --disable-pip-version-check \
	  -r requirements-bench.txt
	@$(PY) bench/run.py

# Removes the local server's and cluster's .env, never one of yours.
clean:
	@$(PYTHON) scripts/cluster.py clean
	@$(PYTHON) scripts/localdb.py clean
	rm -rf $(VENV) __pycache__ .pytest_cache bench/data
