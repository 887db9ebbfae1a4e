"""Stored expected outputs of the shipped default model, compared byte for byte by
``tests/test_expected.py``: the analyze output on the bundled example and the ``valid``
figures of ``propscope evaluate``. A restructuring must leave them unchanged.

Regenerate them ONLY when the model (or what an output deliberately shows) changes on
purpose, and say so in the commit::

    python tests/expected/regenerate.py            # all of them (about two minutes)
    python tests/expected/regenerate.py analyze    # only the analyze outputs

Each output is the standard output of one ``propscope`` command, run in a fresh process
without PROPSCOPE_* settings (other than PROPSCOPE_DATA, the corpus folder) and with a fixed
hash seed (the last digits of some figures depend on it), with the shipped
model's folder written as ``<shipped model>`` so the files do not depend on the checkout.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
MODEL_DIR = ROOT / "src" / "propscope" / "models" / "default"
EXAMPLE = str(ROOT / "src" / "propscope" / "examples" / "example.txt")
DATA = Path(os.environ.get("PROPSCOPE_DATA", ROOT.parent / "shared" / "ptc"))

#: file name -> propscope arguments; ``analyze`` ones take seconds, ``valid`` about a minute
ANALYZE: dict[str, list[str]] = {
    "analyze_example.json": ["analyze", EXAMPLE, "--format", "json"],
    "analyze_example_benchmark.json": ["analyze", EXAMPLE, "--format", "json",
                                       "--mode", "benchmark"],
    "analyze_example.txt": ["analyze", EXAMPLE, "--format", "text", "--no-colour"],
}
VALID: dict[str, list[str]] = {
    "evaluate_valid.json": ["evaluate", "--data", str(DATA), "--split", "valid", "--json"],
}


def output(args: list[str]) -> str:
    """What ``propscope ARGS`` writes on standard output, with the model folder's path
    replaced; raises when the command fails."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PROPSCOPE_") or k == "PROPSCOPE_DATA"}
    # the FLC figures' last digits depend on the order floats are summed in, which follows
    # set order, which follows the hash seed
    env["PYTHONHASHSEED"] = "0"
    done = subprocess.run([sys.executable, "-m", "propscope.cli.main", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"propscope {' '.join(args)} failed ({done.returncode}): "
                           f"{done.stderr.strip()}")
    return done.stdout.replace(str(MODEL_DIR), "<shipped model>")


def main(argv: list[str]) -> int:
    groups = {"analyze": ANALYZE, "valid": VALID}
    for name in argv or list(groups):
        for file, args in groups[name].items():
            (HERE / file).write_text(output(args))
            print(f"wrote {HERE / file}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
