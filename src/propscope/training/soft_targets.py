"""A teacher's soft targets for distillation (issue 12), stored so that a student can be
rebuilt without rebuilding the teacher.

``build_targets`` runs a teacher (any model folder, e.g. the shipped two-MiniLM ensemble)
over the transfer set (the train split plus a folder of unlabelled articles) and stores,
per article, the teacher's BIO probabilities and technique sigmoids for every word piece
and its span classifier's distributions (first stage, without the second) for some spans:
the gold spans of train articles, the teacher's own BIO spans of the unlabelled ones.
Probabilities are stored as uint8 (``p * 255``) in a compressed npz, keyed by article id
with a hash of the text and of its word pieces (``load_targets`` reads them back).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..corpus import load_split, read_articles
from ..spans import Article, Span

TARGETS_FORMAT = 1


# -- quantisation and hashes ------------------------------------------------------------------
def quantise(p: np.ndarray) -> np.ndarray:
    """Probabilities in [0, 1] -> uint8 (``round(p * 255)``)."""
    return np.clip(np.rint(np.asarray(p, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)


def dequantise(q: np.ndarray) -> np.ndarray:
    """uint8 -> float32 probabilities (error at most 1/510)."""
    return np.asarray(q, dtype=np.float32) / 255.0


def renormalise(p: np.ndarray) -> np.ndarray:
    """Rows of a distribution made to sum to 1 again after quantisation."""
    total = p.sum(axis=-1, keepdims=True)
    return np.where(total > 0, p / np.maximum(total, 1e-12), 1.0 / p.shape[-1]).astype(
        np.float32)


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def pieces_hash(ids: Sequence[int]) -> str:
    return hashlib.sha1(np.asarray(ids, dtype=np.int32).tobytes()).hexdigest()[:16]


# -- the stored targets -----------------------------------------------------------------------
@dataclass
class ArticleTargets:
    """A teacher's outputs on one article (float32 here; uint8 on disk)."""

    aid: str
    source: str  # "train" (gold labels exist) or "extra" (unlabelled)
    text_hash: str
    pieces_hash: str
    probs: np.ndarray  # (tokens, 3) BIO probabilities
    tech: np.ndarray  # (tokens, techniques) technique sigmoids
    spans: np.ndarray  # (k, 2) character offsets
    span_probs: np.ndarray  # (k, techniques) span classifier distributions


def save_targets(path: Path | str, targets: Sequence[ArticleTargets], meta: dict[str, Any]
                 ) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n_tech = len(meta["techniques"])
    np.savez_compressed(
        path,
        meta=np.array(json.dumps({**meta, "format": TARGETS_FORMAT})),
        aids=np.array([t.aid for t in targets]),
        sources=np.array([t.source for t in targets]),
        text_hash=np.array([t.text_hash for t in targets]),
        pieces_hash=np.array([t.pieces_hash for t in targets]),
        n_tokens=np.array([len(t.probs) for t in targets], dtype=np.int32),
        probs=quantise(np.concatenate([t.probs for t in targets]).reshape(-1, 3)),
        tech=quantise(np.concatenate([t.tech for t in targets]).reshape(-1, n_tech)),
        n_spans=np.array([len(t.spans) for t in targets], dtype=np.int32),
        spans=np.concatenate([t.spans for t in targets]).reshape(-1, 2).astype(np.int32),
        span_probs=quantise(np.concatenate([t.span_probs for t in targets])
                            .reshape(-1, n_tech)),
    )
    return path


def load_targets(path: Path | str) -> tuple[dict[str, ArticleTargets], dict[str, Any]]:
    with np.load(path) as z:
        meta = json.loads(str(z["meta"]))
        if meta.get("format") != TARGETS_FORMAT:
            raise ValueError(f"{path}: soft-target format {meta.get('format')}, "
                             f"expected {TARGETS_FORMAT}")
        tok = np.concatenate([[0], np.cumsum(z["n_tokens"])])
        spn = np.concatenate([[0], np.cumsum(z["n_spans"])])
        probs, tech = dequantise(z["probs"]), dequantise(z["tech"])
        span_probs, spans = dequantise(z["span_probs"]), z["spans"]
        out = {}
        for k, aid in enumerate(z["aids"].tolist()):
            a, b, c, d = tok[k], tok[k + 1], spn[k], spn[k + 1]
            out[aid] = ArticleTargets(aid, str(z["sources"][k]), str(z["text_hash"][k]),
                                      str(z["pieces_hash"][k]), renormalise(probs[a:b]),
                                      tech[a:b], spans[c:d], renormalise(span_probs[c:d]))
    return out, meta


