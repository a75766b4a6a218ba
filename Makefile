# Two commands for a fresh machine with python3 (see README):
#   make demo   -> create .venv, install, run the demo on the embedded default
#   make test   -> create .venv, install, run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PIP    := $(BIN)/python -m pip
export HF_HUB_OFFLINE ?= 1

.PHONY: demo test bench lint retrain clean chromium wheel docs

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
	$(BIN)/python bench/notebook_budgets.py

lint: $(STAMP)
	$(BIN)/ruff check saewidgets tests bench

retrain: $(STAMP)
	$(BIN)/python -m saewidgets.zoo.train_storyteller --figure docs/storyteller_training.png

# The docs site, strictly (any warning fails), with every notebook executed at full size; open build/docs/index.html.
docs: $(STAMP)
	$(BIN)/python docs/build.py --out build/docs

# The release artefacts: python -m build makes the sdist, then the wheel from it (as PyPI uploads are made);
# the wheel carries the widgets' JS/CSS, the tokenizer, the bundled model and reader SAE (tests/test_packaging.py).
wheel: $(STAMP)
	rm -f dist/saewidgets-*.whl dist/saewidgets-*.tar.gz
	$(BIN)/python -m build --outdir dist .
	@ls -l dist/saewidgets-*.whl

clean:
	rm -rf $(VENV) build dist *.egg-info
