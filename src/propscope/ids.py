"""Article ids: the one rule that names files, and the one policy for ids that repeat.

Every reader (``propscope analyze``, ``propscope batch``, the PTC corpus folders) names a
file with ``file_id`` and settles repeated ids with an ``IdRegistry``, so no article is
ever dropped or overwritten silently because another one has the same id.

Repeats are judged by id *and* text (``text_digest``):

* same id, same text: an **identical repeat**; it is dropped and counted
  (``IdRegistry.identical``), never analysed twice;
* same id, different text: an **id conflict**; the policy decides (``POLICIES``):

  - ``error`` (the default): the later article is not analysed; it becomes an error
    (``DuplicateIdError``) naming both sources, under an id of its own (its source);
  - ``rename``: the later article is kept under ``ID~2`` (``~3``, ... the first free one);
  - ``skip``: the later article is dropped, counted in ``IdRegistry.conflicts``.

The first article seen keeps the id. Use one registry per run::

    registry = IdRegistry("error")
    admission = registry.admit(article.id, where, text_digest(article.text))
    if admission.action in ("keep", "rename"):  # analyse it under admission.id
        ...
    elif admission.action == "error":           # report admission.error (an error record)
        ...
    # "identical" and "skip": leave it out; "rename" and "skip" explain in admission.error
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import InputError

POLICIES = ("error", "rename", "skip")
DEFAULT_POLICY = "error"
RENAME_MARK = "~"
#: Characters that would split a TSV (``--format ptc``) row or line: tab, line breaks.
TSV_BREAKERS = frozenset("\t\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")

Action = Literal["keep", "rename", "identical", "skip", "error"]


class DuplicateIdError(InputError):
    """An article whose id is already used by another article with different text."""

    code = "duplicate_id"


def file_id(path: Path, root: Path | None = None) -> str:
    """The id of a text/HTML file: its path below ``root``, less the suffix.

    * a file directly in ``root`` (or given on its own, ``root=None``) is named by its
      file name less the suffix and less a leading ``article`` (the corpus's names):
      ``article123.txt`` -> ``123``, ``story.html`` -> ``story``;
    * a file deeper down keeps its folders, joined with ``/``:
      ``corpus/foxnews/article1.txt`` under ``corpus`` -> ``foxnews/article1``.
    """
    if root is not None:
        rel = path.relative_to(root)
        if len(rel.parts) > 1:
            return rel.with_suffix("").as_posix()
    stem = path.stem
    return (stem[len("article"):] if stem.startswith("article") else stem) or stem


def record_id(rec: Any, where: str) -> str:
    """The id of a JSONL/CSV/Parquet record: its ``id`` field, else where it is."""
    if isinstance(rec, Mapping) and rec.get("id") not in (None, ""):
        return str(rec["id"])
    return where


def text_digest(text: str) -> str:
    """A short fingerprint of an article's text, to tell identical repeats from conflicts."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def check_policy(policy: str) -> str:
    if policy not in POLICIES:
        raise InputError(f"unknown policy {policy!r}; choose {', '.join(POLICIES)}",
                         where="--on-duplicate")
    return policy


def tsv_safe(aid: str) -> bool:
    """Whether ``aid`` can be the first column of a TSV row (no tab, no line break)."""
    return not any(c in TSV_BREAKERS for c in aid)


def check_tsv_id(aid: str, where: str | None = None) -> None:
    """Refuse an id that would corrupt a ``--format ptc`` row (ids are never escaped)."""
    if not tsv_safe(aid):
        raise InputError(f"id {aid!r} holds a tab or line break, which a --format ptc row "
                         "cannot hold; give it another id or choose another --format",
                         where=where)


@dataclass(frozen=True)
class Admission:
    """What to do with one article: ``action``, the ``id`` to use, and for a conflict
    (``rename``, ``skip``, ``error``) what happened, as an error naming both sources."""

    action: Action
    id: str
    error: DuplicateIdError | None = None


@dataclass
class IdRegistry:
    """The ids of one run, with their text digests and sources, and the repeat counts.

    ``known`` holds ids done before (a resumed batch run): id -> digest, None when the
    digest is not known (such an id counts as taken by other text).
    """

    policy: str = DEFAULT_POLICY
    known: Mapping[str, str | None] = field(default_factory=dict)
    identical: int = 0
    conflicts: int = 0
    _seen: dict[str, tuple[str | None, str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        check_policy(self.policy)

    def _get(self, aid: str) -> tuple[str | None, str] | None:
        if aid in self._seen:
            return self._seen[aid]
        if aid in self.known:
            return self.known[aid], "an earlier run"
        return None

    def _claim(self, aid: str, where: str, digest: str | None) -> None:
        self._seen[aid] = (digest, where)

    def _same(self, aid: str, digest: str | None) -> bool:
        got = self._get(aid)
        return got is not None and digest is not None and got[0] == digest

    def admit(self, aid: str, where: str, digest: str | None) -> Admission:
        """Decide about the article ``aid`` found at ``where`` whose text has ``digest``
        (None: its text could not be read). Records the id it gets."""
        first = self._get(aid)
        if first is None:
            self._claim(aid, where, digest)
            return Admission("keep", aid)
        if self._same(aid, digest) or self._renamed_before(aid, digest):
            self.identical += 1
            return Admission("identical", aid)
        self.conflicts += 1
        if self.policy == "skip":
            return Admission("skip", aid, _conflict(aid, where, first[1], "skipped"))
        if self.policy == "rename":
            new = self._free(aid)
            self._claim(new, where, digest)
            return Admission("rename", new, _conflict(aid, where, first[1], f"renamed {new!r}"))
        return self._error(aid, where, digest, first[1])

    def _renamed_before(self, aid: str, digest: str | None) -> bool:
        """Whether this text already holds a renamed id (``ID~N``) or, refused, its own
        error id: in a resumed run, an article met again."""
        if digest is None:
            return False
        n = 2
        while (name := f"{aid}{RENAME_MARK}{n}") in self._seen or name in self.known:
            if self._same(name, digest):
                return True
            n += 1
        return False

    def _free(self, aid: str) -> str:
        n = 2
        while self._get(name := f"{aid}{RENAME_MARK}{n}") is not None:
            n += 1
        return name

    def _error(self, aid: str, where: str, digest: str | None, first: str) -> Admission:
        got = self._get(where)
        if got is not None and got[0] == digest:  # this refusal is recorded already (resumed)
            self.conflicts -= 1
            self.identical += 1
            return Admission("identical", where)
        own = where if got is None else self._free(where)
        self._claim(own, where, digest)
        return Admission("error", own, _conflict(
            aid, where, first, "not analysed (--on-duplicate rename keeps both)"))


class KnownIds(Mapping[str, "str | None"]):
    """Ids a resumed run holds already, with their text digests (None: not known).

    Read-only; it travels to worker processes and Dask workers as one object.
    """

    def __init__(self, digests: Mapping[str, str | None] | None = None) -> None:
        self._digests = dict(digests or {})

    def __getitem__(self, aid: str) -> str | None:
        return self._digests[aid]

    def __iter__(self) -> Iterator[str]:
        return iter(self._digests)

    def __len__(self) -> int:
        return len(self._digests)


def _conflict(aid: str, where: str, first: str, outcome: str) -> DuplicateIdError:
    return DuplicateIdError(f"id {aid!r} is already used by {first} with different text; "
                            f"{outcome}", where=where)


def already_done(known: Mapping[str, str | None], aid: str, digest: str | None) -> bool:
    """Whether a resumed run holds this article already (a worker's shortcut: the
    ``IdRegistry`` of the run decides the rest).

    True when ``aid`` is done with this text, with a text not known (an earlier run that
    kept no digests), or under a renamed id with this text.
    """
    if aid not in known:
        return False
    if known[aid] is None or known[aid] == digest:
        return True
    return IdRegistry(policy="rename", known=known)._renamed_before(aid, digest)
