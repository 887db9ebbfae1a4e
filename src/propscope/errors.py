"""Error types. Every error a user can cause is a PropscopeError with a one-line message."""

from __future__ import annotations

from pathlib import Path


class PropscopeError(Exception):
    """Base class: the CLI prints ``str(error)`` on one line and exits non-zero."""

    code = "error"

    def __init__(self, message: str, *, where: str | None = None,
                 article_id: str | None = None) -> None:
        self.where = where
        self.article_id = article_id
        super().__init__(f"{where}: {message}" if where else message)


class InternalError(PropscopeError):
    """An unexpected failure (a bug, a crashed library) on one input, as that input's
    error: it never stops the others."""

    code = "internal_error"


def describe(e: BaseException) -> str:
    """An exception in one line: "Type: first line of its message" (or "Type")."""
    first = str(e).splitlines()[0] if str(e) else ""
    return f"{type(e).__name__}{': ' + first if first else ''}"


def unexpected(e: BaseException, what: str, where: str | None = None,
               article_id: str | None = None) -> InternalError:
    """An unexpected exception as one input's error: "WHERE: WHAT (Type: message)"."""
    return InternalError(f"{what} ({describe(e)})", where=where, article_id=article_id)


def error_record(err: BaseException, *, article_id: str | None = None,
                 where: str | None = None, message: str | None = None) -> dict[str, str | None]:
    """The one shape of an error about one input: ``{id, code, message, input}``.

    ``input`` is the source position (a file, ``FILE:LINE`` of a JSONL feed, ``articles.2``
    of an API batch); ``id`` the article's id where known. JSON output and the API put the
    record under ``"error"``; a Parquet run holds it as the columns ``id``, ``error_code``,
    ``error`` and ``input`` of the article's row. ``message`` replaces the error's own text
    (the API hides an internal error's details).
    """
    return {"id": article_id if article_id is not None else getattr(err, "article_id", None),
            "code": getattr(err, "code", InternalError.code),
            "message": str(err) if message is None else message,
            "input": where if where is not None else getattr(err, "where", None)}


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


def name_list(names: list[str], most: int) -> str:
    """Names for a one-line message: the first ``most``, those that are not printable
    escaped (a newline in a file name would break the line), then how many more."""
    shown = [n if n.isprintable() else ascii(n) for n in names[:most]]
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return ", ".join(shown) + more


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
