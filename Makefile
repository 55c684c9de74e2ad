# Two commands on a fresh machine:   make train   (the main job)   and   make test   (the test suite).
# `make train` creates .venv (or $(VENV)) with the core and every plugin folder installed editable.
# `make test` tests what users install: it builds the wheels (`make wheels`), installs lamina[all] from
# them into a venv of its own (nothing editable; dependencies from the registry) and runs ruff, the
# third-party example plugin's tests (in one more venv) and pytest over tests/ and plugins/ against
# that install, so a file missing from a wheel fails it. `make test-dev` runs the same suite on .venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PLUGINS := $(sort $(wildcard plugins/*/pyproject.toml))
# the family's version (tests/test_packaging.py holds every first-party pyproject to it)
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
# Packages besides the core and plugins/* installed into $(VENV): none. The third-party example plugin is a
# hooks plugin: installed there, it would send every optimizer.step() of `make train` through pluggy.
EXTRA_PKGS :=
PIP_PKGS := -e . $(foreach p,$(PLUGINS) $(EXTRA_PKGS),-e $(dir $(p)))
# sdists and wheels of the core and every plugin (.ci/build_wheels.py empties the folder first)
DIST ?= dist
# the build front end and back end, in a venv of their own: each distribution is built without build
# isolation (a throw-away environment per distribution would cost seconds each)
BUILD_VENV ?= $(VENV)/build
BUILD_BIN := $(BUILD_VENV)/bin
BUILD_DEPS := "build>=1.2" "setuptools>=77"
# the venv `make test` installs the wheels into (inside $(VENV), so `make clean` removes it too)
WHEEL_VENV ?= $(VENV)/wheel-test
WHEEL_BIN := $(WHEEL_VENV)/bin
# pins every first-party distribution to the wheel just built (never a same-named release on the index)
FAMILY_PINS := $(BUILD_VENV)/family-constraints.txt
# The example plugin is tested as an outsider's package: in its own venv (inside $(VENV)), its wheel and
# its test extra (the kit, pytest) over the core and the CPU backend, all from wheels.
EXAMPLE_PLUGIN := examples/third_party_plugin
EXAMPLE_VENV ?= $(VENV)/example-plugin
EXAMPLE_BIN := $(EXAMPLE_VENV)/bin
EXAMPLE_DIST := $(DIST)/example
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
# what `make test` installs from $(DIST): every plugin and the MPI engine the distributed tests launch
WHEEL_REQS := "lamina[all,mpi]==$(VERSION)"
# The suite's own needs: PyTorch CPU (the oracle), pytest, ruff, mypy, onnxruntime (lamina-onnx's tests run
# exported graphs), the documentation site's build (tests/test_docs_site.py; pages opened in chromium).
TEST_DEPS := "torch==2.13.0" "pytest>=8" pytest-xdist ruff safetensors tqdm mypy onnxruntime -r docs/requirements.txt
# The kit's pytest items of every plugin, run a second time with the optional CPU kernel pack (lamina[all] has
# it) switched off: each plugin must pass on the NumPy references alone, as without the pack installed.
KIT_TESTS := $(sort $(wildcard plugins/*/tests/test_*kit*.py))
comma := ,
NO_KERNEL_PACK := LAMINA_PLUGIN_AUTOLOAD=0 LAMINA_PLUGINS="$(subst $(eval) ,$(comma),$(filter-out lamina-kernels-numba,$(DISTS)))"
# make train TRAIN_ARGS="--dataset fashion-mnist --epochs 5"
TRAIN_ARGS ?=
export OPENBLAS_NUM_THREADS ?= 1

# $(call pip_strict,PYTHON,ARGS,LOG): pip install ARGS, failing when its output holds a warning or a
# deprecation (setuptools' licence-table deprecation is the one this guards against). This machine's pip
# configuration may name file:// package mirrors: pip's "Location 'file:...' is ignored" about a mirror that
# lacks a name is about that configuration, not about lamina, and is left out of the check.
define pip_strict
	$(1) -m pip install -q $(2) > $(3) 2>&1 || { cat $(3); exit 1; }
	@if grep -iE 'warn|deprecat' $(3) | grep -vE "^WARNING: Location 'file:[^']*' is ignored"; then \
		echo "make: the pip install above printed a warning (full log: $(3))"; exit 1; fi
endef

.PHONY: train test test-dev wheels wheel-install example-install browser docs version check-plugins lint \
	bench install clean

$(BIN)/.lamina-installed: pyproject.toml $(PLUGINS) $(EXTRA_PKGS) Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(PIP_PKGS) $(EXAMPLE_DEPS) $(MPI_DEPS)
	# a venv made while the example plugin was installed here still holds it
	$(BIN)/python -m pip uninstall -qq -y acme-lamina-layers
	touch $@

$(BIN)/.test-deps: $(BIN)/.lamina-installed
	$(BIN)/python -m pip install -q $(TEST_DEPS)
	touch $@

$(BUILD_BIN)/.installed: Makefile
	$(PYTHON) -m venv $(BUILD_VENV)
	$(call pip_strict,$(BUILD_BIN)/python,--upgrade pip $(BUILD_DEPS),$(BUILD_VENV)/pip.log)
	touch $@

# the suite's dependencies besides lamina, installed while the wheels build (make test runs both at once)
$(WHEEL_BIN)/.test-deps: Makefile docs/requirements.txt
	$(PYTHON) -m venv $(WHEEL_VENV)
	$(call pip_strict,$(WHEEL_BIN)/python,--upgrade pip,$(WHEEL_VENV)/pip.log)
	$(call pip_strict,$(WHEEL_BIN)/python,$(EXAMPLE_DEPS) $(TEST_DEPS),$(WHEEL_VENV)/pip.log)
	touch $@

$(EXAMPLE_BIN)/python:
	$(PYTHON) -m venv $(EXAMPLE_VENV)
	$(call pip_strict,$(EXAMPLE_BIN)/python,--upgrade pip,$(EXAMPLE_VENV)/pip.log)

install: $(BIN)/.lamina-installed

train: $(BIN)/.lamina-installed
	$(BIN)/python examples/train_convnet.py $(TRAIN_ARGS)

# an sdist and a wheel of the core and of every plugins/*/ into $(DIST)
wheels: $(BUILD_BIN)/.installed
	$(BUILD_BIN)/python .ci/build_wheels.py $(DIST) --constraints $(FAMILY_PINS)

# lamina[all] and the suite's dependencies from $(DIST) into $(WHEEL_VENV). The family is uninstalled first:
# a wheel of the version already installed would not replace an earlier make test's.
wheel-install: wheels $(WHEEL_BIN)/.test-deps
	$(WHEEL_BIN)/python -m pip uninstall -qq -y $$(sed 's/==.*//' $(FAMILY_PINS))
	$(call pip_strict,$(WHEEL_BIN)/python,--find-links $(DIST) -c $(FAMILY_PINS) $(WHEEL_REQS) $(EXAMPLE_DEPS) \
		$(TEST_DEPS),$(WHEEL_VENV)/pip.log)

# the example plugin's wheel with its test extra, over the core and CPU backend's wheels
example-install: wheels $(EXAMPLE_BIN)/python
	$(BUILD_BIN)/python .ci/build_wheels.py $(EXAMPLE_DIST) $(EXAMPLE_PLUGIN)
	$(EXAMPLE_BIN)/python -m pip uninstall -qq -y acme-lamina-layers $$(sed 's/==.*//' $(FAMILY_PINS))
	$(call pip_strict,$(EXAMPLE_BIN)/python,--find-links $(DIST) --find-links $(EXAMPLE_DIST) -c $(FAMILY_PINS) \
		"acme-lamina-layers[test]" lamina-backend-cpu,$(EXAMPLE_VENV)/pip.log)

# Debian's chromium, for the documentation site's test (it opens pages headless); installed when missing
browser:
	@command -v chromium > /dev/null || { echo "make: installing chromium (apt-get)"; \
		export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq chromium > /dev/null; }

# the installs run in parallel (the wheels build while PyTorch and the rest are installed), then the suite
test:
	$(MAKE) --no-print-directory --jobs=4 --output-sync=target wheel-install example-install browser
	$(WHEEL_BIN)/ruff check core plugins tests examples benchmarks docs tools
	$(EXAMPLE_BIN)/python -m pytest -q $(EXAMPLE_PLUGIN)/tests
	LAMINA_TEST_INSTALL=wheels OMP_NUM_THREADS=1 $(WHEEL_BIN)/python -m pytest -q -n $(TEST_WORKERS) tests plugins
	LAMINA_TEST_INSTALL=wheels OMP_NUM_THREADS=1 $(NO_KERNEL_PACK) $(WHEEL_BIN)/python -m pytest -q \
		-n $(TEST_WORKERS) $(KIT_TESTS)
	$(WHEEL_BIN)/python tools/api_coverage.py  # torch 2.13's public API per family (docs/compat.md lists the gaps)

# the same suite on the editable .venv, for working on the tree (the example plugin is left out)
test-dev: $(BIN)/.test-deps browser
	$(BIN)/ruff check core plugins tests examples benchmarks docs tools
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n $(TEST_WORKERS) tests plugins
	OMP_NUM_THREADS=1 $(NO_KERNEL_PACK) $(BIN)/python -m pytest -q -n $(TEST_WORKERS) $(KIT_TESTS)

docs: $(BIN)/.test-deps
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# make version V=0.2.0: the family's version in every first-party pyproject, the core ranges with it
version:
	@test -n "$(V)" || { echo "make version: expected V=X.Y.Z, got nothing"; exit 1; }
	$(PYTHON) .ci/set_version.py $(V)

# The conformance kit from the command line over every plugin distribution, strict (a component without an
# info record fails; datasets has nothing to check). NOT part of `make test`: the kit runs once per distribution,
# there as the pytest items of each plugin's tests/test_*_kit.py (strict parametrize_plugin, xdist-parallel).
# This target runs the same checks again through `lamina check`, for certifying installed plugins by hand.
check-plugins: $(BIN)/.lamina-installed
	@for d in $(DISTS); do $(BIN)/lamina check --strict --quiet $$d || exit 1; done

bench: $(BIN)/.test-deps
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) $(DIST)