def build_targets(teacher_folder: Path | str, data_dir: Path | str, extra_articles: str,
                  out: Path | str, split: str = "train", log: Any = print) -> Path:
    """Run the teacher over ``split`` of ``data_dir`` plus every article of
    ``extra_articles`` and store its soft targets in ``out``."""
    from ..model_io import load_folder
    from ..predictors.decoding import bio_runs
    from ..predictors.encoding import uncached

    teacher = load_folder(teacher_folder)
    encoder = uncached(teacher.encoder)
    corpus = load_split(Path(data_dir), split)
    jobs: list[tuple[Article, str, list[tuple[int, int]] | None]] = []
    for aid, art in corpus.articles.items():
        gold = sorted({(s.start, s.end) for s in corpus.gold.get(aid, [])})
        jobs.append((art, "train", gold))
    extra = read_articles(Path(extra_articles)) if extra_articles else {}
    clash = sorted(set(extra) & set(corpus.articles))
    if clash:
        raise ValueError(f"article {clash[0]} is in both the split and {extra_articles}")
    jobs += [(art, "extra", None) for art in extra.values()]
    log(f"teacher {teacher.name}: {len(corpus.articles)} {split} articles + "
        f"{len(extra)} unlabelled")
    targets: list[ArticleTargets] = []
    t0 = time.monotonic()
    pieces = _first_pieces(encoder)
    for k in range(0, len(jobs), 16):
        chunk = jobs[k : k + 16]
        for (art, source, gold), enc in zip(chunk, encoder.encode([a.text for a, *_ in chunk]),
                                            strict=True):
            spans = gold if gold is not None else [(s, e) for s, e, _ in
                                                   bio_runs(enc, teacher.decode)]
            ids, offsets = pieces(art.text)
            if list(map(tuple, offsets)) != list(map(tuple, enc.offsets)):
                raise ValueError(f"article {art.id}: the teacher's tokens are not its first "
                                 "member's word pieces")
            span_probs = (teacher.technique_probs(enc, [Span(s, e) for s, e in spans])
                          if spans else np.zeros((0, len(teacher.techniques)), np.float32))
            n_tech = len(teacher.techniques)
            tech = enc.tech if enc.tech is not None else np.zeros((len(ids), n_tech))
            targets.append(ArticleTargets(
                art.id, source, text_hash(art.text), pieces_hash(ids),
                np.asarray(enc.probs, np.float32), np.asarray(tech, np.float32),
                np.array(spans, dtype=np.int32).reshape(-1, 2),
                np.asarray(span_probs, np.float32)))
        log(f"teacher: {len(targets)}/{len(jobs)} articles, "
            f"{time.monotonic() - t0:.0f} s")
    meta = {"teacher": teacher.name, "teacher_folder": str(teacher_folder),
            "techniques": list(teacher.techniques), "decode": teacher.decode.to_dict(),
            "data_dir": str(data_dir), "split": split, "extra_articles": extra_articles,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "spans": "train: distinct gold spans; extra: the teacher's BIO spans",
            "span_probs": "span classifier (first stage, no second stage)"}
    path = save_targets(out, targets, meta)
    log(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, "
        f"{sum(len(t.probs) for t in targets)} word pieces, "
        f"{sum(len(t.spans) for t in targets)} spans)")
    return path


def _first_pieces(encoder: Any) -> Any:
    """The word pieces of an encoder (an ensemble's first member's)."""
    from ..predictors.encoding import window_encoders

    return window_encoders(encoder)[0].pieces

