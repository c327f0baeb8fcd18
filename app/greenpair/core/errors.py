"""User-facing errors.

Every ``GreenpairError`` carries a message written for the user, shown as-is by the CLI
(a clean exit, no traceback) and by the window (a notification). The message says what
went wrong *and* how to fix it.
"""

from __future__ import annotations


class GreenpairError(Exception):
    """Base class of errors whose text is shown to the user unchanged."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message}\n{hint}")


class ConfigError(GreenpairError):
    """Bad settings value or settings file."""


class RepositoryError(GreenpairError):
    """The repository path is missing, not a directory or unreadable."""


class IndexError_(GreenpairError):
    """The index is missing, corrupt or could not be written."""


class StorageError(GreenpairError):
    """The data directory cannot be written (disk full, read-only): nothing is damaged."""


class ModelError(GreenpairError):
    """A model is missing, corrupt, or failed to load or generate."""


class PatchError(GreenpairError):
    """A patch could not be drafted, validated, applied or undone."""


class PrivacyError(GreenpairError):
    """A network connection was refused by the egress policy."""


class EnergyError(GreenpairError):
    """An energy sensor or the ledger failed."""


class Cancelled(GreenpairError):
    """The user cancelled a long-running job."""
