"""The exceptions and warnings that Seawall raises, in one place.

The tree::

    SeawallError
    ├── InvalidParameterError   (also ValueError, TypeError)  a bad argument value
    ├── DataValidationError     (also ValueError)             bad input data
    │   └── InsufficientDataError                             too little data to judge
    ├── StorageError                                          the store failed
    └── ConfigError                                           bad configuration

    SeawallWarning (UserWarning)

Every message names the input, what was expected, what was received and, where
there is one, the fix. ``sklearn.exceptions.NotFittedError`` is reused for
estimators used before ``fit``.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataValidationError",
    "InsufficientDataError",
    "InvalidParameterError",
    "SeawallError",
    "SeawallWarning",
    "StorageError",
]


class SeawallError(Exception):
    """Base class of every error Seawall raises on purpose."""


class InvalidParameterError(SeawallError, ValueError, TypeError):
    """A parameter has a value or type outside what the function accepts."""


class DataValidationError(SeawallError, ValueError):
    """Input data is malformed: missing columns, wrong lengths, bad values."""


class InsufficientDataError(DataValidationError):
    """There is too little data to compute or judge what was asked."""


class StorageError(SeawallError):
    """The embedded store failed; the original error is chained."""


class ConfigError(SeawallError):
    """A configuration file or setting is invalid."""


class SeawallWarning(UserWarning):
    """Base class of every warning Seawall issues."""
