"""Checked logs taken apart and put back together: a subset of rows, a concatenation.

Logs read in parts (one Parquet partition at a time) are checked part by
part; the rows of one model's reference may sit in several parts.
:func:`concat_logs` puts such pieces together as :func:`read_logs` would have
checked their concatenation: the models named by their text and sorted, and
sensitive groups in order of first appearance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from seawall.monitoring._sketch_merge import label_index
from seawall.monitoring._window_inputs import Logs

__all__ = ["concat_logs", "take_rows"]


def take_rows(logs: Logs, rows: npt.NDArray[np.intp]) -> Logs:
    """The logs' rows at ``rows``, in that order.

    Parameters
    ----------
    logs : Logs
        The checked logs.
    rows : ndarray of intp
        Row positions.

    Returns
    -------
    Logs
        The rows (models, time zone and group labels kept as they are).

    Examples
    --------
    >>> from seawall.monitoring._window_columns import Columns
    >>> from seawall.monitoring._window_inputs import read_logs
    >>> cols = Columns("time", "model", "prediction", None, None, (), frozenset(), (), 1)
    >>> logs = read_logs(pd.DataFrame({"time": ["2024-01-01"] * 3, "model": ["a", "b", "a"],
    ...                                "prediction": [1, 0, 0]}), cols, "logs", "f")
    >>> take_rows(logs, np.array([2, 0])).prediction.tolist()
    [0, 1]
    """
    return replace(
        logs,
        time_ns=logs.time_ns[rows],
        model=logs.model[rows],
        prediction=logs.prediction[rows],
        score=None if logs.score is None else logs.score[rows],
        label=None if logs.label is None else logs.label[rows],
        features=logs.features.iloc[rows].reset_index(drop=True),
        sensitive=tuple((codes[rows], labels) for codes, labels in logs.sensitive),
    )


def _optional(parts: Sequence[npt.NDArray[np.float64] | None]) -> npt.NDArray[np.float64] | None:
    """Concatenated arrays, or ``None`` when the parts have none."""
    present = [p for p in parts if p is not None]
    return np.concatenate(present) if present and len(present) == len(parts) else None


def concat_logs(parts: Sequence[Logs]) -> Logs:
    """Checked logs of several parts, rows one part after another.

    Parameters
    ----------
    parts : sequence of Logs
        At least one, checked with the same columns and on the same clock
        (their time zones agree).

    Returns
    -------
    Logs
        The rows of every part in order, models renumbered on the sorted union
        of the parts' models, sensitive groups on the union of their groups
        (in order of first appearance), features concatenated by pandas.

    Examples
    --------
    >>> from seawall.monitoring._window_columns import Columns
    >>> from seawall.monitoring._window_inputs import read_logs
    >>> cols = Columns("time", "model", "prediction", None, None, (), frozenset(), ("g",), 1)
    >>> a = read_logs(pd.DataFrame({"time": ["2024-01-01"], "model": "b", "prediction": [1],
    ...                             "g": "x"}), cols, "logs", "f")
    >>> b = read_logs(pd.DataFrame({"time": ["2024-01-01"], "model": "a", "prediction": [0],
    ...                             "g": "y"}), cols, "logs", "f")
    >>> both = concat_logs([a, b])
    >>> both.models, both.model.tolist(), both.sensitive[0][1], both.sensitive[0][0].tolist()
    (('a', 'b'), [1, 0], ('x', 'y'), [0, 1])
    """
    if len(parts) == 1:
        return parts[0]
    models = tuple(sorted({m for p in parts for m in p.models}))
    code = {m: i for i, m in enumerate(models)}
    model = np.concatenate(
        [np.array([code[m] for m in p.models], dtype=np.intp)[p.model] for p in parts]
    )
    sensitive: list[tuple[npt.NDArray[np.intp], tuple[Any, ...]]] = []
    for a in range(len(parts[0].sensitive)):
        index = label_index(p.sensitive[a][1] for p in parts)
        codes = []
        for p in parts:
            local, labels = p.sensitive[a]
            # -1 (missing) stays -1: index it past the end of the mapping.
            mapping = np.array([index[g] for g in labels] + [-1], dtype=np.intp)
            codes.append(mapping[local])
        sensitive.append((np.concatenate(codes), tuple(index)))
    return Logs(
        time_ns=np.concatenate([p.time_ns for p in parts]),
        model=model,
        models=models,
        prediction=np.concatenate([p.prediction for p in parts]),
        score=_optional([p.score for p in parts]),
        label=_optional([p.label for p in parts]),
        features=pd.concat([p.features for p in parts], ignore_index=True),
        sensitive=tuple(sensitive),
        tz=parts[0].tz,
    )
