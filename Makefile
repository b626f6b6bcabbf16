# Two commands for a newcomer: `make demo` and `make test`. Everything else here serves them.
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export VIRTUAL_ENV := $(CURDIR)/$(VENV)
# Installed packages get their bytecode at install time (uv skips it by default): where PYTHONDONTWRITEBYTECODE is
# set, nothing else ever writes it, and every start of the tap or the target would compile singer-sdk, SQLAlchemy
# and phonenumbers again (about 2.5 s each, measured). Meltano's plugin venvs are built by uv too and inherit this.
export UV_COMPILE_BYTECODE := 1
# The two plugins are editable installs: their own modules are compiled in place, by compileall.
PLUGIN_PACKAGES := tap-offline-csv/tap_offline_csv target-snapchat-capi/target_snapchat_capi

.PHONY: install meltano-install test-services demo test lint bench clean-state clean

$(VENV)/.installed: requirements-dev.txt tap-offline-csv/pyproject.toml target-snapchat-capi/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "uv>=0.5"
	$(BIN)/uv pip install --quiet -e ./tap-offline-csv -e ./target-snapchat-capi -r requirements-dev.txt
	$(BIN)/python -m compileall -q $(PLUGIN_PACKAGES)
	touch $@

install: $(VENV)/.installed

# Meltano builds one virtualenv per plugin from meltano.yml (pip_url: -e ./...), with uv.
.meltano/.installed: $(VENV)/.installed meltano.yml tap-offline-csv/pyproject.toml target-snapchat-capi/pyproject.toml
	$(BIN)/meltano install
	touch $@

meltano-install: .meltano/.installed

demo: meltano-install
	$(BIN)/python scripts/demo.py

# System packages the suite's real servers need (PostgreSQL, Chromium, Azurite); idempotent.
test-services:
	bash scripts/install-test-services.sh

test: meltano-install test-services
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install
	$(BIN)/python benchmarks/bench.py

# Forget what the dev environment has sent: the next run reads every file again.
clean-state: meltano-install
	$(BIN)/meltano --environment=dev state clear --force dev:tap-offline-csv-to-target-snapchat-capi

clean:
	rm -rf $(VENV) .meltano output
