"""propscope as a spaCy pipeline component: ``nlp.add_pipe("propscope")``.

Registered through the ``spacy_factories`` entry point (``pip install 'propscope[spacy]'``),
so no import is needed. After it runs:

- ``doc.spans["propaganda"]`` (the key is ``span_key``) holds one ``Span`` per technique
  span, labelled with the technique. propscope's offsets are characters; they are mapped
  onto the pipeline's tokens with ``doc.char_span(..., alignment_mode="expand")`` (the
  smallest run of tokens covering the characters). The group's ``attrs`` hold, in the
  spans' order, ``"scores"`` (as spaCy's ``spancat`` does) and ``"char_offsets"``
  (``[start, end]``, propscope's exact offsets, which ``expand`` may have widened).
- ``doc._.propaganda``: the summary (``Result.summary()``: spans, share of text and count per
  technique, flagged sentences), plus the model's name and version.

Settings (``config={...}``): ``model`` (a model folder, package or profile name such as
``"accurate"``; default the shipped one), ``threshold``, ``techniques`` (a list of names),
``mode`` (``reader`` or ``benchmark``), ``batch_size`` (texts per model call in ``pipe``)
and ``span_key``. The model is loaded once, when the component is made.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, SpanGroup
from spacy.util import minibatch

from .core import Result, analyze
from .inputs import is_blank
from .reader import MODES
from .spans import Article, Span
from .techniques import resolve_technique, unknown_technique_message

DEFAULT_CONFIG: dict[str, Any] = {"model": None, "threshold": None, "techniques": None,
                                  "mode": "reader", "batch_size": 8,
                                  "span_key": "propaganda"}

if not Doc.has_extension("propaganda"):
    Doc.set_extension("propaganda", default=None)


def span_group(doc: Doc, spans: Sequence[Span], key: str) -> SpanGroup:
    """propscope spans as a span group of ``doc``: token-aligned by ``expand``, each labelled
    with its technique; scores and exact character offsets in ``attrs``. A span covering
    no token (only white space) is left out."""
    kept, scores, offsets = [], [], []
    for s in spans:
        token_span = doc.char_span(s.start, s.end, label=s.technique or "",
                                   alignment_mode="expand")
        if token_span is None or not len(token_span):
            continue
        kept.append(token_span)
        scores.append(float(s.score))
        offsets.append([s.start, s.end])
    return SpanGroup(doc, name=key, spans=kept,
                     attrs={"scores": scores, "char_offsets": offsets})


class PropscopeComponent:
    """Finds propaganda technique spans in each ``Doc`` (see the module)."""

    def __init__(self, nlp: Language, name: str, model: str | None, threshold: float | None,
                 techniques: list[str] | None, mode: str, batch_size: int,
                 span_key: str) -> None:
        from .model_io import load_model

        if mode not in MODES:
            raise ValueError(f"propscope: unknown mode {mode!r}; use one of {', '.join(MODES)}")
        if threshold is not None and not 0.0 <= threshold <= 1.0:
            raise ValueError(f"propscope: threshold must be between 0 and 1, got {threshold}")
        if batch_size < 1:
            raise ValueError(f"propscope: batch_size must be at least 1, got {batch_size}")
        self.name, self.mode, self.threshold = name, mode, threshold
        self.techniques = [_technique(t) for t in techniques] if techniques else None
        self.batch_size, self.span_key = batch_size, span_key
        self.predictor = load_model(model)

    def _results(self, docs: Sequence[Doc]) -> list[Result | None]:
        """One result per doc (None for a doc with no text), the texts in one call."""
        todo = [k for k, d in enumerate(docs) if not is_blank(d.text)]
        found = analyze([Article(id=str(k), text=docs[k].text) for k in todo],
                        predictor=self.predictor, threshold=self.threshold,
                        techniques=self.techniques, mode=self.mode, targets=False)
        out: list[Result | None] = [None] * len(docs)
        for k, result in zip(todo, found, strict=True):
            out[k] = result
        return out

    def _set(self, doc: Doc, result: Result | None) -> Doc:
        spans = result.spans if result is not None else []
        doc.spans[self.span_key] = span_group(doc, spans, self.span_key)
        if result is None:  # no text: the summary of nothing, with the same keys
            result = Result(Article(id="", text=doc.text), [], [], {})
        summary = result.summary()
        info = self.predictor.info
        doc._.propaganda = {**summary, "model": {"name": info.get("name"),
                                                 "version": info.get("version")}}
        return doc

    def __call__(self, doc: Doc) -> Doc:
        return self._set(doc, self._results([doc])[0])

    def pipe(self, stream: Iterable[Doc], batch_size: int | None = None) -> Iterator[Doc]:
        """Docs in batches, each one model call: at most the component's ``batch_size``
        texts (``nlp.pipe``'s ``batch_size``, when smaller, is kept)."""
        size = min(batch_size, self.batch_size) if batch_size else self.batch_size
        for batch in minibatch(stream, size=size):
            docs = list(batch)
            for doc, result in zip(docs, self._results(docs), strict=True):
                yield self._set(doc, result)


def _technique(name: str) -> str:
    found = resolve_technique(name)
    if found is None:
        raise ValueError(f"propscope: {unknown_technique_message(name)}")
    return found


@Language.factory("propscope", default_config=DEFAULT_CONFIG)
def make_propscope(nlp: Language, name: str, model: str | None, threshold: float | None,
                   techniques: list[str] | None, mode: str, batch_size: int,
                   span_key: str) -> PropscopeComponent:
    """The ``propscope`` factory (``nlp.add_pipe("propscope", config={...})``)."""
    return PropscopeComponent(nlp, name, model, threshold, techniques, mode, batch_size,
                              span_key)
