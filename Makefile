# Two commands set everything up on a fresh machine (Python >= 3.11):
#   make serve   install into .venv and serve the shipped model on SQLite at http://127.0.0.1:8000
#   make test    install with test extras (and Debian's chromium for the browser tests) and run pytest
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install install-test serve test bench evaluate realdata

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || \
	  echo "chromium could not be installed: browser tests will be skipped"; }

serve: install
	$(BIN)/triage serve --host $(HOST) --port $(PORT)

test: install-test
	$(BIN)/pytest

bench: install-test
	$(BIN)/python benchmarks/classifier.py
	$(BIN)/python benchmarks/api_load.py

evaluate: install
	$(BIN)/triage evaluate --data training_data/kukar/test.jsonl

realdata: install
	$(BIN)/triage realdata build
	$(BIN)/triage evaluate --data evaluation/surabaya.jsonl
