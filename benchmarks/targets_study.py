"""The learned target selector (``propscope.target_selector``) against the rules, on the
voice/targets gold set: cross-validation grouped by article over all its articles, and
one part (``--held-out``, default ``held-out-3``) with the selector fitted on the others.

    python benchmarks/targets_study.py [--gold data/voice-targets/gold.jsonl]
        [--data ../shared/ptc] [--news ../shared/unlabeled-news] [--folds 5]
        [--models gbm lr] [--held-out held-out-3] [--write src/propscope/target_selector.json]
        [--seed 0]

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
from voice_targets_eval import (  # noqa: E402
    f1,
    load_rows,
    load_texts,
    same_entity,
    target_counts,
)

from propscope import targets as targets_mod  # noqa: E402
from propscope.results import Result, Sentence  # noqa: E402
from propscope.sentences import split_sentences  # noqa: E402
from propscope.spans import Article, Span  # noqa: E402
from propscope.target_selector import Selector  # noqa: E402

#: model settings tried: ("lr", C) and ("gbm", depth, rounds, learning rate)
SETTINGS = {"lr": tuple(("lr", c) for c in (0.03, 0.1, 0.3, 1.0, 3.0)),
            "gbm": (("gbm", 2, 100, 0.1),)}
THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.15, 0.86, 0.05))
MAX_TARGETS = (1, 2)
#: the threshold of the rules' own picks (1.0: the same as the others)
RULE_THRESHOLDS = (1.0, 0.1, 0.15, 0.2)


def counts(items: list[tuple[dict, list]]) -> tuple[list[int], list[int]]:
    """(exact, partial) [tp, fp, fn] of predicted targets against the gold rows."""
    exact, partial = [0, 0, 0], [0, 0, 0]
    for gold, preds in items:
        span_exact, span_partial = target_counts(gold["targets"], preds)
        exact = [a + b for a, b in zip(exact, span_exact, strict=True)]
        partial = [a + b for a, b in zip(partial, span_partial, strict=True)]
    return exact, partial


def figures(items: list[tuple[dict, list]]) -> dict[str, float]:
    exact, partial = counts(items)
    pe, re_, fe = f1(*exact)
    pp, rp, fp = f1(*partial)
    return {"P_exact": pe, "R_exact": re_, "F1_exact": fe,
            "P_partial": pp, "R_partial": rp, "F1_partial": fp,
            "shown": exact[0] + exact[1]}


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


def state_columns(model: str, golds: list[dict], cands: list[list[dict]],
                  texts: dict[str, str]) -> tuple[list[str], np.ndarray]:
    """Candidate columns from the tagger's encoder states (``--states``), in ``Data``'s row
    order: the cosine of the span's mean state with the mention's, whether it is the span's
    most similar candidate, and its gap to that one."""
    from voice_learned_study import ArticleStates

    states = ArticleStates(model)
    out = []
    for g, cs in zip(golds, cands, strict=True):
        text = texts[g["article"]]

        def mean(a: int, b: int, text: str = text) -> np.ndarray:
            hidden, i, j = states.pieces(text, a, b)
            v = hidden[i:j].mean(0)
            return v / (np.linalg.norm(v) + 1e-9)

        span = mean(g["start"], g["end"])
        sims = [float(span @ mean(c["mention"][0], c["mention"][1])) for c in cs]
        top = max(sims, default=0.0)
        out += [[x, float(x == top), x - top] for x in sims]
    return ["state_cos", "state_cos_top", "state_cos_gap"], np.array(out).reshape(-1, 3)


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
    if model[0] == "gbm":
        return gbm_predict(model[1], X)
    w, b, mean, scale = model[1]
    return 1 / (1 + np.exp(-(((X - mean) / scale) @ w + b)))


def train(setting: tuple, X: np.ndarray, y: np.ndarray) -> tuple:
    if setting[0] == "gbm":
        return ("gbm", gbm_fit(X, y, rounds=setting[2], lr=setting[3], depth=setting[1]))
    return ("lr", fit(X, y, setting[1]))


# ---------------------------------------------------------------- gradient boosting
# (depth-limited regression trees on the logistic loss's gradient and hessian)

def _best_split(X: np.ndarray, g: np.ndarray, h: np.ndarray, idx: np.ndarray, lam: float,
                min_leaf: int) -> tuple[float, int | None, float | None]:
    G, H = g[idx].sum(), h[idx].sum()
    base = G * G / (H + lam)
    best: tuple[float, int | None, float | None] = (0.0, None, None)
    for f in range(X.shape[1]):
        x = X[idx, f]
        o = np.argsort(x, kind="stable")
        xs = x[o]
        gl, hl = np.cumsum(g[idx][o]), np.cumsum(h[idx][o])
        valid = np.nonzero(xs[:-1] < xs[1:])[0]
        valid = valid[(valid + 1 >= min_leaf) & (len(idx) - valid - 1 >= min_leaf)]
        if not len(valid):
            continue
        GL, HL = gl[valid], hl[valid]
        GR, HR = G - GL, H - HL
        gain = GL * GL / (HL + lam) + GR * GR / (HR + lam) - base
        k = int(np.argmax(gain))
        if gain[k] > best[0]:
            best = (float(gain[k]), f, float((xs[valid[k]] + xs[valid[k] + 1]) / 2))
    return best


def _tree(X: np.ndarray, g: np.ndarray, h: np.ndarray, idx: np.ndarray, depth: int,
          lam: float, min_leaf: int) -> object:
    if depth > 0 and len(idx) >= 2 * min_leaf:
        gain, f, t = _best_split(X, g, h, idx, lam, min_leaf)
        if f is not None and gain > 1e-6:
            left, right = idx[X[idx, f] <= t], idx[X[idx, f] > t]
            return (f, t, _tree(X, g, h, left, depth - 1, lam, min_leaf),
                    _tree(X, g, h, right, depth - 1, lam, min_leaf))
    return -g[idx].sum() / (h[idx].sum() + lam)


def _pred(node: object, X: np.ndarray) -> np.ndarray:
    if not isinstance(node, tuple):
        return np.full(len(X), node)
    f, t, left, right = node
    out = np.empty(len(X))
    m = X[:, f] <= t
    out[m] = _pred(left, X[m])
    out[~m] = _pred(right, X[~m])
    return out


def gbm_fit(X: np.ndarray, y: np.ndarray, rounds: int = 100, lr: float = 0.1, depth: int = 2,
            lam: float = 1.0, min_leaf: int = 10) -> tuple[float, float, list]:
    """Boosted trees on the logistic loss: (base score, learning rate, trees)."""
    p0 = np.clip(y.mean(), 1e-3, 1 - 1e-3)
    b = float(np.log(p0 / (1 - p0)))
    z = np.full(len(y), b)
    trees = []
    idx = np.arange(len(y))
    for _ in range(rounds):
        p = 1 / (1 + np.exp(-z))
        t = _tree(X, p - y, p * (1 - p), idx, depth, lam, min_leaf)
        trees.append(t)
        z += lr * _pred(t, X)
    return (b, lr, trees)


def gbm_predict(m: tuple[float, float, list], X: np.ndarray) -> np.ndarray:
    b, lr, trees = m
    z = np.full(len(X), b)
    for t in trees:
        z += lr * _pred(t, X)
    return 1 / (1 + np.exp(-z))


def picks(d: Data, spans: list[int], probs: dict[int, np.ndarray], thr: float, k: int,
          rthr: float = 1.0          ) -> list[tuple[dict, list]]:
    """Each span's gold row and the candidates kept (as ``Selector.pick``: the best k
    with prob >= thr, or >= rthr where the rules picked them)."""
    out = []
    for i in spans:
        cs = d.cands[i]
        p = probs.get(i, np.zeros(0))
        order = sorted(range(len(cs)), key=lambda j: (p[j], -cs[j]["mention"][0]),
                       reverse=True)
        out.append((d.golds[i], [
            as_target(cs[j]) for j in order[:k]
            if p[j] >= (min(thr, rthr) if cs[j]["row"].get("rule") else thr)]))
    return out


def folds_of(articles: list[str], n: int, seed: int = 0) -> list[set[str]]:
    ids = sorted(set(articles))
    random.Random(seed).shuffle(ids)
    return [set(ids[k::n]) for k in range(n)]


def oof_probs(d: Data, spans: list[int], setting: tuple, n: int, seed: int = 0
              ) -> dict[int, np.ndarray]:
    """Out-of-fold probabilities of the candidates of ``spans`` (folds by article)."""
    probs: dict[int, np.ndarray] = {}
    for test in folds_of([d.article[i] for i in spans], n, seed):
        fitted = [i for i in spans if d.article[i] not in test]
        tr = np.isin(d.span, fitted)
        model = train(setting, d.X[tr], d.y[tr])
        for i in spans:
            if d.article[i] in test:
                probs[i] = predict(model, d.X[d.span == i]) if (d.span == i).any() \
                    else np.zeros(0)
    return probs


def choose(d: Data, spans: list[int], n: int, kind: str, key: str = "F1_partial",
           min_precision: float = 0.0, seed: int = 0
           ) -> tuple[tuple[tuple, float, int], dict]:
    """The (model setting, threshold, max_targets) with the best CV ``key``."""
    best: tuple[float, tuple, dict] = (-1.0, (), {})
    for c in SETTINGS[kind]:
        probs = oof_probs(d, spans, c, n, seed)
        for thr, k, rthr in product(THRESHOLDS, MAX_TARGETS, RULE_THRESHOLDS):
            fig = figures(picks(d, spans, probs, thr, k, rthr))
            if fig["P_partial"] < min_precision:
                continue
            if fig[key] > best[0]:
                best = (fig[key], (c, thr, k, rthr), fig)
    return best[1], best[2]


def nested(d: Data, spans: list[int], n: int, kind: str, seed: int = 0, **kw) -> dict:
    """Outer CV by article; the setting chosen by inner CV on each outer training part."""
    items = []
    for test in folds_of([d.article[i] for i in spans], n, seed=seed + 1):
        fitted = [i for i in spans if d.article[i] not in test]
        (c, thr, k, rthr), _ = choose(d, fitted, n - 1, kind, seed=seed, **kw)
        tr = np.isin(d.span, fitted)
        model = train(c, d.X[tr], d.y[tr])
        tests = [i for i in spans if d.article[i] in test]
        probs = {i: predict(model, d.X[d.span == i]) for i in tests}
        items += picks(d, tests, probs, thr, k, rthr)
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
    ap.add_argument("--models", nargs="+", default=["gbm", "lr"], choices=("gbm", "lr"),
                    help="models to study; the first is the one --write fits")
    ap.add_argument("--held-out", default="held-out-3",
                    help="the part scored with the selector fitted on the other parts")
    ap.add_argument("--write", help="fit on all rows and write the selector's JSON here")
    ap.add_argument("--seed", type=int, default=0,
                    help="added to the seeds of every fold draw (0: the figures quoted)")
    ap.add_argument("--states", metavar="MODEL",
                    help="study only: add similarity columns from MODEL's encoder states")
    args = ap.parse_args()
    rows = load_rows(args.gold)
    texts = load_texts(rows, Path(args.data), Path(args.news))
    golds, cands, rules = build(rows, texts)
    d = Data(golds, cands)
    if args.states:
        names, cols = state_columns(args.states, golds, cands, texts)
        d.names, d.X = d.names + names, np.concatenate([d.X, cols], axis=1)
    every = list(range(len(golds)))
    held = args.held_out
    ho3 = [i for i in every if golds[i]["part"] == held]
    rest = [i for i in every if golds[i]["part"] != held]
    n_gold = sum(len(g["targets"]) for g in golds)
    reach = sum(any(label(c, {"targets": [t]}) for c in cs)
                for g, cs in zip(golds, cands, strict=True) for t in g["targets"])
    print(f"{len(golds)} targeting spans, {len(set(d.article))} articles, {n_gold} gold "
          f"targets; {len(d.y)} candidates ({int(d.y.sum())} positive), {len(d.names)} "
          f"features; gold targets among the candidates: {reach}/{n_gold}")
    out: dict[str, dict] = {}
    for name, spans in (("all", every), (held, ho3)):
        out[f"rules, {name}"] = figures([(golds[i], rules[i]) for i in spans])
    chosen: dict[str, tuple] = {}
    precise: dict[str, tuple] = {}
    for kind in args.models:
        setting, fig = choose(d, every, args.folds, kind, seed=args.seed)
        chosen[kind] = setting
        out[f"{kind} CV, chosen on the same folds {_s(setting)}"] = fig
        out[f"{kind} CV, nested"] = nested(d, every, args.folds, kind, seed=args.seed)
        p_setting, p_fig = choose(d, every, args.folds, kind, min_precision=0.6,
                                  seed=args.seed)
        out[f"{kind} CV, precision >= 0.6 {_s(p_setting)}"] = p_fig
        precise[kind] = p_setting
        # the held-out part: fitted and tuned on the other parts only
        tuned, _ = choose(d, rest, args.folds, kind, seed=args.seed)
        c = tuned[0]
        model = train(c, d.X[np.isin(d.span, rest)], d.y[np.isin(d.span, rest)])
        probs = {i: predict(model, d.X[d.span == i]) for i in ho3}
        out[f"{kind} {held}, fitted + tuned on the other parts {_s(tuned)}"] = \
            figures(picks(d, ho3, probs, *tuned[1:]))
        if p_setting[0] == c:
            out[f"{kind} {held}, fitted on the other parts, precision setting"] = \
                figures(picks(d, ho3, probs, *p_setting[1:]))
        out[f"{kind} {held}, fitted on the other parts, CV-all setting"] = figures(
            picks(d, ho3, probs, *setting[1:]))
    for name, fig in out.items():
        print(f"{name:72s} {fmt(fig)}")
    if args.write:
        kind = args.models[0]
        c, thr, k, rthr = chosen[kind]
        model = train(c, d.X, d.y)
        meta = {"fitted_on": f"{args.gold}: {len(golds)} targeting spans, "
                             f"{len(set(d.article))} articles", "setting": list(c),
                "by": "benchmarks/targets_study.py"}
        if kind == "gbm":
            base, rate, trees = model[1]
            sel = Selector({}, round(base, 6), thr, k, meta, rate,
                           [_named(t, d.names) for t in trees], rthr)
        else:
            w, b, mean, scale = model[1]
            weights = {n: round(float(x / s), 6)
                       for n, x, s in zip(d.names, w, scale, strict=True)}
            bias = float(b - sum(x * m / s for x, m, s in zip(w, mean, scale, strict=True)))
            sel = Selector(weights, round(bias, 6), thr, k, meta, rule_threshold=rthr)
        if precise[kind][0] == c:
            sel.precise = dict(zip(("threshold", "max_targets", "rule_threshold"),
                                   map(float, precise[kind][1:]), strict=True))
        Path(args.write).write_text(json.dumps(sel.to_dict()) + "\n")
        print(f"wrote {args.write}")


def _s(setting: tuple) -> str:
    c, thr, k, rthr = setting
    rule = f", rules' picks {float(rthr):.2f}" if rthr < thr else ""
    return f"({'/'.join(map(str, c))}, threshold {float(thr):.2f}{rule}, at most {k})"


def _named(node: object, names: list[str]) -> object:
    """A tree with feature names and rounded numbers, for the JSON file."""
    if not isinstance(node, tuple):
        return round(float(node), 5)
    f, t, left, right = node
    return [names[f], round(float(t), 5), _named(left, names), _named(right, names)]


if __name__ == "__main__":
    main()
