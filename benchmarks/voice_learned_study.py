"""A learned voice model over the voice rules: does it beat them? (Not shipped: it does not.)

Each gold span of ``data/voice-targets/gold.jsonl`` gets features from the text alone: the
rules' voice (``voice.span_voice``), the shares of its characters inside quotes and
attributed stretches, speech verbs / "according to" / verbs of urging and calling before
and after it in its sentence, quote marks in the sentence, a colon before it, the headline,
and the rules' voice of the sentence before, the sentence itself and the one after. A
multinomial logistic regression (L2, ``--c``) is scored against the rules by 5-fold CV
grouped by article (five fold draws) and on each blind part fitted on all the others.

    python benchmarks/voice_learned_study.py [--gold data/voice-targets/gold.jsonl]
        [--data ../shared/ptc] [--news ../shared/unlabeled-news]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

sys.path.insert(0, str(Path(__file__).parent))
from voice_targets_eval import load_rows, load_texts  # noqa: E402

from propscope import voice  # noqa: E402
from propscope.sentences import split_sentences  # noqa: E402
from propscope.spans import Span  # noqa: E402
from propscope.speech_patterns import VERBS  # noqa: E402

VOICES = voice.VOICES
SPEECH = re.compile(rf"\b{VERBS}\b")
SOURCE = re.compile(r"\baccording to\b|\bin a statement\b|\bquoted\b|\btold\b", re.I)
URGING = re.compile(r"\b(?:urged|urges|call(?:s|ed|ing)? (?:on|for)|demand(?:s|ed)|vow(?:s|ed)|"
                    r"pledged|promised|threatened|insisted|alleg(?:ing|ed)|accusing|claiming|"
                    r"saying|describ(?:ing|ed)|called|calling|label(?:l?ed)|dubbed|branded)\b",
                    re.I)
QUOTE_MARK = re.compile(r"[\"“”«»]")


def features(text: str, span: Span, sents: list[tuple[int, int]], quoted: list,
             attributed: list) -> tuple[dict[str, float], str]:
    """The span's features and the rules' voice."""
    rule, speaker = voice.span_voice(span, quoted, attributed)
    n = max(1, span.end - span.start)
    f = {f"rule_{v}": float(rule == v) for v in VOICES}
    f["quoted_share"] = sum(k for k, _ in voice._overlap(span, quoted)) / n
    f["attributed_share"] = min(1.0, sum(k for k, _ in voice._overlap(span, attributed)) / n)
    f["speaker"] = float(speaker is not None)
    k = sum(1 for _, b in sents if b <= span.start)
    k = min(k, len(sents) - 1)
    a, b = sents[k] if sents else (0, len(text))
    before, after = text[a:span.start], text[span.end:b]
    f["speech_before"] = float(bool(SPEECH.search(before)))
    f["speech_after"] = float(bool(SPEECH.search(after)))
    f["source_in_sentence"] = float(bool(SOURCE.search(text[a:b])))
    f["urging_before"] = float(bool(URGING.search(before)))
    f["urging_after"] = float(bool(URGING.search(after)))
    f["quote_mark_in_sentence"] = float(bool(QUOTE_MARK.search(text[a:b])))
    f["that_before"] = float(bool(re.search(r"\bthat\b", before)))
    f["colon_before"] = float(":" in before)
    line = text.rfind("\n", 0, span.start) + 1
    f["headline"] = float(line == 0)
    f["colon_in_line_start"] = float(":" in text[line:span.start][:60])
    for d, name in ((-1, "prev"), (0, "this"), (1, "next")):
        v = (voice.span_voice(Span(*sents[k + d]), quoted, attributed)[0]
             if 0 <= k + d < len(sents) else None)
        f.update({f"{name}_{x}": float(v == x) for x in VOICES})
    f["log_length"] = float(np.log1p(n))
    return f, rule


class ArticleStates:
    """A model's encoder states of articles (each encoded once) and the word pieces of a
    character range (also read by ``targets_study.py --states``)."""

    def __init__(self, model: str) -> None:
        from propscope.model_io import load_folder

        self.encoder = load_folder(model).encoder
        self._seen: dict[str, tuple] = {}

    def pieces(self, text: str, start: int, end: int) -> tuple[np.ndarray, int, int]:
        """The article's states (word pieces, H) and the range ``i:j`` of the pieces of
        ``start:end`` (at least one piece)."""
        from propscope import alignment

        if text not in self._seen:
            enc = self.encoder.encode([text])[0]
            self._seen[text] = (enc.hidden.astype(np.float32),
                                alignment.TokenIndex(enc.offsets))
        hidden, index = self._seen[text]
        i, j = index.range(start, end)
        return hidden, i, max(j, i + 1)


def state_features(model: str, rows: list[dict], by_article: dict[str, list[dict]],
                   texts: dict[str, str], context: int) -> np.ndarray:
    """Rows in ``main``'s order (articles in turn): the encoder's mean states over the span,
    the ``context`` word pieces before it and those after it."""
    states = ArticleStates(model)
    out = []
    for aid, items in by_article.items():
        for r in items:
            hidden, i, j = states.pieces(texts[aid], r["start"], r["end"])
            parts = [hidden[i:j], hidden[max(0, i - context):i], hidden[j:j + context]]
            out.append(np.concatenate([p.mean(0) if len(p) else np.zeros(hidden.shape[1])
                                       for p in parts]))
    return np.array(out)


def fit(X: np.ndarray, y: np.ndarray, c: float) -> tuple:
    """Multinomial logistic regression, L2 ``1 / c``, on standardised features."""
    mean, scale = X.mean(0), X.std(0)
    scale[scale == 0] = 1.0
    Z, K, D = (X - mean) / scale, len(VOICES), X.shape[1]
    onehot = np.eye(K)[y]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        W, b = theta[:K * D].reshape(D, K), theta[K * D:]
        z = Z @ W + b
        z -= z.max(1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(1, keepdims=True)
        g = p - onehot
        return (-(onehot * np.log(p + 1e-12)).sum() + 0.5 / c * (W * W).sum(),
                np.concatenate([(Z.T @ g + W / c).ravel(), g.sum(0)]))

    theta = minimize(loss, np.zeros(K * D + K), jac=True, method="L-BFGS-B").x
    return theta[:K * D].reshape(D, K), theta[K * D:], mean, scale


def predict(model: tuple, X: np.ndarray) -> np.ndarray:
    W, b, mean, scale = model
    return (((X - mean) / scale) @ W + b).argmax(1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gold", type=Path, default=Path("data/voice-targets/gold.jsonl"))
    ap.add_argument("--data", type=Path, default=Path("../shared/ptc"))
    ap.add_argument("--news", type=Path, default=Path("../shared/unlabeled-news"))
    ap.add_argument("--c", default="0.01,0.03,0.1,0.3,1")
    ap.add_argument("--states", metavar="MODEL",
                    help="also the model's encoder states: mean over the span, and over "
                         "the CONTEXT word pieces before and after it")
    ap.add_argument("--context", type=int, default=24)
    args = ap.parse_args()
    rows = load_rows(args.gold)
    texts = load_texts(rows, args.data, args.news)
    by_article: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_article[r["article"]].append(r)
    feats, gold, rule, article, part = [], [], [], [], []
    for aid, items in by_article.items():
        text = texts[aid]
        sents = split_sentences(text)
        quoted, attributed = voice.voice_regions(text, sents)
        for r in items:
            f, v = features(text, Span(r["start"], r["end"]), sents, quoted, attributed)
            feats.append(f)
            gold.append(VOICES.index(r["voice"]))
            rule.append(VOICES.index(v))
            article.append(aid)
            part.append(r["part"])
    names = sorted(feats[0])
    X = np.array([[f[k] for k in names] for f in feats])
    if args.states:
        X = np.concatenate([X, state_features(args.states, rows, by_article, texts,
                                              args.context)], axis=1)
    y, R, P = np.array(gold), np.array(rule), np.array(part)
    print(f"{len(y)} spans, {len(by_article)} articles; the rules: {(R == y).mean():.4f}")
    arts = sorted(by_article)
    for c in map(float, args.c.split(",")):
        accs = []
        for seed in range(5):
            order = random.Random(seed).sample(arts, len(arts))
            out = np.zeros(len(y), int)
            for k in range(5):
                held = np.isin(article, order[k::5])
                out[held] = predict(fit(X[~held], y[~held], c), X[held])
            accs.append((out == y).mean())
        print(f"C {c}: learned, 5-fold CV by article (5 draws) {np.mean(accs):.4f} "
              f"({', '.join(f'{a:.3f}' for a in accs)})")
    for name in ("held-out-3", "held-out-4", "held-out-5", "held-out-6", "held-out-7"):
        held = P == name
        if held.any():
            learned = predict(fit(X[~held], y[~held], 0.1), X[held])
            print(f"{name} ({held.sum()} spans): rules {(R[held] == y[held]).mean():.3f}, "
                  f"learned (C 0.1, fitted on the other parts) "
                  f"{(learned == y[held]).mean():.3f}")


if __name__ == "__main__":
    main()
