# The two commands: `make run` and `make test`. See README.md.
# `make` alone (or `make help`) lists every target, one line each.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
.DEFAULT_GOAL := help

# apt-get install $(1), quietly, saying so first (root only).
apt_install = echo "installing: apt-get install $(1)" && \
  apt-get update -qq && \
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null

# Under sudo, in a clone of your own (SUDO_USER owns this folder), root
# only installs what needs root: the database server, and python3-venv
# if your python3 lacks venv. Then make goes on as you, so that all it
# makes here (.venv, .env, the server and its data, ...) is yours, and a
# later `make run` as yourself finds it so. Root in a clone of root's
# (CI, a root shell) does it all itself.
OWNER := $(shell [ "$$(id -u)" = 0 ] && [ -n "$$SUDO_USER" ] && \
  [ "$$(id -u -- "$$SUDO_USER" 2>/dev/null)" = "$$(stat -c %u .)" ] && \
  [ "$$(stat -c %u .)" != 0 ] && echo "$$SUDO_USER")

GOALS := $(or $(MAKECMDGOALS),$(.DEFAULT_GOAL))
# What needs a server, or the environment, that root may install first.
INSTALLS := $(filter-out help db-stop cluster-stop clean,$(GOALS))

ifneq ($(OWNER),)
.PHONY: $(GOALS) as-owner

$(GOALS): as-owner
	@:

# The python3 the owner runs: $(PYTHON) if they may, else their python3.
as-owner:
	@py='$(PYTHON)'; runuser -u '$(OWNER)' -- "$$py" -c '' 2>/dev/null \
	  || py=python3; \
	if [ -n '$(INSTALLS)' ]; then \
	  $(PYTHON) scripts/localdb.py install || exit; \
	  if ! runuser -u '$(OWNER)' -- "$$py" -c 'import ensurepip, venv' \
	      2>/dev/null && command -v apt-get >/dev/null; then \
	    $(call apt_install,python3-venv); fi; \
	fi; \
	echo "going on as $(OWNER): make $(GOALS)"; \
	runuser -u '$(OWNER)' -- $(MAKE) --no-print-directory $(GOALS) \
	  PYTHON="$$py"

else
.PHONY: help run test bench db-start db-stop cluster cluster-stop \
  sql reset clean

help: ## list the targets (this)
	@sed -n 's/^\([a-z-]*\):.*## \(.*\)/  make \1\t\2/p' $(firstword $(MAKEFILE_LIST)) | \
	  expand -t 22

# A virtual environment with the dependencies; Debian's python3-venv is
# installed first when venv is missing and we are root.
$(VENV)/installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -m venv $(VENV) >/dev/null 2>&1 || { rm -rf $(VENV) && \
	  [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  $(call apt_install,python3-venv) && $(PYTHON) -m venv $(VENV); } || { \
	  echo "error: '$(PYTHON) -m venv' failed: install python3-venv" \
	    "(sudo apt-get install python3-venv) and run make again" >&2; \
	  exit 1; }
	@$(PY) -m pip install -q --disable-pip-version-check \
	  -r requirements.txt -r requirements-dev.txt
	@touch $@

run: db-start ## set up, seed the database, run every task
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

test: $(VENV)/installed ## lint, style, and every test (own servers)
	@$(VENV)/bin/actionlint $(wildcard .github/workflows/*.yml .github/workflows/*.yaml)
	@$(PY) -m pycodestyle $(wildcard *.py scripts tests bench)
	@$(PY) -m pytest

bench: db-start ## the benchmark: docs/benchmark.md
	@$(PY) -m pip install -q --disable-pip-version-check \
	  -r requirements-bench.txt
	@$(PY) bench/run.py

db-start: $(VENV)/installed ## start the project's server (.env's cluster if it names one)
	@$(PY) scripts/localdb.py start

db-stop: ## stop the project-local server
	@$(PYTHON) scripts/localdb.py stop

# A three-node Galera cluster on loopback, data in .cluster/; .env names
# its nodes (see scripts/cluster.py). Starting it when it runs does nothing.
cluster: ## start a 3-node Galera cluster; make run then uses it
	@$(PYTHON) scripts/cluster.py start

cluster-stop: ## stop the cluster, keep its data; make run uses the server
	@$(PYTHON) scripts/cluster.py stop

sql: $(VENV)/installed ## a SQL shell on the server .env names
	@$(PY) scripts/sql.py shell

reset: $(VENV)/installed ## drop the user_data table; make run loads it again
	@$(PY) scripts/sql.py reset

# Removes the local server's and cluster's .env, never one of yours.
clean: ## remove .venv, the server, the cluster, their data and .env
	@$(PYTHON) scripts/cluster.py clean
	@$(PYTHON) scripts/localdb.py clean
	rm -rf $(VENV) __pycache__ .pytest_cache bench/data
endif
