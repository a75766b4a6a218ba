# Two commands for a fresh machine with python3 (see README):
#   make demo   -> create .venv, install, run the demo on the embedded default
#   make test   -> create .venv, install, run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PIP    := $(BIN)/python -m pip
export HF_HUB_OFFLINE ?= 1

.PHONY: demo test bench lint retrain clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# torch first, pinned: installing anything that needs torch before it is present
	# resolves the newest CUDA build (several GB). constraints.txt keeps it pinned after.
	$(PIP) install -q -c constraints.txt torch
	$(PIP) install -q -c constraints.txt -e ".[dev,notebooks]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/saewidgets demo --out out/demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/harvest_throughput.py
	$(BIN)/python bench/sae_training_throughput.py

lint: $(STAMP)
	$(BIN)/ruff check saewidgets tests bench

retrain: $(STAMP)
	$(BIN)/python -m saewidgets.zoo.train_storyteller --figure docs/storyteller_training.png

clean:
	rm -rf $(VENV) build dist *.egg-info
