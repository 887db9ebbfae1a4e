"""Error types. Every error a user can cause is a PropscopeError with a one-line message."""

from __future__ import annotations

from pathlib import Path


class PropscopeError(Exception):
    """Base class: the CLI prints ``str(error)`` on one line and exits non-zero."""

    code = "error"

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class InputError(PropscopeError):
    """An article or input file that cannot be analysed (missing, empty, binary, ...)."""

    code = "bad_input"


class LabelError(PropscopeError):
    """A labels file that does not match its articles or the technique list."""

    code = "bad_labels"


class ModelError(PropscopeError):
    """A model folder that is missing, incomplete or of another version."""

    code = "bad_model"


class OutputError(PropscopeError):
    """An output path that cannot be written (a folder, no permission, disk full, ...)."""

    code = "bad_output"


def output_error(path: str, e: OSError) -> OutputError:
    """The one-line error for an output ``path`` that could not be written."""
    same = e.filename is None or Path(str(e.filename)) == Path(path)
    other = None if same else str(e.filename)
    if isinstance(e, IsADirectoryError) and other is None:
        reason = "it is a folder; give a file name"
    elif isinstance(e, FileExistsError | NotADirectoryError) and other:
        blocking = next((p for p in (Path(other), *Path(other).parents) if p.is_file()),
                        Path(other))
        reason = f"{blocking} is a file, not a folder"
    else:
        reason = (e.strerror or str(e) or type(e).__name__) + (f": {other}" if other else "")
    return OutputError(f"cannot write the output ({reason})", where=path)
