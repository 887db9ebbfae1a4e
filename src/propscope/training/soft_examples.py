"""A student's examples: an article's soft targets (``soft_targets``) aligned to its word
pieces and mixed with its gold labels (``prepare``), cut into windows (``soft_windows``,
their edges moved by ``shift``) and batched as tensors (``collate_soft``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .. import alignment
from ..span_features import surface_features
from ..spans import Article, Span
from .data import padded_ids, window_span
from .soft_targets import ArticleTargets, pieces_hash, text_hash


@dataclass
class Prepared:
    """One article's word pieces with the student's targets for every piece and span."""

    ids: np.ndarray  # (tokens,)
    bio: np.ndarray  # (tokens, 3)
    tech: np.ndarray  # (tokens, techniques)
    spans: list[tuple[int, int]]  # token ranges [i, j)
    span_targets: list[np.ndarray]  # (techniques,) each
    feats: list[np.ndarray]


@dataclass
class SoftWindow:
    ids: np.ndarray  # with [CLS] ... [SEP]
    bio: np.ndarray  # (len, 3); rows of the special tokens are zero (not scored)
    tech: np.ndarray  # (len, techniques)
    spans: list[tuple[int, int]]  # window coordinates
    span_targets: list[np.ndarray]
    feats: list[np.ndarray]


def prepare(article: Article, target: ArticleTargets, pieces: Any, techniques: list[str],
            gold: Sequence[Span] | None = None, gold_mix: float = 0.0) -> Prepared:
    """An article's targets on the student's word pieces (which must be the teacher's: same
    text, same piece ids); with ``gold`` (train articles) each target is
    ``gold_mix * gold + (1 - gold_mix) * teacher``."""
    ids, offsets = pieces(article.text)
    if text_hash(article.text) != target.text_hash:
        raise ValueError(f"article {article.id}: text differs from the one the teacher read")
    if pieces_hash(ids) != target.pieces_hash or len(ids) != len(target.probs):
        raise ValueError(f"article {article.id}: the student's word pieces are not the "
                         "teacher's (another vocabulary?)")
    bio, tech = target.probs, target.tech
    lookup = alignment.TokenIndex(offsets)
    gold_by_pos: dict[tuple[int, int], np.ndarray] = {}
    if gold is not None and gold_mix > 0:
        onehot = np.eye(3, dtype=np.float32)[alignment.bio_tags(offsets, gold)]
        bio = gold_mix * onehot + (1 - gold_mix) * bio
        tech = gold_mix * alignment.technique_tags(offsets, gold, techniques) + (
            1 - gold_mix) * tech
        index = {t: k for k, t in enumerate(techniques)}
        for s in gold:
            if s.technique in index:
                row = gold_by_pos.setdefault((s.start, s.end),
                                             np.zeros(len(techniques), np.float32))
                row[index[s.technique]] += 1.0
    lower = article.text.lower()
    spans, span_targets, feats = [], [], []
    for (s, e), teacher_row in zip(target.spans.tolist(), target.span_probs, strict=True):
        i, j = lookup.range(s, e)
        if j <= i:
            continue
        row = teacher_row
        if (s, e) in gold_by_pos:
            g = gold_by_pos[(s, e)]
            row = gold_mix * g / g.sum() + (1 - gold_mix) * teacher_row
        spans.append((i, j))
        span_targets.append(row.astype(np.float32))
        feats.append(surface_features(article.text, s, e, lower))
    return Prepared(np.asarray(ids, np.int64), bio.astype(np.float32), tech.astype(np.float32),
                    spans, span_targets, feats)


def soft_windows(prepared: Sequence[Prepared], pieces: Any, size: int, stride: int,
                 shift: int = 0) -> list[SoftWindow]:
    """Windows of ``size`` word pieces (two of them special) every ``stride``; with
    ``shift`` the second window starts ``shift`` pieces in (``alignment.windows``)."""
    out = []
    for p in prepared:
        n = len(p.ids)
        if not n:
            continue
        for lo, hi in alignment.windows(n, size - 2, stride, shift if shift < stride else 0):
            w = hi - lo + 2
            ids = np.concatenate([[pieces.cls_id], p.ids[lo:hi], [pieces.sep_id]])
            bio = np.zeros((w, 3), np.float32)
            bio[1:-1] = p.bio[lo:hi]
            tech = np.zeros((w, p.tech.shape[1]), np.float32)
            tech[1:-1] = p.tech[lo:hi]
            spans, targets, feats = [], [], []
            for (i, j), t, f in zip(p.spans, p.span_targets, p.feats, strict=True):
                if (inside := window_span(i, j, lo, hi)) is not None:
                    spans.append(inside)
                    targets.append(t)
                    feats.append(f)
            out.append(SoftWindow(ids.astype(np.int64), bio, tech, spans, targets, feats))
    return out


def collate_soft(batch: Sequence[SoftWindow], pad_id: int) -> tuple:
    """Tensors of a batch: ids, mask, BIO targets, technique targets, the rows scored (real
    tokens), spans (row, first, end), span targets, span features."""
    ids, mask = padded_ids(batch, pad_id)
    width, n_tech = ids.shape[1], batch[0].tech.shape[1]
    bio = torch.zeros((len(batch), width, 3))
    tech = torch.zeros((len(batch), width, n_tech))
    real = torch.zeros((len(batch), width), dtype=torch.bool)
    spans, targets, feats = [], [], []
    for r, w in enumerate(batch):
        n = len(w.ids)
        bio[r, :n] = torch.from_numpy(w.bio)
        tech[r, :n] = torch.from_numpy(w.tech)
        real[r, 1 : n - 1] = True
        for (i, j), t, f in zip(w.spans, w.span_targets, w.feats, strict=True):
            spans.append((r, i, j))
            targets.append(t)
            feats.append(f)
    span_t = torch.tensor(spans, dtype=torch.long).reshape(-1, 3)
    target_t = (torch.from_numpy(np.stack(targets)) if targets
                else torch.zeros((0, n_tech)))
    feat_t = torch.from_numpy(np.stack(feats)).float() if feats else torch.zeros((0, 6))
    return ids, mask, bio, tech, real, span_t, target_t, feat_t
