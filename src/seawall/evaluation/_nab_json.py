"""Reading NAB's JSON files: one checked object per file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from seawall.exceptions import DataValidationError

__all__ = ["read_json_object"]


def read_json_object(path: Path, name: str, missing_hint: str, shape: str) -> dict[str, Any]:
    """Read a JSON file that must hold a non-empty object.

    Parameters
    ----------
    path : Path
        The file.
    name : str
        How messages name it (e.g. ``"'labels/combined_windows.json'"``).
    missing_hint : str
        What to do when it does not exist.
    shape : str
        What the object must map, for the message when it does not.

    Returns
    -------
    dict
        The object.

    Raises
    ------
    DataValidationError
        When the file is missing, is not JSON, or is not a non-empty object.

    Examples
    --------
    >>> read_json_object(Path("nowhere.json"), "'nowhere.json'", "pass another.", "x to y")
    Traceback (most recent call last):
    ...
    seawall.exceptions.DataValidationError: 'nowhere.json' does not exist; pass another.
    """
    if not path.is_file():
        raise DataValidationError(f"{name} does not exist; {missing_hint}")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataValidationError(f"{name} is not valid JSON.") from e
    if not isinstance(raw, dict) or not raw:
        raise DataValidationError(f"{name} must map {shape}; got {type(raw).__name__} {raw!r:.80}.")
    return raw
