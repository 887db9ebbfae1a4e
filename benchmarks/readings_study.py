"""Does a second reading of each article (windows shifted by half a stride, outputs
averaged) pay for its encoder time? For a model folder and each number of readings: encode
valid, re-tune decoding on it (as ``propscope train`` / ``ensemble`` do) and score it with
the four SemEval measures; also times the encoding. Writes nothing into the model folder.

    python benchmarks/readings_study.py --model ~/.cache/propscope/models/accurate --readings 1,2
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace

from propscope.corpus import load_split
from propscope.model_io import load_folder
from propscope.training.loop import tune_and_evaluate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", default="../shared/ptc")
    ap.add_argument("--readings", default="1,2")
    args = ap.parse_args()
    valid = load_split(args.data, "valid")
    for readings in (int(r) for r in args.readings.split(",")):
        predictor = load_folder(args.model)
        predictor = predictor.with_decode(replace(predictor.decode, readings=readings))
        ev, seconds, decode = tune_and_evaluate(predictor, valid, log=lambda *_: None)
        print(json.dumps({"readings": readings, **ev.summary(), "encode_s": round(seconds, 1),
                          "decode": decode.to_dict()}), flush=True)


if __name__ == "__main__":
    main()
