"""Error types. Every error a user can cause is a PropscopeError with a one-line message."""

from __future__ import annotations


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
