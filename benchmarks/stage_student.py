"""A student model folder with its teacher's stages: copy the student's exported files (no
checkpoints) and add the teacher's second stage (``context.npz``) and reader operating
point, so that the student runs the same pipeline as the shipped model.

    python benchmarks/stage_student.py STUDENT OUT [--teacher src/propscope/models/default]
        [--stride N]

``--stride`` sets the windows' stride in the copy's decoding (254: no overlap).
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("student", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--teacher", type=Path, default=Path("src/propscope/models/default"))
    ap.add_argument("--stride", type=int)
    args = ap.parse_args()
    m = json.loads((args.student / "manifest.json").read_text())
    t = json.loads((args.teacher / "manifest.json").read_text())
    args.out.mkdir(parents=True, exist_ok=True)
    for f in m["files"]:
        shutil.copy2(args.student / f, args.out / f)
    shutil.copy2(args.teacher / t["context"], args.out / "context.npz")
    m.update(context="context.npz", context_cv=t.get("context_cv"), reader=t["reader"],
             files=sorted(set(m["files"]) | {"context.npz"}),
             name=f"{m.get('name', args.student.name)}+teacher-stages")
    if args.stride:
        m["decode"]["stride"] = args.stride
        m["name"] += f"-stride{args.stride}"
    (args.out / "manifest.json").write_text(json.dumps(m, indent=1))
    print(args.out, m["name"], m["files"])


if __name__ == "__main__":
    main()
