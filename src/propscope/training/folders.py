"""The folders that training tools write, checked before anything in them is replaced.

``propscope train``, ``propscope ensemble``, the packager and the quantiser each write a
whole model folder. Given the wrong ``--out`` (a model that took hours to train, one of the
inputs, a folder of the user's own files) they used to write over it or delete it. Each now
checks its output folder first and stops with one line naming the problem.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path

from ..errors import ModelError
from ..files import replace_whole

#: the file that tells a training run can be resumed (``loop._Run``)
CHECKPOINT = "checkpoint.pt"


def save_whole(obj: object, path: Path) -> None:
    """``torch.save(obj, path)`` written whole or not at all (``files.replace_whole``), so
    that an interruption (Ctrl-C) or a full disk while saving leaves the earlier file as it
    was (a run's checkpoint stays resumable)."""
    import torch

    replace_whole(path, lambda tmp: torch.save(obj, tmp))


def _has_files(folder: Path) -> bool:
    return folder.is_dir() and any(folder.iterdir())


def _kind(folder: Path) -> str | None:
    """A model folder's kind (``single`` / ``ensemble``), or None where it holds no
    readable manifest."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    return manifest.get("kind", "single") if isinstance(manifest, dict) else None


def check_run_folder(out: Path | str) -> Path:
    """``train``'s output: a new or empty folder, or a run to resume (it holds
    ``checkpoint.pt``). A finished model without its checkpoint, or a folder of other files,
    is refused: training would write over them."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ModelError("exists and is not a folder: give a new folder for the model",
                         where=str(out))
    if _has_files(out) and not (out / CHECKPOINT).exists():
        what = "a model" if _kind(out) else "files"
        raise ModelError(f"holds {what} and no {CHECKPOINT} to resume: training would write "
                         "over them; give a new or empty folder", where=str(out))
    return out


def replace_model_folder(out: Path | str, reads: Iterable[Path | str],
                         kinds: tuple[str, ...] = ("single", "ensemble")) -> Path:
    """Make ``out`` an empty folder for a model built from the folders ``reads``.

    Refused, with nothing removed: ``out`` is one of ``reads``, lies inside one or holds one;
    ``out`` holds files but is not a model folder of one of ``kinds`` (what it holds would
    be lost). An earlier model of those kinds at ``out`` is removed (rebuilt)."""
    out = Path(out)
    target = out.resolve()
    for src in reads:
        s = Path(src).resolve()
        if target == s or s.is_relative_to(target) or target.is_relative_to(s):
            raise ModelError(f"is {'' if target == s else 'inside or around '}the model folder "
                             f"{src} that is read: writing it would destroy the input; give "
                             "another output folder", where=str(out))
    if out.exists() and not out.is_dir():
        raise ModelError("exists and is not a folder: give a new output folder", where=str(out))
    if _has_files(out):
        kind = _kind(out)
        if kind not in kinds:
            what = f"a {kind} model" if kind else "files that are not a model folder"
            raise ModelError(f"holds {what}, which this would replace; give a new or empty "
                             "folder (or remove it first)", where=str(out))
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    return out
