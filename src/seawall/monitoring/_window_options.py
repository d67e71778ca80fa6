"""The options of windowed metrics checked once, before any row is read.

:func:`~seawall.monitoring._window_metrics.window_metrics` checks its options as
it goes; a caller that reads the logs in parts (one Parquet partition per
task, see :mod:`seawall.distributed`) checks them all up front with
:func:`check_options`, with the same messages, so that a bad parameter fails
before a cluster starts working.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

from seawall._validation import check_real
from seawall.monitoring._summarize_windows import StateOptions, check_state_options

__all__ = ["WindowOptions", "check_options"]


@dataclass(frozen=True, slots=True)
class WindowOptions:
    """The numeric options of windowed metrics, checked.

    Attributes
    ----------
    every : int
        The window length in nanoseconds.
    calibration : {"none", "isotonic"}
        Whether each model's scores are calibrated on its reference.
    n_bins, n_calibration_bins : int
        Reference-quantile bins per numeric feature; equal-width score bins.
    sample_cap : int or None
        The most sorted values a numeric sketch keeps.
    score_cap : int
        The most distinct scores a score sketch keeps exactly.
    alpha : float
        ``1 -`` the intervals' level, in (0, 1).
    min_rows : int
        The fewest rows a metric needs.
    """

    every: int
    calibration: Literal["none", "isotonic"]
    n_bins: int
    n_calibration_bins: int
    sample_cap: int | None
    score_cap: int
    alpha: float
    min_rows: int


def check_options(options: StateOptions, alpha: float, min_rows: int, caller: str) -> WindowOptions:
    """Check every option that does not need the logs, as ``window_metrics`` does.

    Parameters
    ----------
    options : StateOptions
        The state options, as passed.
    alpha : float
        The intervals' ``1 - level``.
    min_rows : int
        The fewest rows a metric needs.
    caller : str
        The public function, named in messages.

    Returns
    -------
    WindowOptions
        The checked values.

    Raises
    ------
    InvalidParameterError
        On a bad option, or ``calibration="isotonic"`` without a score or label
        column.

    Examples
    --------
    >>> from dataclasses import fields
    >>> args = dict.fromkeys(f.name for f in fields(StateOptions))
    >>> args.update(every="2h", calibration="none", n_bins=10, n_calibration_bins=10,
    ...             sample_cap=None, score_sample_cap=100)
    >>> check_options(StateOptions(**args), 0.05, 30, "f").every // 3_600_000_000_000
    2
    """
    level = check_real(alpha, "alpha", caller, low=0, high=1, low_open=True, high_open=True)
    least = int(check_real(min_rows, "min_rows", caller, low=1, integer=True))
    every, method, bins, calib_bins, sample_cap, score_cap = check_state_options(options, caller)
    return WindowOptions(
        every=every,
        calibration=cast(Literal["none", "isotonic"], method),
        n_bins=bins,
        n_calibration_bins=calib_bins,
        sample_cap=sample_cap,
        score_cap=score_cap,
        alpha=level,
        min_rows=least,
    )
