"""The learned target selector (``propscope.target_selector``) against the rules, on the
voice/targets gold set: cross-validation grouped by article over all 46 articles, and
the blind part ``held-out-3`` with the selector fitted on the other three parts only.

    python benchmarks/targets_study.py [--gold data/voice-targets/gold.jsonl]
        [--data ../shared/ptc] [--news ../shared/unlabeled-news] [--folds 5]
        [--write src/propscope/target_selector.json]

Candidates come from ``targets.span_candidates`` (what the shipped code sees); a
candidate entity is a positive where it shares a name word with a gold target of its
span (the scorer's partial match). A logistic regression (numpy / scipy, L2) scores
them; a span keeps its best ``max_targets`` candidates at or over the threshold. The
regularisation, the threshold and ``max_targets`` are chosen by cross-validation:
"CV, chosen on the same folds" reports the best setting on the folds it was chosen on
(optimistic), "CV, nested" chooses it inside each outer fold's training articles (the
honest figure). Figures are target F1 exact and partial with precision and recall, as
``benchmarks/voice_targets_eval.py`` counts them.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import defaultdict
from itertools import product
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from scipy.optimize import minimize

sys.path.insert(0, str(Path(__file__).parent))
from voice_targets_eval import f1, load_texts, norm  # noqa: E402

from propscope import targets as targets_mod  # noqa: E402
from propscope.results import Result, Sentence  # noqa: E402
from propscope.sentences import split_sentences  # noqa: E402
from propscope.spans import Article, Span  # noqa: E402
from propscope.target_selector import Selector  # noqa: E402

CS = (0.03, 0.1, 0.3, 1.0, 3.0)
THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.15, 0.86, 0.05))
MAX_TARGETS = (1, 2)


def same_entity(pred: object, gold: dict) -> bool:
    g = set((norm(gold["text"]) or "").split())
    return any(g & set((norm(x) or "").split()) for x in (pred.entity, pred.text))


def counts(items: list[tuple[dict, list]]) -> tuple[list[int], list[int]]:
    """(exact, partial) [tp, fp, fn] of predicted targets against the gold rows."""
    exact, partial = [0, 0, 0], [0, 0, 0]
    for gold, preds in items:
        golds = gold["targets"]
        hit_g = {k for k, t in enumerate(golds) for q in preds
                 if (q.start, q.end) == (t["start"], t["end"])}
        hit_p = {k for k, q in enumerate(preds) for t in golds
                 if (q.start, q.end) == (t["start"], t["end"])}
        exact = [exact[0] + len(hit_g), exact[1] + len(preds) - len(hit_p),
                 exact[2] + len(golds) - len(hit_g)]
        pg = {k for k, t in enumerate(golds) if any(same_entity(q, t) for q in preds)}
        pp = {k for k, q in enumerate(preds) if any(same_entity(q, t) for t in golds)}
        partial = [partial[0] + len(pg), partial[1] + len(preds) - len(pp),
                   partial[2] + len(golds) - len(pg)]
    return exact, partial


def figures(items: list[tuple[dict, list]]) -> dict[str, float]:
    exact, partial = counts(items)
    pe, re_, fe = f1(*exact)
    pp, rp, fp = f1(*partial)
    return {"P_exact": pe, "R_exact": re_, "F1_exact": fe,
            "P_partial": pp, "R_partial": rp, "F1_partial": fp,
            "shown": partial[0] + partial[1] - 0 if False else exact[0] + exact[1]}


def build(rows: list[dict], texts: dict[str, str]) -> tuple[list[dict], list, list]:
    """The targeting gold rows, their candidates and the rules' targets."""
    by_article: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_article[r["article"]].append(r)
    results, order = [], []
    for aid, items in by_article.items():
        text = texts[aid]
        spans = [Span(r["start"], r["end"], next(
            (t for t in r["techniques"] if t in targets_mod.TARGETING), r["techniques"][0]))
            for r in items]
        results.append(Result(Article(aid, text), spans,
                              [Sentence(a, b, []) for a, b in split_sentences(text)], {}))
        order.append(items)
    cands = targets_mod.span_candidates(results)
    rules = targets_mod.find_targets(results, selector=None)
    golds, cs, rs = [], [], []
    for items, per_c, per_r in zip(order, cands, rules, strict=True):
        for r, c, t in zip(items, per_c, per_r, strict=True):
            if "targets" in r:
                golds.append(r)
                cs.append(c or [])
                rs.append(list(t or ()))
    return golds, cs, rs


