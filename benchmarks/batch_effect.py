"""Valid figures and time of a model with several windows per encoder call against one.

INT8 encoders scale activations per call, so windows encoded together change each other's
outputs; this shows how much that moves the four measures (decoding as stored).

    python benchmarks/batch_effect.py --model src/propscope/models/default --sizes 16,1
"""

from __future__ import annotations

import argparse
import json
import time

from propscope.corpus import load_split
from propscope.evaluation import evaluate_predictor
from propscope.model_io import load_folder
from propscope.predictors.encoding import window_encoders


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="src/propscope/models/default")
    ap.add_argument("--data", default="../shared/ptc")
    ap.add_argument("--sizes", default="16,1", help="windows per encoder call")
    args = ap.parse_args()
    valid = load_split(args.data, "valid")
    for size in (int(x) for x in args.sizes.split(",")):
        predictor = load_folder(args.model)
        for encoder in window_encoders(predictor.encoder):
            encoder.batch_size = size
        t0 = time.perf_counter()
        figures = evaluate_predictor(predictor, valid).summary()
        print(json.dumps({"windows_per_call": size, **figures,
                          "seconds": round(time.perf_counter() - t0, 1)}), flush=True)


if __name__ == "__main__":
    main()
