"""Files written whole or not at all. ``replace_whole(path, write)`` has ``write`` fill a
hidden temporary file beside ``path`` (``.NAME.XXXXXXXX.tmp``) and renames it over ``path``
once complete, so that an interruption or a full disk leaves an earlier file as it was. The
new file keeps the earlier one's permissions, or gets the usual ones (0666 less the umask).
Used for everything propscope writes over a user's earlier file: command outputs, a run's
tables and run.json, a model's manifest and figures, training checkpoints."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path


def replace_whole(path: Path, write: Callable[[Path], object], sync: bool = False) -> None:
    """Write ``path`` through ``write(temporary_path)``; with ``sync``, flushed to the disk
    before the rename. An OSError while making or filling the temporary file names
    ``path``, not the temporary file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.urandom(4).hex()}.tmp")
    try:
        try:  # not mkstemp: its files are 0600 whatever the umask
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            write(tmp)
            if sync:
                with open(tmp, "rb") as f:
                    os.fsync(f.fileno())
        except OSError as e:
            raise type(e)(e.errno, e.strerror, str(path)) from None
        if path.exists():
            shutil.copymode(path, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_whole(path: Path, text: str) -> None:
    """``text`` (UTF-8) into ``path``, whole or not at all."""
    replace_whole(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
