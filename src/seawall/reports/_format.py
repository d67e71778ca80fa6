"""How numbers, intervals and p-values are written in a report."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["DASH", "Interval", "fmt_level", "fmt_number", "fmt_p", "interval"]

#: What a missing (NaN or undefined) number is shown as.
DASH = "—"


def fmt_number(value: float | None) -> str:
    """Write a number with three decimals (fewer for large magnitudes).

    Parameters
    ----------
    value : float or None
        The number; None or NaN is missing.

    Returns
    -------
    str
        E.g. ``"0.449"``; ``"—"`` when missing; ``"∞"`` for infinity.

    Examples
    --------
    >>> fmt_number(0.44871), fmt_number(float("nan")), fmt_number(12345.6)
    ('0.449', '—', '12,346')
    """
    if value is None or math.isnan(value):
        return DASH
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 100:
        return f"{value:.1f}"
    return f"{value:.3f}"


def fmt_p(p: float | None) -> str:
    """Write a p-value: ``< 0.001`` or three decimals.

    Parameters
    ----------
    p : float or None
        The p-value; None or NaN when no test was run.

    Returns
    -------
    str
        The p-value as text.

    Examples
    --------
    >>> fmt_p(1e-9), fmt_p(0.0412), fmt_p(None)
    ('< 0.001', '0.041', '—')
    """
    if p is None or not math.isfinite(p):
        return DASH
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def fmt_level(level: float) -> str:
    """Write a confidence level as a percentage.

    Parameters
    ----------
    level : float
        A level in (0, 1).

    Returns
    -------
    str
        E.g. ``"95%"`` or ``"99.2%"``.

    Examples
    --------
    >>> fmt_level(0.95), fmt_level(0.9916666)
    ('95%', '99.2%')
    """
    text = f"{100 * level:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"


@dataclass(frozen=True, slots=True)
class Interval:
    """A number and its interval, written out for a report.

    Attributes
    ----------
    value, lower, upper : str
        The formatted estimate and bounds (``"—"`` when missing).
    """

    value: str
    lower: str
    upper: str

    @property
    def bounds(self) -> str:
        """The bracketed interval, e.g. ``[0.427, 0.472]``; empty when both bounds are missing."""
        if self.lower == DASH and self.upper == DASH:
            return ""
        return f"[{self.lower}, {self.upper}]"

    def __str__(self) -> str:
        bounds = self.bounds
        return f"{self.value} {bounds}" if bounds and self.value != DASH else self.value


def interval(value: float | None, lower: float | None, upper: float | None) -> Interval:
    """Format an estimate with its interval.

    Parameters
    ----------
    value, lower, upper : float or None
        The estimate and its bounds.

    Returns
    -------
    Interval
        The formatted parts; ``str()`` gives ``"0.449 [0.427, 0.472]"``.

    Examples
    --------
    >>> str(interval(0.4487, 0.4271, 0.4718))
    '0.449 [0.427, 0.472]'
    >>> str(interval(float("nan"), None, None))
    '—'
    """
    return Interval(fmt_number(value), fmt_number(lower), fmt_number(upper))
