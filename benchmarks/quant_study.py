"""Which weights to keep in fp32 when quantising a trained encoder to INT8 (accuracy vs size).

Exports the run's best epoch (``RUN/best.pt``) to fp32 ONNX once, quantises it several ways,
re-tunes decoding on valid for each (as ``propscope train`` does for what it ships) and
scores it with the four SemEval measures; also times the encoder on the valid windows.

    python benchmarks/quant_study.py --run runs/mpnet-v2 --encoder mpnet [--variants all,ffn_out]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from propscope.corpus import load_split
from propscope.evaluation import record_scores
from propscope.manifest import update_manifest
from propscope.model_io import load_folder
from propscope.training.export import fp32_from_checkpoint, quantize_onnx
from propscope.training.loop import tune_and_evaluate

VARIANTS: dict[str, tuple[str, ...] | None] = {
    "fp32": None,  # no quantisation
    "all": (),  # every MatMul/Gather INT8 (what training ships by default)
    "ffn_out": ("/output/dense/",),  # feed-forward down-projections stay fp32
    "ffn_out_heads": ("/output/dense/", "/model/bio/", "/model/tech/"),
    "last2": ("layer.10/", "layer.11/", "layer.4/", "layer.5/"),  # top layers stay fp32
}
#: variants whose named MatMuls keep INT8 weights but compute in fp32 (no activation scale)
WEIGHT_ONLY: dict[str, tuple[str, ...]] = {
    "ffn_out_w8": ("/output/dense/",),  # down-projections: INT8 on disk, fp32 products
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True, help="a training folder with best.pt and manifest")
    ap.add_argument("--encoder", default="mpnet")
    ap.add_argument("--data", default="../shared/ptc")
    ap.add_argument("--variants", default=",".join([*VARIANTS, *WEIGHT_ONLY]))
    ap.add_argument("--work", default=None, help="scratch folder (default: a temp folder)")
    args = ap.parse_args()
    run = Path(args.run)
    work = Path(args.work or tempfile.mkdtemp(prefix="quant-"))
    work.mkdir(parents=True, exist_ok=True)
    fp32 = work / "encoder.fp32.onnx"
    if not fp32.exists():
        fp32_from_checkpoint(run, args.encoder, fp32)
    valid = load_split(args.data, "valid")
    cfg = json.loads((run / "manifest.json").read_text())["train_config"]
    rows = []
    for name in args.variants.split(","):
        folder = work / name
        folder.mkdir(exist_ok=True)
        for f in ("tokenizer.json", "span_head.npz", "manifest.json"):
            shutil.copy(run / f, folder / f)
        target = folder / "encoder.onnx"
        if name in WEIGHT_ONLY:
            quantize_onnx(fp32, target, weight_only=WEIGHT_ONLY[name])
        elif VARIANTS[name] is None:
            shutil.copy(fp32, target)
        else:
            quantize_onnx(fp32, target, VARIANTS[name])
        predictor = load_folder(folder)
        ev, seconds, decode = tune_and_evaluate(predictor, valid, log=lambda *_: None)
        # each variant's folder is a usable model: its own decoding and valid figures
        update_manifest(folder, decode=decode.to_dict(), name=f"{run.name}-{name}",
                        train_config={**cfg, "keep_fp32": ",".join(VARIANTS.get(name) or ()),
                                      "int8_weights_only": ",".join(WEIGHT_ONLY.get(name, ())),
                                      "quantize": VARIANTS.get(name, ()) is not None})
        record_scores(folder, ev, log=lambda *_: None)
        row = {"variant": name, **ev.summary(), "mb": round(target.stat().st_size / 2**20),
               "encode_s": round(seconds, 1), "decode": decode.to_dict()}
        rows.append(row)
        print(json.dumps(row), flush=True)
    (work / "results.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
