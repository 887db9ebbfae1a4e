"""``propscope import label-studio EXPORT.json --out DIR``: reviewed annotations back as a
PTC folder (``article<ID>.txt`` and ``task2-TC.labels``) for ``train`` and ``evaluate``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import InputError, output_error
from ..labelstudio import LABELS_FILE, import_export, read_export, summary_line

NAME = "import"
HELP = "read reviewed annotations from an annotation tool into a PTC folder (label-studio)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("format", choices=("label-studio",), help="the tool: label-studio")
    p.add_argument("export", metavar="EXPORT.json",
                   help="the project's export in Label Studio's JSON format")
    p.add_argument("--out", "-o", required=True, metavar="DIR",
                   help=f"folder to write: article<ID>.txt files and {LABELS_FILE} "
                   "(use it as --extra-articles DIR --extra-labels DIR/"
                   f"{LABELS_FILE} for train)")
    p.add_argument("--force", action="store_true",
                   help="replace the articles and labels an earlier import left in DIR (without "
                   "it, a DIR holding them is refused: stale articles would count as "
                   "reviewed with no spans)")
    p.add_argument("--quiet", "-q", action="store_true",
                   help="only the summary line, not each skipped item")


def run(args: argparse.Namespace) -> int:
    imported = import_export(read_export(Path(args.export)), where=args.export)
    out = Path(args.out)
    old = sorted(out.glob("article*.txt")) + sorted(out.glob(LABELS_FILE)) if out.is_dir() else []
    if old and not args.force:
        raise InputError(f"already holds {len(old)} article or label files (an earlier "
                         "import?); give a new folder, or --force to replace them",
                         where=args.out)
    if old and not (out / LABELS_FILE).exists():
        # not what an import writes (it always writes LABELS_FILE): a corpus, say
        raise InputError(f"holds {len(old)} article files and no {LABELS_FILE}, so they are "
                         "not an earlier import's: --force replaces only those; give a new "
                         "folder", where=args.out)
    if not imported.articles:
        for line in imported.skipped:
            print(f"propscope: skipped {line}", file=sys.stderr)
        raise InputError("no reviewed task to import", where=args.export)
    try:
        imported.write(out, stale=old)
    except OSError as e:
        raise output_error(args.out, e) from None
    if not args.quiet:
        for line in imported.notes:
            print(f"propscope: note: {line}", file=sys.stderr)
        for line in imported.skipped:
            print(f"propscope: skipped {line}", file=sys.stderr)
    print(f"propscope: wrote {args.out}: {summary_line(imported)}", file=sys.stderr)
    return 0