def as_target(c: dict) -> SimpleNamespace:
    return SimpleNamespace(entity=c["entity"], text=c["mention"][2], start=c["mention"][0],
                           end=c["mention"][1])


def label(c: dict, gold: dict) -> int:
    return int(any(same_entity(as_target(c), t) for t in gold["targets"]))


class Data:
    """Candidates as a matrix: X (candidates x features), y, and the span of each row."""

    def __init__(self, golds: list[dict], cands: list[list[dict]]) -> None:
        self.names = sorted({k for cs in cands for c in cs for k in c["row"]})
        self.golds, self.cands = golds, cands
        rows = [(i, c) for i, cs in enumerate(cands) for c in cs]
        self.span = np.array([i for i, _ in rows], dtype=int)
        self.X = np.array([[c["row"].get(k, 0.0) for k in self.names] for _, c in rows])
        self.y = np.array([label(c, golds[i]) for i, c in rows], dtype=float)
        self.article = [g["article"] for g in golds]


def fit(X: np.ndarray, y: np.ndarray, c: float) -> tuple[np.ndarray, float, np.ndarray,
                                                          np.ndarray]:
    """L2 logistic regression on standardised features: (w, b, mean, scale)."""
    mean, scale = X.mean(0), X.std(0)
    scale[scale == 0] = 1.0
    Z = (X - mean) / scale

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:-1], theta[-1]
        z = Z @ w + b
        p = 1 / (1 + np.exp(-z))
        ll = np.logaddexp(0, z) - y * z
        g = p - y
        return (ll.sum() + 0.5 / c * w @ w,
                np.concatenate([Z.T @ g + w / c, [g.sum()]]))

    theta = minimize(loss, np.zeros(Z.shape[1] + 1), jac=True, method="L-BFGS-B").x
    return theta[:-1], float(theta[-1]), mean, scale


def predict(model: tuple, X: np.ndarray) -> np.ndarray:
    w, b, mean, scale = model
    return 1 / (1 + np.exp(-(((X - mean) / scale) @ w + b)))


def picks(d: Data, spans: list[int], probs: dict[int, np.ndarray], thr: float, k: int
          ) -> list[tuple[dict, list]]:
    """Each span's gold row and the candidates kept (prob >= thr, best k)."""
    out = []
    for i in spans:
        cs = d.cands[i]
        p = probs.get(i, np.zeros(0))
        order = sorted(range(len(cs)), key=lambda j: (p[j], -cs[j]["mention"][0]),
                       reverse=True)
        out.append((d.golds[i], [as_target(cs[j]) for j in order[:k] if p[j] >= thr]))
    return out


def folds_of(articles: list[str], n: int, seed: int = 0) -> list[set[str]]:
    ids = sorted(set(articles))
    random.Random(seed).shuffle(ids)
    return [set(ids[k::n]) for k in range(n)]


def oof_probs(d: Data, spans: list[int], c: float, n: int, seed: int = 0
              ) -> dict[int, np.ndarray]:
    """Out-of-fold probabilities of the candidates of ``spans`` (folds by article)."""
    probs: dict[int, np.ndarray] = {}
    for test in folds_of([d.article[i] for i in spans], n, seed):
        train = [i for i in spans if d.article[i] not in test]
        tr = np.isin(d.span, train)
        model = fit(d.X[tr], d.y[tr], c)
        for i in spans:
            if d.article[i] in test:
                probs[i] = predict(model, d.X[d.span == i]) if (d.span == i).any() \
                    else np.zeros(0)
    return probs


def choose(d: Data, spans: list[int], n: int, key: str = "F1_partial",
           min_precision: float = 0.0) -> tuple[tuple[float, float, int], dict]:
    """The (C, threshold, max_targets) with the best CV ``key`` over ``spans``."""
    best: tuple[float, tuple, dict] = (-1.0, (), {})
    for c in CS:
        probs = oof_probs(d, spans, c, n)
        for thr, k in product(THRESHOLDS, MAX_TARGETS):
            fig = figures(picks(d, spans, probs, thr, k))
            if fig["P_partial"] < min_precision:
                continue
            if fig[key] > best[0]:
                best = (fig[key], (c, thr, k), fig)
    return best[1], best[2]


