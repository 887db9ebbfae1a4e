"""Loading a model folder (manifest + ONNX encoder + span head, or an ensemble of such
folders) into a predictor, and checking one without keeping it (``check_model``)."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from . import config
from .config import DEFAULT_MODEL_DIR, PROFILES, DecodeConfig
from .errors import ModelError
from .manifest import (  # noqa: F401 (the manifest's schema, importable from here as before)
    MANIFEST_SCHEMA,
    check_manifest,
    read_manifest,
)
from .span_features import SpanHead


class OnnxRunner:
    def __init__(self, path: Path, threads: int = 0, optimize: bool = True) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.graph_optimization_level = (ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimize
                                         else ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(path), opts,
                                                providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own exception types
            raise ModelError(f"cannot load the ONNX encoder ({_ort_message(e)})",
                             where=str(path)) from None

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(self.session.run(None, {"input_ids": ids, "attention_mask": mask}))


def _ort_message(e: BaseException) -> str:
    """``[ONNXRuntimeError] : 7 : INVALID_PROTOBUF : Load model from P failed:Protobuf
    parsing failed.`` -> ``INVALID_PROTOBUF: Protobuf parsing failed.``"""
    m = re.match(r"\[ONNXRuntimeError\] : \d+ : (\w+) : (?:Load model from .* failed:)?(.*)",
                 str(e).strip().split("\n")[0])
    return f"{m.group(1)}: {m.group(2).strip()}" if m else _first_line(e)


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return f"{type(e).__name__}: {text.splitlines()[0]}" if text else type(e).__name__


def _load_file(path: Path, what: str, load: Callable[[str], Any]) -> Any:
    try:
        return load(str(path))
    except Exception as e:  # numpy, zipfile and tokenizers raise many types
        raise ModelError(f"cannot read the {what} ({_first_line(e)})", where=str(path)) from None


def _member_folders(folder: Path, manifest: dict[str, Any]) -> list[Path]:
    """An ensemble's member folders, each with a valid manifest naming its techniques."""
    members = [folder / name for name in manifest.get("members", [])]
    if not members:
        raise ModelError("ensemble manifest lists no members", where=str(folder))
    if any(read_manifest(m)["techniques"] != manifest["techniques"] for m in members):
        raise ModelError("ensemble members name other techniques than its manifest",
                         where=str(folder))
    return members


def _single_files(folder: Path, threads: int, optimize: bool = True):
    from .predictors.neural import WordPieces

    head = _load_file(folder / "span_head.npz", "span head", SpanHead.load)
    pieces = _load_file(folder / "tokenizer.json", "tokenizer", WordPieces)
    runner = OnnxRunner(folder / "encoder.onnx", threads, optimize)
    return pieces, runner, head


#: Windows per encoder call for static INT8 encoders: their activation scales are fixed, so
#: an article's outputs do not depend on its batch-mates (dynamic INT8 ones: 1 per call).
STATIC_BATCH = 8


def load_folder(folder: Path | str, threads: int | None = None):
    from .predictors.neural import neural_predictor

    folder = Path(folder)
    manifest = read_manifest(folder)
    decode = DecodeConfig(**manifest.get("decode", {}))
    info = {"name": manifest.get("name", folder.name),
            "version": manifest.get("propscope_version"),
            "created": manifest.get("created"),
            "path": str(folder)}
    if manifest.get("kind") == "ensemble":
        from .predictors.ensemble import EnsemblePredictor

        members = [load_folder(m, threads) for m in _member_folders(folder, manifest)]
        predictor = EnsemblePredictor(members, decode, info)
    else:
        n_threads = (threads if threads is not None
                     else config.onnx_threads())
        pieces, runner, head = _single_files(folder, n_threads)
        static = (manifest.get("quantization") or {}).get("kind") == "static"
        predictor = neural_predictor(pieces, runner, head, manifest["techniques"], decode, info,
                                     batch_size=STATIC_BATCH if static else 1)
    return _with_stages(predictor, folder, manifest, threads)


def _with_stages(predictor, folder: Path, manifest: dict[str, Any],
                 threads: int | None = None):
    """Attach what a folder adds on top of its encoder: the marker span classifier
    (``marker``), the second stage of technique classification (``context``) and the
    reader operating point (``reader``)."""
    from .context import ContextClassifier
    from .reader import ReaderConfig

    if manifest.get("context"):
        predictor.context = _load_file(folder / manifest["context"], "second stage",
                                       ContextClassifier.load)
        predictor.context_in_predict = bool(manifest.get("context_in_predict", False))
        # a second stage fitted on a split scores that split in-sample: evaluate says so
        fitted_on = (manifest.get("context_cv") or {}).get("fitted_on")
        if fitted_on:
            predictor.info["second_stage_fitted_on"] = fitted_on
    if manifest.get("marker"):
        predictor.marker = _marker_of(folder, manifest, threads)
        predictor.marker_in_predict = bool(manifest["marker"].get("in_predict", False))
        if manifest["marker"].get("trained_on"):  # as the second stage's: evaluate says so
            predictor.info["marker_trained_on"] = str(manifest["marker"]["trained_on"])
    try:
        predictor.reader = ReaderConfig.from_dict(manifest.get("reader") or {})
    except (TypeError, ValueError, KeyError) as e:
        raise ModelError(f"manifest.json: 'reader' is not a reader configuration ({e})",
                         where=str(folder)) from None
    return predictor


