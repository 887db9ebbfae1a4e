"""Voice accuracy, speaker F1 and target F1 (exact and partial) of ``targets.annotate``
against the hand-annotated gold set ``data/voice-targets/gold.jsonl`` (its README says
how it was annotated). The spans are the gold ones: this measures voices and targets,
not span finding. Rows of ``"source": "unlabeled-news"`` are read from ``--news`` and
checked against their ``article_sha1``.

    python benchmarks/voice_targets_eval.py [--gold data/voice-targets/gold.jsonl]
        [--data ../shared/ptc] [--news ../shared/unlabeled-news]
        [--part tuning|held-out-1|...|held-out-5|all|tuned]
        [--source ptc|unlabeled-news]
        [--rules] [--show] [--second data/voice-targets/second-opinion.jsonl]

Targets are the shipped selector's (``propscope.target_selector``, fitted on this whole
gold set, so its figures here are in-sample: ``benchmarks/targets_study.py`` gives the
cross-validated and held-out ones); ``--rules`` scores the hand rules alone.
``--second FILE`` scores a second person's annotation of the same spans instead of the
program: how far two annotators agree, the ceiling the program's figures can be read
against.

Speaker F1 counts a speaker right when it equals the gold one after lower-casing and
dropping titles; "partial" when the two share a name word ("Kolb" / "Brian Kolb"), as
target F1 partial does.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

from propscope.corpus import read_articles
from propscope.results import Result, Sentence
from propscope.sentences import split_sentences
from propscope.spans import Article, Span
from propscope.targets import TARGETING, annotate

#: the parts the rules have been changed looking at (held-out-3 since 2026-11-28's first
#: session, held-out-4 since its later one; ``--part tuned``): held-out-5 is left blind
TUNED = ("tuning", "held-out-1", "held-out-2", "held-out-3", "held-out-4")
PARTS = (*TUNED, "held-out-5", "held-out-6", "held-out-7", "held-out-8", "held-out-9")
STOP = {"the", "a", "an", "of", "rep.", "sen.", "mr.", "ms.", "dr."}


def norm(name: str | None) -> str | None:
    if not name:
        return None
    words = [w for w in name.lower().replace("’", "'").split() if w not in STOP]
    return " ".join(w.removesuffix("'s") for w in words) or None


def f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def load_rows(path: Path | str) -> list[dict]:
    """The rows of a JSON-lines gold file (``gold.jsonl``'s format), blank lines skipped."""
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line]


def load_texts(rows: list[dict], data: Path, news: Path) -> dict[str, str]:
    """Article texts of the rows: PTC ones from ``data/train-articles``, unlabelled news
    from ``news`` (each checked against the row's ``article_sha1``)."""
    texts: dict[str, str] = {}
    for source, folder in (("ptc", data / "train-articles"), ("unlabeled-news", news)):
        ids = {r["article"] for r in rows if r.get("source", "ptc") == source}
        if ids:
            texts |= {aid: a.text for aid, a in read_articles(folder, ids).items()}
    for r in rows:
        digest = r.get("article_sha1")
        if digest and hashlib.sha1(texts[r["article"]].encode("utf-8")).hexdigest() != digest:
            raise SystemExit(f"article{r['article']}.txt differs from the annotated text")
    return texts


def predict(rows: list[dict], texts: dict[str, str]) -> list[tuple[dict, object]]:
    """Each gold row with the SpanRole ``annotate`` gives its span."""
    by_article: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_article[r["article"]].append(r)
    out = []
    for aid, items in by_article.items():
        text = texts[aid]
        spans = [Span(r["start"], r["end"], next((t for t in r["techniques"] if t in TARGETING),
                                                 r["techniques"][0])) for r in items]
        result = Result(Article(aid, text), spans,
                        [Sentence(a, b, []) for a, b in split_sentences(text)], {})
        annotate([result], targets=True)
        out += [({**r, "text": text[r["start"]:r["end"]]}, role)
                for r, role in zip(items, result.roles, strict=True)]
    return out


def second_roles(rows: list[dict], path: Path) -> list[tuple[dict, object]]:
    """Each gold row with a second annotation of its span (``path``, gold.jsonl's format),
    as the SpanRole-like objects ``score`` reads; rows without one are left out."""
    other = {(r["article"], r["start"], r["end"]): r
             for r in map(json.loads, path.read_text().splitlines()) if r}
    out = []
    for r in rows:
        o = other.get((r["article"], r["start"], r["end"]))
        if o is not None:
            targets = [SimpleNamespace(entity=t["text"], **t) for t in o.get("targets", [])]
            out.append((r, SimpleNamespace(voice=o["voice"], speaker=o["speaker"],
                                           targets=targets)))
    return out


