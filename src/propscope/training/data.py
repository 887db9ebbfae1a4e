"""Training examples: token windows with BIO targets and the gold spans inside them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import alignment
from ..corpus import Corpus
from ..predictors.neural import WordPieces
from ..span_features import surface_features


@dataclass
class Window:
    ids: np.ndarray  # with [CLS] ... [SEP]
    tags: np.ndarray  # -100 on special tokens
    techs: np.ndarray  # (tokens, techniques) multi-hot; rows of special tokens are ignored
    spans: list[tuple[int, int, int]]  # (first token, end token, technique index), window coords
    feats: list[np.ndarray]


def window_span(i: int, j: int, lo: int, hi: int) -> tuple[int, int] | None:
    """Tokens ``[i, j)`` of an article in the window of its tokens ``[lo, hi)``, in the
    window's coordinates (after its [CLS]); None unless at least half of them are inside."""
    ci, cj = max(i, lo), min(j, hi)
    if cj > ci and (cj - ci) * 2 >= (j - i):
        return ci - lo + 1, cj - lo + 1
    return None


def build_windows(corpus: Corpus, pieces: WordPieces, techniques: list[str], size: int,
                  stride: int) -> list[Window]:
    index = {t: k for k, t in enumerate(techniques)}
    out: list[Window] = []
    for art, gold in corpus.items():
        ids, offsets = pieces(art.text)
        if not ids:
            continue
        tags = alignment.bio_tags(offsets, gold)
        techs = alignment.technique_tags(offsets, gold, techniques)
        lower = art.text.lower()
        located = []
        lookup = alignment.TokenIndex(offsets)
        for s in gold:
            i, j = lookup.range(s.start, s.end)
            if j > i and s.technique in index:
                located.append((i, j, index[s.technique],
                                surface_features(art.text, s.start, s.end, lower)))
        for lo, hi in alignment.windows(len(ids), size - 2, stride):
            w_ids = np.array([pieces.cls_id, *ids[lo:hi], pieces.sep_id], dtype=np.int64)
            w_tags = np.concatenate([[-100], tags[lo:hi], [-100]]).astype(np.int64)
            spans, feats = [], []
            for i, j, t, f in located:
                if (inside := window_span(i, j, lo, hi)) is not None:
                    spans.append((*inside, t))
                    feats.append(f)
            w_techs = np.zeros((len(w_ids), len(techniques)), dtype=np.float32)
            w_techs[1:-1] = techs[lo:hi]
            out.append(Window(w_ids, w_tags, w_techs, spans, feats))
    return out


def padded_ids(batch: Sequence[Any], pad_id: int) -> tuple[Any, Any]:
    """The word-piece ids of a batch of windows (anything with ``ids``), padded with
    ``pad_id`` to the longest, and the attention mask."""
    import torch

    width = max(len(w.ids) for w in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for r, w in enumerate(batch):
        ids[r, : len(w.ids)] = torch.from_numpy(w.ids)
        mask[r, : len(w.ids)] = 1
    return ids, mask


def collate(batch: list[Window], pad_id: int):
    import torch

    ids, mask = padded_ids(batch, pad_id)
    width = ids.shape[1]
    tags = torch.full((len(batch), width), -100, dtype=torch.long)
    techs = torch.zeros((len(batch), width, batch[0].techs.shape[1]))
    spans, labels, feats = [], [], []
    for r, w in enumerate(batch):
        n = len(w.ids)
        tags[r, :n] = torch.from_numpy(w.tags)
        techs[r, :n] = torch.from_numpy(w.techs)
        for (i, j, t), f in zip(w.spans, w.feats, strict=True):
            spans.append((r, i, j))
            labels.append(t)
            feats.append(f)
    span_t = torch.tensor(spans, dtype=torch.long).reshape(-1, 3)
    feat_t = torch.from_numpy(np.stack(feats)) if feats else torch.zeros((0, 6))
    return ids, mask, tags, techs, span_t, torch.tensor(labels, dtype=torch.long), feat_t