def _marker_of(folder: Path, manifest: dict[str, Any], threads: int | None):
    """The marker span classifier a model folder's manifest names."""
    return load_marker(_marker_folder(folder, manifest["marker"]), manifest["techniques"],
                       threads)


def _marker_folder(folder: Path, record: dict[str, Any]) -> Path:
    """Where a model's marker span classifier is: in its own folder, or (``"source":
    "bundled"``) the one bundled with propscope's default model, which must be the one its
    second stage was fitted with (the SHA-256 of its head)."""
    if record.get("source") != "bundled":
        return folder / str(record.get("folder", "marker"))
    shared = DEFAULT_MODEL_DIR / "marker"
    if file_sha256(shared / "head.npz") != record.get("head_sha256"):
        raise ModelError("its second stage was fitted with another marker classifier than the "
                         "one bundled with this propscope: install the model package of the "
                         "same propscope version", where=str(folder))
    return shared


def file_sha256(path: Path) -> str | None:
    """The SHA-256 of a file's bytes, None when it cannot be read."""
    import hashlib

    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def load_marker(folder: Path, techniques: list[str], threads: int | None = None):
    """The marker span classifier stored in ``folder``: encoder.onnx (its encoder),
    head.npz (``weights``, ``bias``) and tokenizer.json."""
    from .predictors.marker import MarkerClassifier
    from .predictors.neural import WordPieces

    def head(path: str) -> tuple[np.ndarray, np.ndarray]:
        with np.load(path) as z:
            weights, bias = z["weights"], z["bias"]
        if weights.shape[0] != len(techniques) or bias.shape != (len(techniques),):
            raise ValueError(f"it names {weights.shape[0]} techniques, not {len(techniques)}")
        return weights, bias

    weights, bias = _load_file(folder / "head.npz", "marker classifier's head", head)
    pieces = _load_file(folder / "tokenizer.json", "marker classifier's tokenizer", WordPieces)
    runner = OnnxRunner(folder / "encoder.onnx",
                        threads if threads is not None else config.onnx_threads())
    return MarkerClassifier(pieces, runner, weights, bias, techniques)


