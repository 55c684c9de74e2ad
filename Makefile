# Two commands on a fresh machine:   make train   (the main job)   and   make test   (the test suite).
# Both create .venv (or $(VENV)) and install the core and every plugin folder, editable.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PLUGINS := $(sort $(wildcard plugins/*/pyproject.toml))
EXTRA_PKGS := $(sort $(wildcard examples/*/pyproject.toml))
PIP_PKGS := -e . $(foreach p,$(PLUGINS) $(EXTRA_PKGS),-e $(dir $(p)))
# every plugin distribution in the tree (first party and the third-party example), for `make check-plugins`
DISTS := $(shell sed -n 's/^name = "\(.*\)"/\1/p' $(PLUGINS) $(EXTRA_PKGS))
# The examples' optional dependencies: the offline digits data set, progress bars, plots.
EXAMPLE_DEPS := scikit-learn tqdm matplotlib
# make train TRAIN_ARGS="--dataset fashion-mnist --epochs 5"
TRAIN_ARGS ?=
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: train test check-plugins lint bench install clean

$(BIN)/.lamina-installed: pyproject.toml $(PLUGINS) $(EXTRA_PKGS) Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(PIP_PKGS) $(EXAMPLE_DEPS)
	touch $@

$(BIN)/.test-deps: $(BIN)/.lamina-installed
	$(BIN)/python -m pip install -q "torch==2.13.0" "pytest>=8" ruff safetensors tqdm mypy
	touch $@

install: $(BIN)/.lamina-installed

train: $(BIN)/.lamina-installed
	$(BIN)/python examples/train_convnet.py $(TRAIN_ARGS)

test: $(BIN)/.test-deps
	$(BIN)/ruff check core plugins tests examples benchmarks
	$(BIN)/python -m pytest -q tests plugins examples/third_party_plugin/tests

# The conformance kit from the command line over every plugin distribution, strict (a component without an
# info record fails; datasets has nothing to check). NOT part of `make test`: the kit runs once per distribution,
# there as the pytest items of each plugin's tests/test_*_kit.py (strict parametrize_plugin, xdist-parallel).
# This target runs the same checks again through `lamina check`, for certifying installed plugins by hand.
check-plugins: $(BIN)/.lamina-installed
	@for d in $(DISTS); do $(BIN)/lamina check --strict --quiet $$d || exit 1; done

bench: $(BIN)/.test-deps
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV)
