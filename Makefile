# Two commands for a fresh machine with python3 (see README):
#   make demo   -> create .venv, install, run the demo on the embedded default
#   make test   -> create .venv, install, run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PIP    := $(BIN)/python -m pip
export HF_HUB_OFFLINE ?= 1

.PHONY: demo test test-latest lock bench lint check retrain clean chromium wheel docs

# constraints.txt is the lock: every package of the dev, notebooks and docs extras pinned (pip-compile from
# pyproject.toml's ranges, CPU torch). Every pip call below takes it, so `make` installs what CI tested.
TORCH_VERSION := 2.13.0
PIP_TOOLS     := pip-tools==7.6.2
# The drift canary's subset: generation, harvest, training, file formats and widget state (see README).
CANARY_TESTS  := tests/test_generation.py tests/test_steering.py tests/test_models.py tests/test_activations.py \
                 tests/test_training.py tests/test_io.py tests/test_storyteller_model.py tests/test_frontier_plot.py \
                 tests/test_training_monitor.py tests/test_steering_panel.py tests/test_datacentric_widgets.py

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# torch first, pinned: installing anything that needs torch before it is present
	# resolves the newest CUDA build (several GB). constraints.txt keeps it pinned after.
	$(PIP) install -q -c constraints.txt torch
	$(PIP) install -q -c constraints.txt -e ".[dev,notebooks,docs]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/saewidgets demo --out out/demo

# The widget tests drive a real Chromium (Debian's package; Playwright never downloads a browser).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "The browser tests need Chromium: sudo apt-get install chromium (Debian/Ubuntu)"; exit 1; fi; }

test: $(STAMP) chromium
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/harvest_throughput.py
	$(BIN)/python bench/sae_training_throughput.py
	$(BIN)/python bench/widget_latency.py
	$(BIN)/python bench/generation_latency.py
	$(BIN)/python bench/notebook_budgets.py

# ruff's linter, and its formatter as a check (the code is `ruff format`ted at 110 columns; run
# `$(BIN)/ruff format saewidgets tests bench` to apply it).
lint: $(STAMP)
	$(BIN)/ruff check saewidgets tests bench
	$(BIN)/ruff format --check saewidgets tests bench

# The inner loop (~2 minutes on 2 cores): ruff, then the unit tests without the browser, the notebooks and the
# tests marked slow (markers: pyproject.toml, applied in tests/conftest.py). pytest exits 5 when nothing is
# collected, and make fails on it: a marker expression or a conftest that deselects everything is an error.
check: $(STAMP)
	$(BIN)/ruff check saewidgets tests bench
	$(BIN)/ruff format --check saewidgets tests bench
	$(BIN)/python -m pytest -q tests -m "not browser and not notebooks and not slow"

retrain: $(STAMP)
	$(BIN)/python -m saewidgets.zoo.train_storyteller --figure docs/storyteller_training.png

# The docs site, strictly (any warning fails), with every notebook executed at full size; open build/docs/index.html.
docs: $(STAMP)
	$(BIN)/python docs/build.py --out build/docs

# The widgets' JS and CSS (saewidgets/static) at the project's line length (.prettierrc: 110 columns), with the
# prettier pinned in package-lock.json. Needs node and npm; the Python package and its tests do not.
.PHONY: format-js lint-js
node_modules/.installed-stamp: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

format-js: node_modules/.installed-stamp
	node_modules/.bin/prettier --write saewidgets/static

lint-js: node_modules/.installed-stamp
	node_modules/.bin/prettier --check saewidgets/static

# The release artefacts: python -m build makes the sdist, then the wheel from it (as PyPI uploads are made);
# the wheel carries the widgets' JS/CSS, the tokenizer, the bundled model and reader SAE (tests/test_packaging.py).
wheel: $(STAMP)
	rm -f dist/saewidgets-*.whl dist/saewidgets-*.tar.gz
	$(BIN)/python -m build --outdir dist .
	@ls -l dist/saewidgets-*.whl

# Refresh the lock from pyproject.toml's ranges (newest versions they allow, torch held at the CPU build).
# pip-compile runs pip, so it sees the same package sources and CPU torch build as `make` does.
lock:
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install -q $(PIP_TOOLS)
	echo "torch==$(TORCH_VERSION)" > .venv-lock/torch.txt
	.venv-lock/bin/pip-compile -q --strip-extras --no-emit-index-url --no-emit-find-links --no-header \
	  --extra dev --extra notebooks --extra docs -c .venv-lock/torch.txt -o .venv-lock/lock.txt pyproject.toml
	# a local label (+cpu) names one build; the bare version matches it and PyTorch's CPU index alike
	{ sed -n '1,/^$$/p' constraints.txt; sed 's/^torch==$(TORCH_VERSION)+[a-z0-9]*/torch==$(TORCH_VERSION)/' \
	  .venv-lock/lock.txt; } > constraints.txt.new && mv constraints.txt.new constraints.txt
	@grep -E '^(torch|transformers|transformer-lens)==' constraints.txt

# Drift canary (not part of `make test`): the newest versions pyproject.toml allows, in a separate venv, and the
# subset of the suite that broke when a dependency moved. It passing says the ranges are safe to install today.
# torch stays at the locked CPU build (newer ones here are CUDA builds of several GB).
test-latest: chromium
	rm -rf .venv-latest
	$(PYTHON) -m venv .venv-latest
	.venv-latest/bin/python -m pip install -q --upgrade pip
	.venv-latest/bin/python -m pip install -q "torch==$(TORCH_VERSION)"
	echo "torch==$(TORCH_VERSION)" > .venv-latest/torch.txt
	.venv-latest/bin/python -m pip install -q --upgrade --upgrade-strategy eager -c .venv-latest/torch.txt \
	  -e ".[dev,notebooks]"
	.venv-latest/bin/python -m pip list --format=freeze | grep -iE '^(transformers|transformer-lens|torch|anywidget|numpy)=='
	.venv-latest/bin/python -m pytest -q -p no:cacheprovider -o addopts="-ra" $(CANARY_TESTS)

clean:
	rm -rf $(VENV) .venv-latest .venv-lock build dist *.egg-info