def nested(d: Data, spans: list[int], n: int, **kw) -> dict:
    """Outer CV by article; the setting chosen by inner CV on each outer training part."""
    items = []
    for test in folds_of([d.article[i] for i in spans], n, seed=1):
        train = [i for i in spans if d.article[i] not in test]
        (c, thr, k), _ = choose(d, train, n - 1, **kw)
        tr = np.isin(d.span, train)
        model = fit(d.X[tr], d.y[tr], c)
        tests = [i for i in spans if d.article[i] in test]
        probs = {i: predict(model, d.X[d.span == i]) for i in tests}
        items += picks(d, tests, probs, thr, k)
    return figures(items)


def fmt(fig: dict) -> str:
    return (f"exact P {fig['P_exact']:.2f} R {fig['R_exact']:.2f} F1 {fig['F1_exact']:.2f}"
            f" | partial P {fig['P_partial']:.2f} R {fig['R_partial']:.2f}"
            f" F1 {fig['F1_partial']:.2f} | shown {fig['shown']}")


def f05(fig: dict) -> float:
    p, r = fig["P_partial"], fig["R_partial"]
    return 1.25 * p * r / (0.25 * p + r) if p + r else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gold", default="data/voice-targets/gold.jsonl")
    ap.add_argument("--data", default="../shared/ptc")
    ap.add_argument("--news", default="../shared/unlabeled-news")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--write", help="fit on all rows and write the selector's JSON here")
    args = ap.parse_args()
    rows = [json.loads(line) for line in Path(args.gold).read_text().splitlines() if line]
    texts = load_texts(rows, Path(args.data), Path(args.news))
    golds, cands, rules = build(rows, texts)
    d = Data(golds, cands)
    every = list(range(len(golds)))
    ho3 = [i for i in every if golds[i]["part"] == "held-out-3"]
    rest = [i for i in every if golds[i]["part"] != "held-out-3"]
    n_gold = sum(len(g["targets"]) for g in golds)
    reach = sum(any(label(c, {"targets": [t]}) for c in cs)
                for g, cs in zip(golds, cands, strict=True) for t in g["targets"])
    print(f"{len(golds)} targeting spans, {len(set(d.article))} articles, {n_gold} gold "
          f"targets; {len(d.y)} candidates ({int(d.y.sum())} positive), {len(d.names)} "
          f"features; gold targets among the candidates: {reach}/{n_gold}")
    out: dict[str, dict] = {}
    for name, spans in (("all", every), ("held-out-3", ho3)):
        out[f"rules, {name}"] = figures([(golds[i], rules[i]) for i in spans])
    setting, fig = choose(d, every, args.folds)
    out[f"selector CV, chosen on the same folds {setting}"] = fig
    out["selector CV, nested"] = nested(d, every, args.folds)
    p_setting, p_fig = choose(d, every, args.folds, key="F1_partial", min_precision=0.7)
    out[f"selector CV, precision >= 0.7 {p_setting}"] = p_fig
    # held-out-3: fitted and tuned on tuning / held-out-1 / held-out-2 only
    (c, thr, k), _ = choose(d, rest, args.folds)
    model = fit(d.X[np.isin(d.span, rest)], d.y[np.isin(d.span, rest)], c)
    probs = {i: predict(model, d.X[d.span == i]) for i in ho3}
    out[f"selector held-out-3, fitted on the other parts {(c, thr, k)}"] = figures(
        picks(d, ho3, probs, thr, k))
    c, thr, k = setting
    out[f"selector held-out-3, other parts, CV-all setting {setting}"] = figures(
        picks(d, ho3, probs, thr, k))
    for name, fig in out.items():
        print(f"{name:70s} {fmt(fig)}")
    if args.write:
        c, thr, k = setting
        w, b, mean, scale = fit(d.X, d.y, c)
        weights = {n: round(float(x / s), 6) for n, x, s in zip(d.names, w, scale,
                                                                   strict=True)}
        bias = float(b - sum(x * m / s for x, m, s in zip(w, mean, scale, strict=True)))
        sel = Selector(weights, round(bias, 6), thr, k, {
            "fitted_on": f"{args.gold}: {len(golds)} targeting spans, "
                         f"{len(set(d.article))} articles", "C": c,
            "by": "benchmarks/targets_study.py"})
        Path(args.write).write_text(json.dumps(sel.to_dict(), indent=1) + "\n")
        print(f"wrote {args.write}")


if __name__ == "__main__":
    main()
