# Salama: `make demo` and `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
HOST   ?= 127.0.0.1:8000
PYTEST_ARGS ?=

.PHONY: demo test bench lint format messages check-python clean

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Salama needs Python 3.11 or newer; found " + sys.version.split()[0] + ". Set PYTHON=/path/to/python3.11")'

$(STAMP): requirements.lock pyproject.toml | check-python
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e . 2>/dev/null || $(BIN)/python -m pip install --quiet --no-deps -e .
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/salama migrate --noinput
	$(BIN)/salama demo
	$(BIN)/salama serve $(HOST)

test: $(STAMP)
	$(BIN)/pytest -n auto $(PYTEST_ARGS)

# Every benchmark, full size (hours on 2 cores); BENCH_ARGS=--quick for a small run of each.
BENCH_SCRIPTS := run import_floor importers exports linkage analytics forecast registry risk
BENCH_ARGS ?=
bench: $(STAMP)
	@for script in $(BENCH_SCRIPTS); do \
	  echo "== bench/$$script.py $(BENCH_ARGS)"; \
	  $(BIN)/python bench/$$script.py $(BENCH_ARGS) || exit 1; \
	done

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: $(STAMP)
	cd salama && ../$(BIN)/salama makemessages --all --ignore='tests/*' && ../$(BIN)/salama compilemessages

clean:
	rm -rf $(VENV) var
