"""Fitting the reader's calibration: isotonic maps from raw span score to the chance that
an annotator marks that technique on most of the span, on out-of-fold predictions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..reader import Calibration
from ..spans import Span


def span_hits(pred: Sequence[Span], gold: Sequence[Span], share: float = 0.5) -> list[bool]:
    """For each predicted span: do gold spans of its technique cover at least ``share`` of
    its characters?"""
    out = []
    for p in pred:
        covered = np.zeros(max(1, p.end - p.start), dtype=bool)
        for g in gold:
            if g.technique == p.technique and g.start < p.end and p.start < g.end:
                covered[max(g.start, p.start) - p.start : min(g.end, p.end) - p.start] = True
        out.append(bool(covered.mean() >= share))
    return out


def isotonic(x: np.ndarray, y: np.ndarray, min_bin: int = 10) -> tuple[list[float], list[float]]:
    """Pool-adjacent-violators on (score, hit) pairs, then blocks of fewer than ``min_bin``
    points pooled with a neighbour. Returns knots (block mean score, block hit rate),
    non-decreasing in both."""
    order = np.argsort(x, kind="stable")
    blocks: list[list[float]] = []  # [sum of scores, sum of hits, count]
    for a, b in zip(x[order].astype(float), y[order].astype(float), strict=True):
        blocks.append([a, b, 1.0])
        while len(blocks) > 1 and blocks[-2][1] * blocks[-1][2] >= blocks[-1][1] * blocks[-2][2]:
            sx, sy, n = blocks.pop()
            blocks[-1] = [blocks[-1][0] + sx, blocks[-1][1] + sy, blocks[-1][2] + n]
    merged: list[list[float]] = []
    for blk in blocks:
        if merged and (blk[2] < min_bin or merged[-1][2] < min_bin):
            merged[-1] = [m + v for m, v in zip(merged[-1], blk, strict=True)]
        else:
            merged.append(blk)
    knots_x = [float(sx / n) for sx, _, n in merged]
    knots_y = [float(sy / n) for _, sy, n in merged]
    for k in range(1, len(knots_y)):  # pooling small blocks keeps the rates non-decreasing
        knots_y[k] = max(knots_y[k], knots_y[k - 1])
    return knots_x, knots_y


def fit_calibration(scores: Mapping[str, np.ndarray], hits: Mapping[str, np.ndarray],
                    min_positives: int = 15) -> Calibration:
    """Per-technique isotonic maps where a technique has ``min_positives`` hits, and one
    pooled map for the others."""
    maps = {}
    for t in scores:
        if hits[t].sum() >= min_positives and (~hits[t].astype(bool)).sum() >= min_positives:
            maps[t] = isotonic(scores[t], hits[t])
    pooled_x = np.concatenate(list(scores.values()))
    pooled_y = np.concatenate(list(hits.values()))
    return Calibration(maps, isotonic(pooled_x, pooled_y))


def expected_calibration_error(p: np.ndarray, y: np.ndarray, bins: int = 10
                               ) -> tuple[float, list[tuple[float, float, int]]]:
    """ECE over equal-width bins, and each bin's (mean confidence, hit rate, count)."""
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(p, edges) - 1, 0, bins - 1)
    table, ece = [], 0.0
    for b in range(bins):
        sel = which == b
        if sel.any():
            conf, acc = float(p[sel].mean()), float(y[sel].mean())
            ece += sel.sum() / len(p) * abs(conf - acc)
            table.append((conf, acc, int(sel.sum())))
    return ece, table
