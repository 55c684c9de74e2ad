# Two commands on a fresh machine:   make train   (the main job)   and   make test   (the test suite).
# Both create .venv (or $(VENV)) and install the core and every plugin folder, editable; `make test` also
# tests the third-party example plugin, in a venv of its own (EXAMPLE_VENV, below).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PLUGINS := $(sort $(wildcard plugins/*/pyproject.toml))
# Packages besides the core and plugins/* installed into $(VENV): none. The third-party example plugin is a
# hooks plugin: installed there, it would send every optimizer.step() of `make train` through pluggy.
EXTRA_PKGS :=
PIP_PKGS := -e . $(foreach p,$(PLUGINS) $(EXTRA_PKGS),-e $(dir $(p)))
# The example plugin is tested as an outsider's package: in its own venv (inside $(VENV), so `make clean`
# removes it too), installed with its test extra (the kit, pytest) over the core and the CPU backend; all
# editable, the kit and the core from this tree.
EXAMPLE_PLUGIN := examples/third_party_plugin
EXAMPLE_VENV ?= $(VENV)/example-plugin
EXAMPLE_BIN := $(EXAMPLE_VENV)/bin
EXAMPLE_DISTS := . plugins/backend_cpu plugins/testkit $(EXAMPLE_PLUGIN)
# pytest workers (pytest-xdist): auto is one per core; TEST_WORKERS=0 runs the suite in one process. Each
# worker runs PyTorch (the test oracle) on one thread (OMP_NUM_THREADS=1): a pool per worker on tiny tensors
# only spins (the torch-parity tests took 45 s with it, 21 s without, here).
TEST_WORKERS ?= auto
# every first-party plugin distribution in the tree, for `make check-plugins`
DISTS := $(shell sed -n 's/^name = "\(.*\)"/\1/p' $(PLUGINS) $(EXTRA_PKGS))
# The examples' optional dependencies: the offline digits data set, progress bars, plots.
EXAMPLE_DEPS := scikit-learn tqdm matplotlib
# lamina-distributed's extra `mpi` (= lamina[mpi]): mpi4py and MPICH's wheel, which puts mpiexec in $(BIN)
MPI_DEPS := mpi4py mpich
# make train TRAIN_ARGS="--dataset fashion-mnist --epochs 5"
TRAIN_ARGS ?=
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: train test check-plugins lint bench install clean

$(BIN)/.lamina-installed: pyproject.toml $(PLUGINS) $(EXTRA_PKGS) Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(PIP_PKGS) $(EXAMPLE_DEPS) $(MPI_DEPS)
	# a venv made while the example plugin was installed here still holds it
	$(BIN)/python -m pip uninstall -qq -y acme-lamina-layers
	touch $@

$(BIN)/.test-deps: $(BIN)/.lamina-installed
	$(BIN)/python -m pip install -q "torch==2.13.0" "pytest>=8" pytest-xdist ruff safetensors tqdm mypy
	touch $@

$(EXAMPLE_BIN)/.installed: $(foreach d,$(EXAMPLE_DISTS),$(d)/pyproject.toml) Makefile
	$(PYTHON) -m venv $(EXAMPLE_VENV)
	$(EXAMPLE_BIN)/python -m pip install -q --upgrade pip
	$(EXAMPLE_BIN)/python -m pip install -q $(foreach d,$(filter-out $(EXAMPLE_PLUGIN),$(EXAMPLE_DISTS)),-e $(d)) \
		-e "$(EXAMPLE_PLUGIN)[test]"
	touch $@

install: $(BIN)/.lamina-installed

train: $(BIN)/.lamina-installed
	$(BIN)/python examples/train_convnet.py $(TRAIN_ARGS)

test: $(BIN)/.test-deps $(EXAMPLE_BIN)/.installed
	$(BIN)/ruff check core plugins tests examples benchmarks
	$(EXAMPLE_BIN)/python -m pytest -q $(EXAMPLE_PLUGIN)/tests
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n $(TEST_WORKERS) tests plugins

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
