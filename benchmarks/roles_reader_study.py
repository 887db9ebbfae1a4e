"""A learned reader of voice and targets: does a fine-tuned encoder reading the text around a
span beat the hand rules (voice) and the candidate selector (targets) on the gold set?

    python benchmarks/roles_reader_study.py --test held-out-7 [--epochs 4] [--out runs/roles-reader]
    python benchmarks/roles_reader_study.py --cv 5 [--out runs/roles-reader-cv]

Each gold span of ``data/voice-targets/gold.jsonl`` is read as one input:
``[CLS] technique [SEP] headline [SEP] left [open] span [close] right [SEP]`` (word pieces of
MiniLM-L6; up to ``LEFT`` pieces before the span, ``RIGHT`` after). One encoder, two heads:

- voice: a linear layer over (CLS, open marker, mean of the span's pieces) -> author /
  quoted / attributed;
- targets: a per-piece probability of being part of a mention of the span's target (trained
  on the spans of targeting techniques only: every piece of the gold target mentions, and of
  other occurrences of their names in the input).

Decoding of targets: runs of whole words whose pieces reach ``--threshold``, best first, at
most ``--top`` a span. Scored as ``voice_targets_eval.py`` scores (partial: a shared name
word). ``--test PART`` fits on every other part and scores PART (held-out-7 is the part no
rule or selector setting was ever tuned on); ``--cv K`` gives out-of-fold figures over all
parts (folds by article, as ``targets_study.py``). The fitted weights and out-of-fold
probabilities go under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
from targets_study import folds_of  # noqa: E402
from voice_targets_eval import STOP, f1, load_rows, load_texts, target_counts  # noqa: E402

from propscope.predictors.encoding import WordPieces  # noqa: E402
from propscope.targets import TARGETING  # noqa: E402
from propscope.training.encoders import encoder_dir  # noqa: E402
from propscope.training.optim import update, warmup_then_decay  # noqa: E402

VOICES = ("author", "quoted", "attributed")
LEFT, RIGHT, SPAN, HEAD = 160, 64, 48, 24


@dataclass
class Example:
    ids: list[int]
    offsets: list[tuple[int, int]]  # article character offsets of each piece ((0, 0): special)
    open_at: int
    close_at: int
    voice: int
    tags: list[float] | None  # per piece, None for spans of non-targeting techniques
    row: dict = field(repr=False)


def _name_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[A-Z][\w'-]+", text) if w.lower() not in STOP]


def build(rows: list[dict], texts: dict[str, str], pieces: WordPieces) -> list[Example]:
    cache: dict[str, tuple[list[int], list[tuple[int, int]]]] = {}
    out = []
    for r in rows:
        text = texts[r["article"]]
        if r["article"] not in cache:
            cache[r["article"]] = pieces(text)
        ids, offs = cache[r["article"]]
        starts = [a for a, _ in offs]
        first = next((k for k, (a, b) in enumerate(offs) if b > r["start"]), len(offs))
        last = next((k for k, (a, b) in enumerate(offs) if a >= r["end"]), len(offs))
        head_end = text.find("\n")
        head_end = len(text) if head_end < 0 else head_end
        n_head = sum(1 for a in starts if a < head_end)
        head = list(range(min(n_head, HEAD)))
        lo = max(min(n_head, first), first - LEFT)
        left = list(range(lo, first))
        span = list(range(first, min(last, first + SPAN)))
        right = list(range(last, min(len(ids), last + RIGHT)))
        tech = next((t for t in r["techniques"] if t in TARGETING), r["techniques"][0])
        tech_ids = pieces.ids(tech.replace("_", " ").replace(",", " , ").replace("-", " "))
        cls, sep = pieces.cls_id, pieces.sep_id
        o, c = pieces.marker_ids
        seq = [cls, *tech_ids, sep, *(ids[k] for k in head), sep, *(ids[k] for k in left), o,
               *(ids[k] for k in span), c, *(ids[k] for k in right), sep]
        z = (0, 0)
        where = [z] * (len(tech_ids) + 2) + [offs[k] for k in head] + [z] + \
            [offs[k] for k in left] + [z] + [offs[k] for k in span] + [z] + \
            [offs[k] for k in right] + [z]
        open_at = len(tech_ids) + 3 + len(head) + len(left)
        close_at = open_at + 1 + len(span)
        tags = None
        if "targets" in r:
            marks = np.zeros(len(text), bool)
            for t in r["targets"]:
                marks[t["start"]:t["end"]] = True
                for name in {t["text"], *_name_words(t["text"])}:
                    if len(name) < 3:
                        continue
                    for m in re.finditer(r"\b" + re.escape(name) + r"\b", text):
                        marks[m.start():m.end()] = True
            tags = [float(b > a and marks[a:b].any()) for a, b in where]
        out.append(Example(seq, where, open_at, close_at, VOICES.index(r["voice"]), tags, r))
    return out


class Reader(nn.Module):
    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        h = encoder.config.hidden_size
        self.dropout = nn.Dropout(0.1)
        self.voice = nn.Linear(3 * h, len(VOICES))
        self.tag = nn.Linear(h, 1)

    def forward(self, ids, mask, inside, opens):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            states = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state.float()
        mean = (states * inside[..., None]).sum(1) / inside.sum(1).clamp(min=1)[:, None]
        marker = states[torch.arange(len(ids)), opens]
        pooled = self.dropout(torch.cat([states[:, 0], marker, mean], dim=-1))
        return self.voice(pooled), self.tag(self.dropout(states))[..., 0]


def tensors(xs: list[Example], pad: int):
    n = max(len(x.ids) for x in xs)
    ids = torch.full((len(xs), n), pad, dtype=torch.long)
    mask = torch.zeros((len(xs), n), dtype=torch.long)
    inside = torch.zeros((len(xs), n))
    tags = torch.zeros((len(xs), n))
    tag_mask = torch.zeros((len(xs), n))
    for r, x in enumerate(xs):
        ids[r, : len(x.ids)] = torch.tensor(x.ids)
        mask[r, : len(x.ids)] = 1
        inside[r, x.open_at + 1 : x.close_at] = 1
        if x.tags is not None:
            tags[r, : len(x.ids)] = torch.tensor(x.tags)
            tag_mask[r, : len(x.ids)] = torch.tensor([float(b > a) for a, b in x.offsets])
    opens = torch.tensor([x.open_at for x in xs])
    return ids, mask, inside, opens, tags, tag_mask


def train(xs: list[Example], pad: int, epochs: int, seed: int, log=print) -> Reader:
    from transformers import AutoModel

    torch.manual_seed(seed)
    rng = random.Random(seed)
    model = Reader(AutoModel.from_pretrained(str(encoder_dir("minilm"))))
    heads = [*model.voice.parameters(), *model.tag.parameters()]
    opt = torch.optim.AdamW([{"params": model.encoder.parameters(), "lr": 5e-5},
                             {"params": heads, "lr": 1e-3}], weight_decay=0.01)
    size = 16
    steps = epochs * ((len(xs) + size - 1) // size)
    sched = warmup_then_decay(opt, steps)
    start = time.time()
    model.train()
    for epoch in range(epochs):
        order = list(range(len(xs)))
        rng.shuffle(order)
        chunks = [sorted(order[i: i + 20 * size], key=lambda k: len(xs[k].ids))
                  for i in range(0, len(order), 20 * size)]
        groups = [c[i: i + size] for c in chunks for i in range(0, len(c), size)]
        rng.shuffle(groups)
        total = 0.0
        for group in groups:
            ids, mask, inside, opens, tags, tag_mask = tensors([xs[k] for k in group], pad)
            vlog, tlog = model(ids, mask, inside, opens)
            y = torch.tensor([xs[k].voice for k in group])
            loss = nn.functional.cross_entropy(vlog, y)
            if tag_mask.sum() > 0:
                bce = nn.functional.binary_cross_entropy_with_logits(tlog, tags, reduction="none")
                loss = loss + 2.0 * (bce * tag_mask).sum() / tag_mask.sum()
            total += update(model, opt, sched, loss)
        log(f"  epoch {epoch + 1}: loss {total / len(groups):.3f} ({time.time() - start:.0f} s)")
    model.eval()
    return model


def infer(model: Reader, xs: list[Example], pad: int) -> list[tuple[np.ndarray, np.ndarray]]:
    out = []
    with torch.inference_mode():
        for k in range(0, len(xs), 16):
            group = xs[k: k + 16]
            ids, mask, inside, opens, _, _ = tensors(group, pad)
            vlog, tlog = model(ids, mask, inside, opens)
            vp = torch.softmax(vlog, -1).numpy()
            tp = torch.sigmoid(tlog).numpy()
            out += [(vp[r], tp[r, : len(x.ids)]) for r, x in enumerate(group)]
    return out


def decode(x: Example, probs: np.ndarray, text: str, threshold: float, top: int) -> list:
    """Predicted target mentions: runs of whole words whose best piece reaches
    ``threshold``, the best ``top`` (distinct names) first."""
    words: list[tuple[int, int, float]] = []  # (start, end, best piece) of each whole word
    for (a, b), p in zip(x.offsets, probs, strict=True):
        if b <= a or not text[a].isalnum():  # specials and punctuation are no words
            continue
        if words and a == words[-1][1] and text[a - 1].isalnum():  # a word piece: ##...
            s, _, q = words[-1]
            words[-1] = (s, b, max(q, float(p)))
        else:
            words.append((a, b, float(p)))
    runs: list[tuple[int, int, float]] = []
    prev_end = -1
    for a, b, p in words:
        if p < threshold:
            prev_end = -1
            continue
        if runs and prev_end >= 0 and text[prev_end:a].strip() == "":
            s, _, q = runs[-1]
            runs[-1] = (s, b, max(q, p))
        else:
            runs.append((a, b, p))
        prev_end = b
    runs.sort(key=lambda r: -r[2])
    kept, seen = [], set()
    for a, b, p in runs:
        name = text[a:b].strip(" ,.;:'\"").lower()
        if not name or name in seen:
            continue
        seen.add(name)
        kept.append(SimpleNamespace(start=a, end=b, text=text[a:b], entity=text[a:b], p=p))
        if len(kept) == top:
            break
    return kept


def score(xs: list[Example], outs, texts, threshold: float, top: int) -> dict:
    voice_ok, exact, partial = 0, [0, 0, 0], [0, 0, 0]
    for x, (vp, tp) in zip(xs, outs, strict=True):
        voice_ok += int(vp.argmax()) == x.voice
        if "targets" not in x.row:
            continue
        preds = decode(x, tp, texts[x.row["article"]], threshold, top)
        e, p = target_counts(x.row["targets"], preds)
        for k in range(3):
            exact[k] += e[k]
            partial[k] += p[k]
    pr = f1(*partial)
    return {"spans": len(xs), "voice_accuracy": round(voice_ok / len(xs), 4),
            "target_f1_exact": round(f1(*exact)[2], 4), "target_f1_partial": round(pr[2], 4),
            "target_p_r_partial": [round(pr[0], 3), round(pr[1], 3)]}


def sweep(xs, outs, texts) -> dict:
    return {f"{th}/{top}": score(xs, outs, texts, th, top)
            for th in (0.2, 0.3, 0.4, 0.5, 0.6) for top in (1, 2)}


def save(path: Path, xs: list[Example], outs) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        for x, (vp, tp) in zip(xs, outs, strict=True):
            f.write(json.dumps({"article": x.row["article"], "start": x.row["start"],
                                "end": x.row["end"], "voice": vp.round(4).tolist(),
                                "offsets": x.offsets, "tags": tp.round(4).tolist()}) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gold", default="data/voice-targets/gold.jsonl")
    ap.add_argument("--data", type=Path, default=Path("../shared/ptc"))
    ap.add_argument("--news", type=Path, default=Path("../shared/unlabeled-news"))
    ap.add_argument("--test", help="fit on the other parts, score this one")
    ap.add_argument("--cv", type=int, help="K-fold CV by article over all parts")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("runs/roles-reader"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = load_rows(args.gold)
    texts = load_texts(rows, args.data, args.news)
    pieces = WordPieces(str(encoder_dir("minilm") / "tokenizer.json"))
    xs = build(rows, texts, pieces)
    print(f"{len(xs)} spans, {sum(x.tags is not None for x in xs)} targeting; "
          f"longest input {max(len(x.ids) for x in xs)} pieces")
    if args.test:
        splits = [([x for x in xs if x.row["part"] != args.test],
                   [x for x in xs if x.row["part"] == args.test])]
    else:
        splits = [([x for x in xs if x.row["article"] not in test],
                   [x for x in xs if x.row["article"] in test])
                  for test in folds_of([x.row["article"] for x in xs], args.cv, args.seed)]
    tested, outs = [], []
    for k, (fit, test) in enumerate(splits):
        print(f"split {k}: fit {len(fit)}, test {len(test)}")
        model = train(fit, pieces.pad_id, args.epochs, args.seed)
        o = infer(model, test, pieces.pad_id)
        save(args.out / f"split{k}.jsonl", test, o)
        print(json.dumps(score(test, o, texts, 0.4, 2)))
        tested += test
        outs += o
    report = sweep(tested, outs, texts)
    for key, s in report.items():
        print(key, json.dumps(s))
    (args.out / "report.json").write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
