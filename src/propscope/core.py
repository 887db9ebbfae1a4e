"""The one core: ``analyze(articles) -> results``. Every adapter (CLI, API, web, batch) calls it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

from .errors import InputError
from .language import is_english
from .predictors.base import Predictor
from .reader import MODES, ReaderConfig, reader_spans
from .results import Result, Sentence
from .sentences import sentence_techniques, split_sentences
from .spans import Article, Span
from .targets import annotate
from .techniques import TECHNIQUE_NAMES


def _as_article(item: str | Article, k: int) -> Article:
    if isinstance(item, Article):
        art = item
    elif isinstance(item, str):
        art = Article(id=str(k), text=item)
    else:
        raise InputError(f"expected text or an Article, got {type(item).__name__}",
                         where=f"item {k}")
    if not art.text or not art.text.strip():
        raise InputError("empty (no text to analyse)", where=f"article {art.id}")
    return art


def build_result(art: Article, spans: list[Span], predictor: Predictor) -> Result:
    spans = sorted(spans, key=lambda s: (s.start, s.end, -s.score))
    found = sentence_techniques(split_sentences(art.text), spans)
    sentences = [Sentence(a, b, sorted(t)) for a, b, t in found]
    warnings = []
    if not is_english(art.text):
        warnings.append("text does not look like English; the model was trained on English news")
    return Result(art, spans, sentences, dict(predictor.info), warnings)


def analyze(
    articles: str | Article | Iterable[str | Article],
    predictor: Predictor | None = None,
    threshold: float | None = None,
    techniques: Sequence[str] | None = None,
    model: str | None = None,
    mode: str = "reader",
    targets: bool | None = None,
) -> Result | list[Result]:
    """Find propaganda spans. One text or Article gives one Result; an iterable, a list.

    ``mode="reader"`` (the default) gives the reader view: calibrated confidences, spans
    shown from the model's reader threshold up, cleaned and capped (``reader``);
    ``mode="benchmark"`` the spans the SemEval measures are tuned for. ``threshold``
    overrides the mode's cut-off (the reader's, or none for benchmark).

    Every span gets a voice and speaker, and spans of targeting techniques their targets
    (``targets``: None where spaCy is installed, True to require it, False to skip;
    ``targets.annotate``).
    """
    if mode not in MODES:
        raise InputError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    single = isinstance(articles, str | Article)
    items = [articles] if single else list(articles)  # type: ignore[list-item]
    arts = [_as_article(x, k) for k, x in enumerate(items)]
    if predictor is None:
        from .model_io import load_model

        predictor = load_model(model)
    results = [build_result(a, spans, predictor)
               for a, spans in iter_spans(arts, predictor, mode, threshold, techniques)]
    annotate(results, targets)  # voices, speakers, targets: after the spans are final
    return results[0] if single else results


def iter_spans(
    arts: Sequence[Article],
    predictor: Predictor,
    mode: str = "reader",
    threshold: float | None = None,
    techniques: Sequence[str] | None = None,
    batch: int | None = None,
) -> Iterator[tuple[Article, list[Span]]]:
    """Each article with the spans ``analyze`` reports for it (``mode``, ``threshold``,
    ``techniques`` as there), unsorted; the predictor is given ``batch`` articles at a time
    (all at once when None), and each batch's articles are yielded before the next is
    predicted (so classifying them next reads the predictor's cached encodings). The one
    place faces send articles to a predictor."""
    wanted = set(techniques) if techniques else set(TECHNIQUE_NAMES)
    # a predictor without a reader configuration (e.g. one written before operating points
    # existed) decodes one way; the reader view then only cleans its spans up
    reader = getattr(predictor, "reader", None)
    cut = threshold or 0.0
    size = batch or max(1, len(arts))
    for k in range(0, len(arts), size):
        chunk = arts[k : k + size]
        texts = [a.text for a in chunk]
        found = (predictor.predict(texts, mode=mode) if reader is not None
                 else predictor.predict(texts))
        if mode == "reader":
            config = reader or ReaderConfig(threshold=0.0)
            found = [reader_spans(a.text, spans, config, threshold)
                     for a, spans in zip(chunk, found, strict=True)]
        for a, spans in zip(chunk, found, strict=True):
            yield a, [s for s in spans if s.score >= cut and s.technique in wanted]


def classify_spans(predictor: Predictor, text: str, spans: Sequence[Span]) -> list[Span]:
    """Name the technique of each given span; rows sharing a span get distinct techniques."""
    unique = sorted({(s.start, s.end) for s in spans})
    ranked = predictor.classify(text, [Span(a, b) for a, b in unique])
    by_span = dict(zip(unique, ranked, strict=True))
    used: dict[tuple[int, int], int] = defaultdict(int)
    out = []
    for s in spans:
        key = (s.start, s.end)
        tech, p = by_span[key][min(used[key], len(by_span[key]) - 1)]
        used[key] += 1
        out.append(Span(s.start, s.end, tech, p))
    return out