def _words(name: str | None) -> set[str]:
    return set((norm(name) or "").split())


def same_entity(pred: object, gold: dict) -> bool:
    """Partial match: a name word in common (entity or mention against the gold text)."""
    return any(_words(gold["text"]) & _words(x) for x in (pred.entity, pred.text))


def target_counts(golds: list[dict], preds: list) -> tuple[list[int], list[int]]:
    """One span's ``[tp, fp, fn]`` of predicted targets against its gold ones: exact (the
    same offsets) and partial (``same_entity``)."""
    hit_g = {k for k, t in enumerate(golds) for q in preds
             if (q.start, q.end) == (t["start"], t["end"])}
    hit_p = {k for k, q in enumerate(preds) for t in golds
             if (q.start, q.end) == (t["start"], t["end"])}
    pg = {k for k, t in enumerate(golds) if any(same_entity(q, t) for q in preds)}
    pp = {k for k, q in enumerate(preds) if any(same_entity(q, t) for t in golds)}
    return ([len(hit_g), len(preds) - len(hit_p), len(golds) - len(hit_g)],
            [len(pg), len(preds) - len(pp), len(golds) - len(pg)])


def _add(total: list[int], counts: list[int]) -> None:
    for k, n in enumerate(counts):
        total[k] += n


def _speaker_counts(g: str | None, p: str | None, same: bool) -> list[int]:
    """``[tp, fp, fn]`` of one predicted speaker ``p`` against the gold ``g``."""
    return [int(bool(g and p and same)), int(bool(p and not same)), int(bool(g and not same))]


def score(pairs: list[tuple[dict, object]], show: bool = False) -> dict[str, float]:
    voice_ok = 0
    sp = [0, 0, 0]
    sp_partial = [0, 0, 0]
    exact = [0, 0, 0]
    partial = [0, 0, 0]
    for gold, role in pairs:
        voice_ok += gold["voice"] == role.voice
        g, p = norm(gold["speaker"]), norm(role.speaker)
        _add(sp, _speaker_counts(g, p, g == p))
        _add(sp_partial, _speaker_counts(g, p, bool(_words(g) & _words(p))))
        if show and (gold["voice"] != role.voice or g != p):
            print(f"voice {gold['article']} {gold['text'][:50]!r}: gold {gold['voice']}/"
                  f"{gold['speaker']}, got {role.voice}/{role.speaker}")
        if "targets" not in gold:
            continue
        preds = list(role.targets or ())
        golds = gold["targets"]
        span_exact, span_partial = target_counts(golds, preds)
        _add(exact, span_exact)
        _add(partial, span_partial)
        if show and (span_partial[1] or span_partial[2]):
            print(f"targets {gold['article']} {gold['text'][:50]!r}: gold "
                  f"{[t['text'] for t in golds]}, got {[q.entity for q in preds]}")
    n = len(pairs)
    return {"spans": n, "voice_accuracy": voice_ok / n if n else 0.0,
            "speaker_f1": f1(*sp)[2], "speaker_f1_partial": f1(*sp_partial)[2],
            "target_f1_exact": f1(*exact)[2],
            "target_f1_partial": f1(*partial)[2],
            "target_p_r_partial": f1(*partial)[:2],
            "targets_gold": exact[0] + exact[2]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gold", default="data/voice-targets/gold.jsonl")
    ap.add_argument("--data", default="../shared/ptc")
    ap.add_argument("--news", default="../shared/unlabeled-news")
    ap.add_argument("--show", action="store_true", help="print every disagreement")
    ap.add_argument("--rules", action="store_true",
                    help="the hand rules' targets, not the learned selector's")
    ap.add_argument("--second", type=Path,
                    help="score this second annotation of the spans (gold.jsonl's format) "
                         "instead of the program: the annotators' agreement")
    ap.add_argument("--part", default="all", choices=(*PARTS, "all", "tuned"),
                    help="which rows (data/voice-targets/README.md)")
    ap.add_argument("--source", choices=("ptc", "unlabeled-news"),
                    help="only the rows of one source (default: both)")
    args = ap.parse_args()
    if args.rules:
        os.environ["PROPSCOPE_TARGET_RULES"] = "1"
    rows = load_rows(args.gold)
    rows = [r for r in rows if (args.part in ("all", r.get("part")) or args.part == "tuned"
                                and r.get("part") in TUNED)
            and args.source in (None, r.get("source", "ptc"))]
    texts = load_texts(rows, Path(args.data), Path(args.news))
    pairs = second_roles(rows, args.second) if args.second else predict(rows, texts)
    res = score(pairs, args.show)
    res["articles"] = len({r["article"] for r in rows})
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
