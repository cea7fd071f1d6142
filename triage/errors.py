"""Errors triage raises, so that each front end (CLI, API, web) can say what went wrong.

    TriageError                  base class; never raised itself
    ├── DataError                an input file or record is malformed (names the file, line, field)
    ├── TaxonomyError            a deployment's taxonomy file is invalid (names the entry)
    ├── UnknownCodeError         a code that the deployment's taxonomy does not define
    ├── ModelError               a model artefact cannot be used
    │   ├── ModelIntegrityError  the file's sha256 or the metadata's signature does not check out (corrupt,
    │   │                        edited, or signed by no trusted key)
    │   ├── ModelMismatchError   trained for another taxonomy or with other library versions
    │   └── ModelNotFoundError   no such model version in the registry
    ├── NotFoundError            a complaint (or other record) that does not exist
    ├── InvalidInputError        a request value outside what triage accepts (empty text, too long)
    ├── AuthError                missing, unknown or revoked API key
    ├── ForbiddenError           a key whose role may not do this
    └── ConflictError            the operation clashes with the current state (a job already running)

Every message says what was expected, what came and what to do about it.
"""

from __future__ import annotations


class TriageError(Exception):
    """Base class of triage's own errors."""


class DataError(TriageError):
    """A record in an input file is malformed.

    ``path``, ``line`` and ``field`` locate it, so that the CLI can name them.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        where = ""
        if path is not None:
            where = f"{path}"
            if line is not None:
                where += f" line {line}"
            if field is not None:
                where += f", field '{field}'"
            where += ": "
        super().__init__(where + message)
        self.path, self.line, self.field = path, line, field


class TaxonomyError(TriageError):
    """A deployment's taxonomy file is invalid."""


class UnknownCodeError(TriageError):
    """A code that the deployment's taxonomy does not define."""

    def __init__(self, message: str, *, head: str, code: str) -> None:
        super().__init__(message)
        self.head, self.code = head, code


class ModelError(TriageError):
    """A model artefact cannot be used."""


class ModelIntegrityError(ModelError):
    """The artefact's sha256 does not match its metadata, or the metadata's signature does not check out."""


class ModelMismatchError(ModelError):
    """The artefact was trained for another taxonomy or with other library versions."""


class ModelNotFoundError(ModelError):
    """No such model version in the registry."""


class NotFoundError(TriageError):
    """A record that does not exist."""


class InvalidInputError(TriageError):
    """A request value outside what triage accepts."""


class AuthError(TriageError):
    """Missing, unknown or revoked API key."""


class ForbiddenError(TriageError):
    """The key's role may not do this."""


class ConflictError(TriageError):
    """The operation clashes with the current state."""
