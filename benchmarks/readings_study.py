"""Does a second reading of each article (windows shifted by half a stride, outputs
averaged) pay for its encoder time? For a model folder and each number of readings: encode
valid, re-tune decoding on it (as ``propscope train`` / ``ensemble`` do) and score it with
the four SemEval measures; also times the encoding. Writes nothing into the model folder.

    python benchmarks/readings_study.py --model ~/.cache/propscope/models/accurate --readings 1,2
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace

from propscope.corpus import load_split
from propscope.evaluation import evaluate_predictor
from propscope.model_io import load_folder
from propscope.training.loop import encode_corpus, tune


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", default="../shared/ptc")
    ap.add_argument("--readings", default="1,2")
    args = ap.parse_args()
    valid = load_split(args.data, "valid")
    for readings in (int(r) for r in args.readings.split(",")):
        predictor = load_folder(args.model)
        predictor.decode = replace(predictor.decode, readings=readings)
        t0 = time.perf_counter()
        encs = encode_corpus(predictor, valid)
        seconds = time.perf_counter() - t0
        tune(predictor, valid, log=lambda *_: None, encs=encs)
        predictor.remember(encs)  # scored from the same encodings
        figures = evaluate_predictor(predictor, valid).summary()
        print(json.dumps({"readings": readings, **figures, "encode_s": round(seconds, 1),
                          "decode": predictor.decode.to_dict()}), flush=True)


if __name__ == "__main__":
    main()
