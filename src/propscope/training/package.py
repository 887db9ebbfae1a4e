"""A trained model folder made ready for a model package (issue 12): only the files the
predictor reads (no checkpoints), the encoder's weights split into files of bounded size
(no file of the package over 95 MB), and the profile it serves in the manifest.

    python -m propscope.training.package RUN OUT [--profile accurate] [--max-mb 90]
        [--rebuild 'make accurate'] [--decode JSON]

The second stage (``benchmarks/context_transfer.py --write OUT``), the reader's operating
point (``benchmarks/reader_study.py --write OUT``) and the measured speed
(``benchmarks/analyze_speed.py --record``) are added to OUT afterwards; ``make accurate``
runs the whole chain.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from ..config import DecodeConfig
from ..errors import ModelError, PropscopeError
from .export import split_onnx_data
from .folders import replace_model_folder

#: files of a run folder that a predictor never reads
NOT_SHIPPED = ("best.pt", "checkpoint.pt")


def package_folder(run: Path, out: Path, profile: str, max_mb: float = 90.0,
                   rebuild: str | None = None, decode: dict | None = None) -> dict:
    """Copy ``run``'s model files into ``out`` (replaced), split the encoder's weights into
    files of at most ``max_mb`` MiB, and record ``profile``, the file list, (if given) the
    command that ``rebuild``s it and ``decode`` fields that override the run's in the
    manifest. Returns the manifest."""
    manifest = json.loads((run / "manifest.json").read_text())
    if manifest.get("kind") == "ensemble":
        raise ModelError("a package carries one model folder, not an ensemble", where=str(run))
    unknown = set(decode or {}) - set(DecodeConfig().to_dict())
    if unknown:
        raise ModelError(f"not decoding settings: {', '.join(sorted(unknown))}")
    replace_model_folder(out, [run])
    files = [f for f in manifest["files"] if f not in NOT_SHIPPED]
    for name in files:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(run / name, out / name)
    data = split_onnx_data(out / "encoder.onnx", int(max_mb * 2**20))
    manifest.update(profile=profile, files=sorted(set(files) | set(data)),
                    name=manifest.get("name", run.name))
    if rebuild:
        manifest["rebuild"] = rebuild
    if decode:
        manifest["decode"] = {**manifest.get("decode", {}), **decode}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path, help="a trained model folder (propscope train --out)")
    ap.add_argument("out", type=Path, help="the package's model folder to write (replaced)")
    ap.add_argument("--profile", default="accurate")
    ap.add_argument("--max-mb", type=float, default=90.0, help="largest weights file, MiB")
    ap.add_argument("--rebuild", help="the command that rebuilds the model (manifest)")
    ap.add_argument("--decode", type=json.loads, default=None,
                    help='decoding settings to change, as JSON: \'{"second_label_ratio": 1.0}\'')
    args = ap.parse_args(argv)
    try:
        manifest = package_folder(args.run, args.out, args.profile, args.max_mb, args.rebuild,
                                  args.decode)
    except PropscopeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    sizes = {f: (args.out / f).stat().st_size for f in manifest["files"]}
    print(f"{args.out}: {len(sizes)} files, {sum(sizes.values()) / 2**20:.1f} MiB, largest "
          f"{max(sizes.values()) / 2**20:.1f} MiB ({max(sizes, key=sizes.__getitem__)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
