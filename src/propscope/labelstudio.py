"""Label Studio round trip: the model's spans out as tasks with predictions, reviewed
annotations back in as a PTC folder (``article<ID>.txt`` + ``task2-TC.labels``).

Offsets. Label Studio's ``Labels`` on a ``Text`` object store ``start``/``end`` as
character offsets into the task's ``text``, which it keeps exactly as imported (CRLF
included). Its editor (1.23; ``libs/editor``: ``[...text].length`` in ``domManager`` and
``selection-tools``) counts Unicode code points, and each ``\\r`` and ``\\n`` as one
character (it draws each as a line break) -- the same offsets as propscope's (Python string
indices; ``tests/test_labelstudio.py`` checks it with words selected in its editor in a real
browser). Older editors counted UTF-16 code units, which differ after a character outside
the Basic Multilingual Plane (an emoji, say). On import, a region whose ``text`` does not
match the article at its offsets is tried again as UTF-16 offsets and taken if that matches;
else it is skipped with the reason.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from .corpus import format_labels
from .errors import InputError
from .inputs import is_blank
from .results import Result
from .spans import Article, Span
from .techniques import TECHNIQUE_LIST, resolve_technique

FROM_NAME = "technique"  # the Labels control
TO_NAME = "text"  # the Text object
LABELS_FILE = "task2-TC.labels"
_SAFE_ID = re.compile(r"[^A-Za-z0-9._-]+")


# ------------------------------------------------------------------ export


def labeling_config() -> str:
    """The labelling config: the 14 techniques with their colours and definitions."""
    labels = "\n".join(
        f"    <Label value={quoteattr(t.name)} background={quoteattr(t.colour)} "
        f"hint={quoteattr(t.definition)}/>" for t in TECHNIQUE_LIST)
    return (f'<View>\n  <Labels name="{FROM_NAME}" toName="{TO_NAME}">\n{labels}\n'
            f'  </Labels>\n  <Text name="{TO_NAME}" value="$text"/>\n</View>\n')


def region(span: Span, text: str, rid: str) -> dict[str, Any]:
    """One Label Studio region (result item) for a span."""
    return {"id": rid, "from_name": FROM_NAME, "to_name": TO_NAME, "type": "labels",
            "value": {"start": span.start, "end": span.end, "text": text[span.start:span.end],
                      "labels": [span.technique]},
            "score": round(float(span.score), 4)}


def task(result: Result, model_version: str) -> dict[str, Any]:
    """A Label Studio task for one analysed article, its spans as a prediction."""
    art = result.article
    data: dict[str, Any] = {"text": art.text, "id": art.id}
    data.update({k: v for k, v in (("title", art.title), ("source", art.source),
                                   ("url", art.url), ("date", art.date)) if v})
    spans = [s for s in result.spans if s.technique]
    items = [region(s, art.text, f"p{k}") for k, s in enumerate(spans)]
    score = sum(s.score for s in spans) / len(spans) if spans else 0.0
    return {"data": data, "predictions": [{"model_version": model_version,
                                           "score": round(score, 4), "result": items}]}


def tasks(results: Iterable[Result]) -> list[dict[str, Any]]:
    out = []
    for r in results:
        version = " ".join(str(r.model.get(k)) for k in ("name", "version") if r.model.get(k))
        out.append(task(r, f"propscope {version}".strip()))
    return out


# ------------------------------------------------------------------ import


@dataclass
class Imported:
    """Articles and their reviewed spans, with what was skipped and why."""

    articles: dict[str, Article] = field(default_factory=dict)
    labels: dict[str, list[Span]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # one line each
    notes: list[str] = field(default_factory=list)  # kept, but worth saying

    def write(self, folder: Path, stale: Iterable[Path] = ()) -> None:
        """``article<ID>.txt`` (the text exactly, no newline translation) and one
        ``task2-TC.labels`` (``ID TECHNIQUE START END``) in ``folder``, replacing the files
        ``stale`` (an earlier import's).

        Everything is written into a hidden folder inside ``folder`` first, and only then
        are the stale files removed and the new ones renamed into place, the labels file
        last: a full disk or an interruption while writing leaves ``folder`` as it was."""
        folder.mkdir(parents=True, exist_ok=True)
        for left in folder.glob(".import-*.tmp"):  # what a killed import left
            shutil.rmtree(left, ignore_errors=True)
        work = Path(tempfile.mkdtemp(prefix=".import-", suffix=".tmp", dir=folder))
        try:
            names = []
            for aid, art in self.articles.items():
                names.append(f"article{aid}.txt")
                (work / names[-1]).write_bytes(art.text.encode("utf-8"))
            rows = [(aid, s) for aid in self.articles for s in sorted(self.labels.get(aid, []))]
            (work / LABELS_FILE).write_bytes(format_labels(rows).encode("utf-8"))
            for f in stale:
                if f.name not in names and f.name != LABELS_FILE:
                    f.unlink(missing_ok=True)
            for name in [*names, LABELS_FILE]:
                os.replace(work / name, folder / name)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def utf16_to_index(text: str, offset: int) -> int | None:
    """The string index at UTF-16 code unit ``offset`` of ``text`` (None if inside a
    character or past the end)."""
    units = 0
    for k, ch in enumerate(text):
        if units == offset:
            return k
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(text) if units == offset else None


def _offsets(value: dict[str, Any], text: str) -> tuple[int, int] | str:
    """``(start, end)`` in code points for a region, or why it does not fit the text."""
    start, end = value.get("start"), value.get("end")
    if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool):
        return "no character offsets (start/end)"
    said = value.get("text")
    if 0 <= start < end <= len(text) and (said is None or text[start:end] == said):
        return start, end
    a, b = utf16_to_index(text, start), utf16_to_index(text, end)
    if a is not None and b is not None and a < b and said is not None and text[a:b] == said:
        return a, b  # an editor counting UTF-16 code units
    if said is not None:
        return f"offsets [{start}, {end}) do not match the text ({said[:30]!r})"
    return f"offsets [{start}, {end}) outside the text's {len(text)} characters"


def _annotation(item: dict[str, Any], where: str, notes: list[str]) -> dict[str, Any] | str:
    """The annotation to take from a task (the ground truth, else the latest submitted)."""
    done = [a for a in item.get("annotations") or [] if isinstance(a, dict)
            and not a.get("was_cancelled")]
    if not done:
        return "no annotation (not reviewed, or skipped)"
    done.sort(key=lambda a: (bool(a.get("ground_truth")), str(a.get("updated_at") or ""),
                             a.get("id") or 0))
    if len(done) > 1:
        notes.append(f"{where}: {len(done)} annotations; took annotation "
                     f"{done[-1].get('id')} (ground truth, else the latest)")
    return done[-1]


def _article_id(item: dict[str, Any], taken: set[str], notes: list[str], where: str) -> str:
    data = item["data"]
    given = str(data.get("id") or f"ls{item.get('id', len(taken))}")
    aid = _SAFE_ID.sub("_", given).strip("._") or "ls"
    base, n = aid, 2
    while aid in taken:
        aid, n = f"{base}~{n}", n + 1
    if aid != given:
        notes.append(f"{where}: article id {given!r} written as {aid!r} (a file name)")
    taken.add(aid)
    return aid


def _task_spans(item: dict[str, Any], text: str, where: str, skipped: list[str],
                notes: list[str]) -> list[Span] | None:
    ann = _annotation(item, where, notes)
    if isinstance(ann, str):
        skipped.append(f"{where}: {ann}")
        return None
    spans = []
    for k, res in enumerate(ann.get("result") or []):
        value = res.get("value") if isinstance(res, dict) else None
        if not isinstance(value, dict) or res.get("type", "labels") != "labels":
            continue  # not a labelled text region (e.g. a comment or a choice)
        fits = _offsets(value, text)
        if isinstance(fits, str):
            skipped.append(f"{where}: region {res.get('id', k)}: {fits}")
            continue
        for label in value.get("labels") or []:
            name = resolve_technique(str(label))
            if name is None:
                skipped.append(f"{where}: region {res.get('id', k)}: unknown label {label!r}")
                continue
            spans.append(Span(fits[0], fits[1], name))
    return sorted(set(spans))


def import_export(items: Sequence[Any], where: str = "export") -> Imported:
    """Turn Label Studio's JSON export (a list of tasks) into articles and spans."""
    out = Imported()
    taken: set[str] = set()
    for k, item in enumerate(items):
        here = f"task {item.get('id', k)}" if isinstance(item, dict) else f"item {k}"
        data = item.get("data") if isinstance(item, dict) else None
        text = data.get(TO_NAME) if isinstance(data, dict) else None
        if not isinstance(text, str) or is_blank(text):
            out.skipped.append(f"{here}: empty task (no text)")
            continue
        spans = _task_spans(item, text, here, out.skipped, out.notes)
        if spans is None:
            continue
        aid = _article_id(item, taken, out.notes, here)
        out.articles[aid] = Article(id=aid, text=text)
        out.labels[aid] = spans
    return out


def read_export(path: Path) -> list[Any]:
    """The tasks of a Label Studio JSON export file (``Export`` > ``JSON``)."""
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise InputError("no such file", where=str(path)) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"not a Label Studio JSON export ({e})", where=str(path)) from None
    if not isinstance(data, list) or not all(isinstance(t, dict) and "data" in t
                                             for t in data):
        raise InputError("not a Label Studio JSON export (expected a list of tasks with "
                         '"data"; export with the JSON format, not JSON_MIN or CSV)',
                         where=str(path))
    return data


def summary_line(imported: Imported) -> str:
    """``N articles, M spans; skipped K`` for the command's last line."""
    spans = sum(len(v) for v in imported.labels.values())
    skipped = f"; skipped {len(imported.skipped)}" if imported.skipped else ""
    return f"{len(imported.articles)} articles, {spans} spans{skipped}"
