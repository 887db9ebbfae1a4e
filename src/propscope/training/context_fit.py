"""Fitting the second stage (``context.ContextClassifier``) on out-of-fold encodings.

Rows are the distinct gold spans of articles the encoder did not train on (one row per
gold technique of the span); each row's features come from that article's encoding and
its span set, and its lexicon block from a lexicon built without that article's fold.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import metrics
from ..context import (
    ContextClassifier,
    Lexicon,
    build_lexicon,
    feature_matrix,
    span_set_features,
    token_means,
)
from ..corpus import Corpus, split_ids
from ..files import write_text_whole
from ..predictors.decoding import bio_runs
from ..predictors.marker import combine
from ..predictors.neural import Encoded, NeuralPredictor
from ..spans import Span
from .oof import Fold


@dataclass
class Rows:
    """Features of the distinct gold spans of some articles, and their gold techniques."""

    x: np.ndarray  # (rows, features), one row per gold label
    y: np.ndarray  # (rows,) technique index
    article: list[str]  # article id of each row
    span: list[tuple[int, int]]  # character range of each row

    @staticmethod
    def concat(parts: Sequence[Rows]) -> Rows:
        return Rows(np.concatenate([p.x for p in parts]), np.concatenate([p.y for p in parts]),
                    [a for p in parts for a in p.article], [s for p in parts for s in p.span])

    def subset(self, keep: Sequence[int] | np.ndarray) -> Rows:
        """The rows at positions ``keep``, in that order."""
        idx = list(keep)
        return Rows(self.x[idx], self.y[idx], [self.article[k] for k in idx],
                    [self.span[k] for k in idx])

    @staticmethod
    def empty() -> Rows:
        return Rows(np.zeros((0, 0), np.float32), np.zeros(0, np.int64), [], [])


def fold_lexicon(corpus: Corpus, data_dir: Path | str, k: int, techniques: Sequence[str]
                 ) -> dict:
    """The lexicon for fold ``k``'s rows: the labels of every article outside that fold
    (never the fold's own)."""
    held = set(split_ids(Path(data_dir), f"fold{k}"))
    return build_lexicon(((corpus.articles[a].text, s) for a in corpus.articles
                          if a not in held for s in corpus.gold[a]), techniques)


def fold_rows(data_dir: Path | str, corpus: Corpus, fold: Fold) -> tuple[dict, Rows]:
    """The lexicon for an out-of-fold ``fold`` (``oof.oof_folds``) and the rows of its
    articles' gold spans (articles without any left out)."""
    techniques = fold.predictor.techniques
    lexicon = fold_lexicon(corpus, data_dir, fold.k, techniques)
    parts = [article_rows(fold.predictor, a, e, corpus.gold[a], lexicon)
             for a, e in zip(fold.ids, fold.encodings, strict=True)]
    return lexicon, Rows.concat([p for p in parts if len(p.y)])


def cv_rows(data_dir: Path | str, corpus: Corpus, cv_dir: Path | str
            ) -> tuple[list[Rows], list[str]]:
    """The rows of each of the five fold models' out-of-fold articles (``oof.oof_folds``
    over ``cv_dir``), in fold order, and the techniques they are named with."""
    from .oof import oof_folds

    folds, techniques = [], []
    for fold in oof_folds(data_dir, cv_dir):
        techniques = list(fold.predictor.techniques)
        folds.append(fold_rows(data_dir, corpus, fold)[1])
    if not folds:
        raise FileNotFoundError(f"no fold models with out-of-fold encodings in {cv_dir}")
    return folds, techniques


def span_features(predictor: NeuralPredictor, enc: Encoded, spans: Sequence[Span],
                  lexicon: Lexicon) -> np.ndarray:
    """The second stage's input for an article's distinct ``spans`` (as at inference)."""
    base = predictor.classifier_probs(enc, spans)
    feats = span_set_features(enc.text, spans, lexicon, len(predictor.techniques))
    return feature_matrix(base, token_means(enc.offsets, enc.tech, spans), feats)


def article_rows(predictor: NeuralPredictor, aid: str, enc: Encoded, gold: Sequence[Span],
                 lexicon: Lexicon) -> Rows:
    index = {t: k for k, t in enumerate(predictor.techniques)}
    ranges = sorted({(s.start, s.end) for s in gold})
    spans = [Span(a, b) for a, b in ranges]
    if not spans:
        return Rows.empty()
    x = span_features(predictor, enc, spans, lexicon)
    row_of = {r: k for k, r in enumerate(ranges)}
    picks = [(row_of[(s.start, s.end)], index[s.technique]) for s in gold
             if s.technique in index]
    return Rows(x[[k for k, _ in picks]], np.array([t for _, t in picks], dtype=np.int64),
                [aid] * len(picks), [ranges[k] for k, _ in picks])


def with_marker_probs(rows: Rows, probs: dict[tuple[str, int, int], np.ndarray],
                      n_techniques: int) -> Rows:
    """``rows`` whose span-classifier block reads the span head joined with the marker
    classifier's ``probs`` of each (article, start, end), as ``classifier_probs`` joins them
    at inference (``probs`` out of fold: a classifier that did not train on the article)."""
    t = n_techniques
    x = rows.x.copy()
    x[:, :t] = np.log(np.clip(combine(np.exp(x[:, :t]), rows_of_table(rows, probs)), 1e-4,
                              1.0))
    return Rows(x, rows.y, rows.article, rows.span)


def marker_join(folder: str | Path | None, n_techniques: int) -> Callable[[Rows], Rows]:
    """Rows -> rows joined with the out-of-fold marker probabilities that
    ``benchmarks/marker_cv.py train`` wrote in ``folder`` (none: unchanged)."""
    if not folder:
        return lambda rows: rows
    from .marker import out_of_fold

    table = out_of_fold(folder)
    return lambda rows: with_marker_probs(rows, table, n_techniques)


def rows_of_table(rows: Rows, probs: dict[tuple[str, int, int], np.ndarray]) -> np.ndarray:
    """``probs`` of each row's (article, start, end), stacked in row order."""
    return np.stack([probs[(a, s, e)] for a, (s, e) in zip(rows.article, rows.span,
                                                           strict=True)])


def fit(rows: Rows, n_techniques: int, lexicon: Lexicon, l2: float = 1.0,
        balance: float = 0.0, bias_l2: float = 0.0) -> ContextClassifier:
    """Multinomial logistic regression by L-BFGS, structured so that it needs little data:

    ``logit_c = a * log p_c + b * token_c + d * loglex_c + V_c . set + bias_c`` (the
    encoder's probability, the technique head and the lexicon each with one weight shared
    by every technique; the span-set features with a weight per technique, L2-penalised by
    ``l2``). ``balance`` in [0, 1] re-weights classes by ``count ** -balance`` (0: none,
    1: fully balanced), so rare techniques count more. ``bias_l2`` penalises the class
    biases (0: free), keeping the encoder's own priors. Stored as a full weight matrix.
    """
    from scipy.optimize import minimize

    t, x, y = n_techniques, rows.x.astype(np.float64), rows.y
    n_set = x.shape[1] - 3 * t
    sets = slice(2 * t, 2 * t + n_set)
    mean, scale = np.zeros(x.shape[1]), np.ones(x.shape[1])
    mean[sets], scale[sets] = x[:, sets].mean(axis=0), x[:, sets].std(axis=0) + 1e-3
    z = (x - mean) / scale
    base, token, sfeat, lex = z[:, :t], z[:, t : 2 * t], z[:, sets], z[:, 2 * t + n_set :]
    n = len(y)
    counts = np.bincount(y, minlength=t).astype(np.float64)
    w_row = np.maximum(counts, 1)[y] ** -balance
    w_row = w_row * n / w_row.sum()
    onehot = np.eye(t)[y]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        a, b, d = theta[:3]
        v = theta[3 : 3 + t * n_set].reshape(t, n_set)
        bias = theta[3 + t * n_set :]
        logits = a * base + b * token + d * lex + sfeat @ v.T + bias
        logits -= logits.max(axis=1, keepdims=True)
        logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        value = (-(w_row * (onehot * logp).sum(axis=1)).sum() / n + 0.5 * l2 * (v**2).sum() / n
                 + 0.5 * bias_l2 * (bias**2).sum() / n)
        g = (np.exp(logp) - onehot) * w_row[:, None] / n
        grad = [(g * base).sum(), (g * token).sum(), (g * lex).sum()]
        return value, np.concatenate([grad, (g.T @ sfeat + l2 * v / n).ravel(),
                                      g.sum(axis=0) + bias_l2 * bias / n])

    theta0 = np.concatenate([[1.0, 0.0, 0.0], np.zeros(t * n_set + t)])
    res = minimize(loss, theta0, jac=True, method="L-BFGS-B", options={"maxiter": 1000})
    a, b, d = res.x[:3]
    w = np.zeros((t, x.shape[1]))
    w[:, sets] = res.x[3 : 3 + t * n_set].reshape(t, n_set)
    idx = np.arange(t)
    w[idx, idx], w[idx, t + idx], w[idx, 2 * t + n_set + idx] = a, b, d
    return ContextClassifier(w, res.x[3 + t * n_set :], mean, scale, dict(lexicon))


def classify_rows(probs: np.ndarray, rows: Rows, techniques: Sequence[str]
                  ) -> dict[str, list[Span]]:
    """TC predictions: each row's span named by ``probs``, rows sharing a span taking
    distinct techniques in order of probability (as ``core.classify_spans`` does)."""
    used: dict[tuple[str, tuple[int, int]], int] = {}
    out: dict[str, list[Span]] = {}
    for k, (aid, (a, b)) in enumerate(zip(rows.article, rows.span, strict=True)):
        n = used.get((aid, (a, b)), 0)
        used[(aid, (a, b))] = n + 1
        t = int(np.argsort(-probs[k])[min(n, len(techniques) - 1)])
        out.setdefault(aid, []).append(Span(a, b, techniques[t], float(probs[k, t])))
    return out


def gold_of(rows: Rows, techniques: Sequence[str]) -> dict[str, list[Span]]:
    out: dict[str, list[Span]] = {}
    for aid, (a, b), t in zip(rows.article, rows.span, rows.y, strict=True):
        out.setdefault(aid, []).append(Span(a, b, techniques[int(t)]))
    return out


def cross_validate(folds: Sequence[Rows], techniques: Sequence[str],
                   make: Callable[[Rows], ContextClassifier]) -> tuple[metrics.Score, np.ndarray]:
    """TC over all folds, each fold named by a classifier fitted on the others (``make``).
    Returns the score and the out-of-fold probabilities (rows in fold order)."""
    probs = []
    for k, held in enumerate(folds):
        train = Rows.concat([f for j, f in enumerate(folds) if j != k])
        probs.append(make(train).probs_from_features(held.x))
    allrows = Rows.concat(folds)
    p = np.concatenate(probs)
    return metrics.tc_score(classify_rows(p, allrows, techniques),
                            gold_of(allrows, techniques)), p


def predicted_rows(predictor: NeuralPredictor, aid: str, enc: Encoded, gold: Sequence[Span],
                   lexicon: Lexicon) -> Rows:
    """Rows for the spans ``predict`` finds (the BIO spans the second stage names when it
    also names predicted spans), each labelled with the technique of the gold span it
    overlaps most; spans overlapping no gold span are left out (FLC gives them no credit
    whatever their name)."""
    spans = [Span(s, e) for s, e, _ in bio_runs(enc, predictor.decode)]
    index = {t: k for k, t in enumerate(predictor.techniques)}
    if not spans:
        return Rows.empty()
    x = span_features(predictor, enc, spans, lexicon)
    keep, y = [], []
    for k, s in enumerate(spans):
        overlap = {}
        for g in gold:
            n = min(s.end, g.end) - max(s.start, g.start)
            if n > 0 and g.technique in index:
                overlap[g.technique] = overlap.get(g.technique, 0) + n
        if overlap:
            keep.append(k)
            y.append(index[max(overlap, key=overlap.__getitem__)])
    return Rows(x[keep], np.array(y, dtype=np.int64), [aid] * len(keep),
                [(spans[k].start, spans[k].end) for k in keep])


def store_stage(folder: Path, stage: ContextClassifier, context_cv: dict,
                in_predict: bool = False) -> None:
    """Write ``stage`` into a model folder (context.npz) and name it in the manifest, with
    how it was fitted and what it scored (``context_cv``), and whether it also names the
    spans ``predict`` finds (``in_predict``; else ``classify``'s only)."""
    stage.save(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["context"] = "context.npz"
    manifest["files"] = sorted(set(manifest.get("files", [])) | {"context.npz"})
    manifest["context_cv"] = context_cv
    manifest["context_in_predict"] = in_predict
    write_text_whole(folder / "manifest.json", json.dumps(manifest, indent=2) + "\n")
