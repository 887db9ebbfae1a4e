"""Reading and writing the Propaganda Techniques Corpus: article folders and TSV labels."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError, LabelError
from .ids import check_tsv_id, file_id
from .spans import Article, Span
from .techniques import TECHNIQUES

ARTICLE_RE = re.compile(r"^article(.+)\.txt$")

Labels = dict[str, list[Span]]


def read_text_file(path: Path, allow_empty: bool = False) -> str:
    """Read a UTF-8 article exactly as stored (no newline translation): ``inputs.read_text``."""
    from .inputs import read_text

    return read_text(path, allow_empty=allow_empty)


def article_files(folder: Path) -> dict[str, Path]:
    """Map article id to file for every ``article<ID>.txt`` in ``folder`` (flat; the id is
    ``ids.file_id``: ``article123.txt`` -> ``123``). Ids must fit in a TSV row."""
    if not folder.is_dir():
        raise InputError("no such folder", where=str(folder))
    out: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if ARTICLE_RE.match(p.name) and p.is_file():
            aid = file_id(p)
            check_tsv_id(aid, where=str(p))
            out[aid] = p
    if not out:
        raise InputError("no article<ID>.txt files in this folder", where=str(folder))
    return out


def read_articles(folder: Path, ids: Iterable[str] | None = None) -> dict[str, Article]:
    files = article_files(Path(folder))
    wanted = list(files) if ids is None else list(ids)
    missing = [i for i in wanted if i not in files]
    if missing:
        raise InputError(f"no article{missing[0]}.txt", where=str(folder))
    return {i: Article(id=i, text=read_text_file(files[i])) for i in wanted}


def parse_labels(text: str, where: str = "labels") -> Labels:
    """Parse PTC TSV labels: ``ID TECH START END`` (4 columns) or ``ID START END`` (3).

    In 4-column rows a technique of ``?`` (the TC template) becomes ``None``.
    """
    out: Labels = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        cols = line.rstrip("\r").split("\t")
        if len(cols) == 3:
            aid, tech, s, e = cols[0], None, cols[1], cols[2]
        elif len(cols) == 4:
            aid, tech, s, e = cols
            tech = None if tech == "?" else tech
        else:
            raise LabelError(f"line {n}: expected 3 or 4 tab-separated columns, got {len(cols)}",
                             where=where)
        if tech is not None and tech not in TECHNIQUES:
            raise LabelError(f"line {n}: unknown technique {tech!r}", where=where)
        try:
            start, end = int(s), int(e)
        except ValueError:
            raise LabelError(f"line {n}: offsets must be integers, got {s!r} {e!r}",
                             where=where) from None
        if start < 0 or end <= start:
            raise LabelError(f"line {n}: empty or negative span [{start}, {end})", where=where)
        out.setdefault(aid.strip(), []).append(Span(start, end, tech))
    return out


def read_labels(path: Path) -> Labels:
    path = Path(path)
    if path.is_dir():
        out: Labels = {}
        for p in sorted(path.glob("*.labels")):
            text = read_text_file(p, allow_empty=True)
            for aid, spans in parse_labels(text, where=str(p)).items():
                out.setdefault(aid, []).extend(spans)
        return out
    return parse_labels(read_text_file(path, allow_empty=True), where=str(path))


def check_labels(labels: Labels, articles: dict[str, Article], where: str = "labels") -> None:
    """Every labelled article must exist and every span must fit inside its text."""
    for aid, spans in labels.items():
        if aid not in articles:
            raise LabelError(f"article {aid} has labels but no article text", where=where)
        n = len(articles[aid].text)
        for s in spans:
            if s.end > n:
                raise LabelError(
                    f"article {aid}: span [{s.start}, {s.end}) ends past its {n} characters",
                    where=where,
                )


def format_labels(rows: Iterable[tuple[str, Span]], with_technique: bool = True) -> str:
    lines = []
    for aid, s in rows:
        if with_technique:
            lines.append(f"{aid}\t{s.technique or '?'}\t{s.start}\t{s.end}")
        else:
            lines.append(f"{aid}\t{s.start}\t{s.end}")
    return "".join(line + "\n" for line in lines)


def labels_rows(labels: Labels) -> list[tuple[str, Span]]:
    return [(aid, s) for aid in labels for s in sorted(labels[aid])]


@dataclass
class Corpus:
    """Articles and their gold spans (with techniques) for one split."""

    articles: dict[str, Article]
    gold: Labels

    def items(self) -> list[tuple[Article, list[Span]]]:
        return [(a, self.gold.get(aid, [])) for aid, a in self.articles.items()]


def split_ids(data_dir: Path, split: str) -> list[str]:
    """Article ids of a named split: ``train``/``valid`` from ``splits.json``, or a
    cross-validation fold from ``folds.json``: ``foldK`` (the K-th fold, held out) and
    ``cvK`` (every article of the other folds, to train on)."""
    fold = re.fullmatch(r"(fold|cv)(\d)", split)
    path = data_dir / ("folds.json" if fold else "splits.json")
    try:
        table = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"no {path.name}", where=str(data_dir)) from None
    if fold:
        folds = table["folds"]
        k = int(fold.group(2))
        if k >= len(folds):
            raise InputError(f"unknown fold {k}; have 0-{len(folds) - 1}", where=str(path))
        if fold.group(1) == "fold":
            return list(folds[k])
        return [a for j, f in enumerate(folds) if j != k for a in f]
    if split not in table:
        raise InputError(f"unknown split {split!r}; have {', '.join(table)}", where=str(path))
    return list(table[split])


def load_split(data_dir: Path, split: str | None = None) -> Corpus:
    """Load the PTC folder (``train-articles`` + task-2 labels), optionally one split
    (see ``split_ids``)."""
    data_dir = Path(data_dir)
    ids = split_ids(data_dir, split) if split is not None else None
    articles = read_articles(data_dir / "train-articles", ids)
    gold_all = read_labels(data_dir / "train-labels-task2-technique-classification")
    gold = {aid: gold_all.get(aid, []) for aid in articles}
    check_labels(gold, articles, where=str(data_dir))
    return Corpus(articles, gold)


def load_labelled(articles_dir: Path | str, labels_path: Path | str) -> Corpus:
    """Every ``article<ID>.txt`` of a folder with its spans from a PTC TSV (an article the
    TSV does not name has no spans); e.g. teacher-labelled news for self-training."""
    articles = read_articles(Path(articles_dir))
    labels = read_labels(Path(labels_path))
    check_labels(labels, articles, where=str(labels_path))
    return Corpus(articles, {aid: labels.get(aid, []) for aid in articles})


def merge_corpora(a: Corpus, b: Corpus) -> Corpus:
    """One corpus of both; an article id in both is refused (it would be ambiguous)."""
    both = sorted(set(a.articles) & set(b.articles))
    if both:
        raise InputError(f"article {both[0]} is in both corpora")
    return Corpus({**a.articles, **b.articles}, {**a.gold, **b.gold})