def validate_folder(folder: Path | str) -> None:
    """Read every file of a model folder (members too) and let it go: a ModelError names
    the first file that does not load. Cheaper than ``load_folder`` (no graph optimisation,
    one thread, nothing kept)."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest.get("kind") == "ensemble":
        for member in _member_folders(folder, manifest):
            validate_folder(member)
    else:
        _single_files(folder, threads=1, optimize=False)
    if manifest.get("marker"):
        _marker_of(folder, manifest, threads=1)


#: The entry-point group through which installed model packages name their model folder:
#: ``[project.entry-points."propscope.models"] accurate = "package.module:function"``, where
#: the object named is a function returning the folder's path (or that path itself).
ENTRY_POINT_GROUP = "propscope.models"


def _entry_points() -> list[metadata.EntryPoint]:
    """The installed ``propscope.models`` entry points, by name (one per name)."""
    found: dict[str, metadata.EntryPoint] = {}
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep)
    return [found[name] for name in sorted(found)]


def package_label(ep: metadata.EntryPoint) -> str:
    """``propscope-model-accurate 0.1.0``: the distribution an entry point comes from."""
    dist = getattr(ep, "dist", None)
    return f"{dist.name} {dist.version}" if dist is not None else ep.value


def package_folder(ep: metadata.EntryPoint) -> Path:
    """The model folder an installed model package gives; a one-line ModelError when its
    entry point does not load or gives no folder."""
    where = f"model package {ep.name!r} ({package_label(ep)})"
    try:
        target = ep.load()
        value = target() if callable(target) else target
    except Exception as e:  # the package's own code: anything may be raised
        raise ModelError(f"its entry point {ep.value} fails ({_first_line(e)})",
                         where=where) from None
    if not isinstance(value, str | os.PathLike):
        raise ModelError(f"its entry point {ep.value} gives {type(value).__name__}, not the "
                         "path of a model folder", where=where)
    folder = Path(value)
    if not folder.is_dir():
        raise ModelError(f"it holds no model folder at {folder} (installed without its model "
                         "files?)", where=where)
    return folder


def _declared_profile(folder: Path) -> str | None:
    try:
        profile = json.loads((folder / "manifest.json").read_text()).get("profile")
    except (OSError, ValueError, AttributeError):
        return None
    return profile if isinstance(profile, str) else None


def _package_for_profile(profile: str) -> Path | None:
    """The folder of the installed package named ``profile``, else of the first one whose
    manifest declares it; a package of that name that is broken is an error, others that
    are broken are passed over."""
    eps = _entry_points()
    for ep in eps:
        if ep.name == profile:
            return package_folder(ep)
    for ep in eps:
        try:
            folder = package_folder(ep)
        except ModelError:
            continue
        if _declared_profile(folder) == profile:
            return folder
    return None


def profile_folder(profile: str) -> Path:
    """The folder serving ``profile``: the shipped model for a profile shipped in the
    package; otherwise an installed model package for it, else its folder in
    ``config.PROFILES`` (the cache), else a one-line error saying how to install it."""
    folder = PROFILES[profile]
    if folder == DEFAULT_MODEL_DIR:
        return folder
    package = _package_for_profile(profile)
    if package is not None:
        return package
    if folder.is_dir():
        return folder
    raise ModelError(f"profile {profile!r} is not installed: no installed model package "
                     f"serves it and {folder} does not exist; install it with `make "
                     f"install-{profile}` in a propscope checkout (or rebuild it with `make "
                     f"{profile}`; README: Profiles)")


def model_folder(path: str | None) -> Path:
    """The folder a ``--model`` value names: a profile, a path, the name of an installed
    model package, or None (the shipped model)."""
    if not path:
        return DEFAULT_MODEL_DIR
    if path in PROFILES:
        return profile_folder(path)
    if Path(path).exists():
        return Path(path)
    for ep in _entry_points():
        if ep.name == path:
            return package_folder(ep)
    if os.sep in path or (os.altsep and os.altsep in path):
        return Path(path)  # read_manifest says "no such model folder"
    raise ModelError("no such model folder, nor an installed model package of that name "
                     "(`propscope models` lists those found)", where=path)


@dataclasses.dataclass
class FoundModel:
    """A model ``propscope models`` lists: where it comes from (``bundled``, ``installed``
    or ``cache``), the ``--model``/``--profile`` argument that selects it, its folder, and
    why it cannot be used when it cannot (``error``, one line)."""

    source: str
    use: str
    path: Path | None
    package: str | None = None
    error: str | None = None


def _cache_folders() -> list[Path]:
    """Model folders in the cache (``config.MODELS_HOME``) and the profiles' own folders."""
    from . import config

    home = config.MODELS_HOME
    folders = sorted(p for p in home.iterdir() if (p / "manifest.json").is_file()) \
        if home.is_dir() else []
    extra = [f for f in PROFILES.values() if f != DEFAULT_MODEL_DIR and f.is_dir()]
    return list(dict.fromkeys([*folders, *extra]))


def _profile_uses() -> dict[Path, str]:
    """The folder each profile resolves to now, as ``{folder: "--profile NAME"}``."""
    uses: dict[Path, str] = {}
    for name in PROFILES:
        try:
            uses.setdefault(profile_folder(name).resolve(), f"--profile {name}")
        except ModelError:
            continue
    return uses


def find_models() -> list[FoundModel]:
    """Every model propscope can find: the shipped one, the installed model packages
    (``propscope.models`` entry points) and the folders in the cache. Never raises for a
    broken package: its ``error`` says why."""
    uses = _profile_uses()

    def use(folder: Path, default: str) -> str:
        return uses.get(folder.resolve(), default)

    found = [FoundModel("bundled", use(DEFAULT_MODEL_DIR, "(no --model)"), DEFAULT_MODEL_DIR)]
    for ep in _entry_points():
        try:
            folder = package_folder(ep)
        except ModelError as e:
            found.append(FoundModel("installed", f"--model {ep.name}", None,
                                    package_label(ep), str(e)))
            continue
        found.append(FoundModel("installed", use(folder, f"--model {ep.name}"), folder,
                                package_label(ep)))
    found += [FoundModel("cache", use(f, f"--model {f}"), f) for f in _cache_folders()]
    return found


def check_model(path: str | None) -> None:
    """Fail now, in this process and in one line, when the model ``path`` names (as given to
    ``load_model``) would not load; batch runs call this before starting workers."""
    if path != "keywords":
        validate_folder(model_folder(path))


@functools.lru_cache(maxsize=4)
def load_model(path: str | None = None):
    """The predictor in ``path`` (default: the shipped model), loaded once per process.

    ``path`` may also name a profile (``fast``, ``accurate``; see ``config.PROFILES``); the
    name ``keywords`` gives the tiny rule-based test predictor (no weights).
    """
    if path == "keywords":
        from .predictors.keywords import KeywordPredictor

        return KeywordPredictor()
    return load_folder(model_folder(path))
