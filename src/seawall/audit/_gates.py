"""Deployment gates: ``name OP threshold`` checks of the audit's worst-case gaps.

A gate states the condition that must *fail* the audit, e.g.
``disparate_impact<0.8`` or ``equal_opportunity_difference>0.1``. It is read
on the summary rows (the gap between the most and least favoured judged groups
of every grouping), and fails only when the breach is statistically clear: the
whole interval lies beyond the threshold, at a level corrected (Bonferroni) for
every grouping and gate checked. A breach of the point estimate alone is
reported as inconclusive and does not fail the gate.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from seawall._json import json_record
from seawall.exceptions import InvalidParameterError
from seawall.metrics import GroupMetrics

__all__ = ["Gate", "GateResult", "evaluate_gates", "parse_gate"]

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}
_PATTERN = re.compile(
    r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|<|>)\s*([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*$"
)


@dataclass(frozen=True, slots=True)
class Gate:
    """A parsed gate.

    Attributes
    ----------
    name : str
        A disparity name, e.g. ``"disparate_impact"``.
    op : str
        One of ``<``, ``<=``, ``>``, ``>=``.
    threshold : float
        The threshold.
    """

    name: str
    op: str
    threshold: float

    def __str__(self) -> str:
        return f"{self.name}{self.op}{self.threshold:g}"

    def holds(self, value: float) -> bool:
        """Whether the failing condition holds for ``value``.

        Parameters
        ----------
        value : float
            A value of the gated quantity.

        Returns
        -------
        bool
            ``value OP threshold``; False for NaN.
        """
        return bool(np.isfinite(value)) and _OPS[self.op](value, self.threshold)


def parse_gate(text: str, known: Sequence[str]) -> Gate:
    """Parse ``name OP threshold``.

    Parameters
    ----------
    text : str
        E.g. ``"disparate_impact<0.8"``.
    known : sequence of str
        The names that may be gated.

    Returns
    -------
    Gate
        The gate.

    Raises
    ------
    InvalidParameterError
        When the text does not parse or names an unknown quantity.

    Examples
    --------
    >>> parse_gate("disparate_impact < 0.8", ["disparate_impact"])
    Gate(name='disparate_impact', op='<', threshold=0.8)
    """
    m = _PATTERN.match(text)
    if m is None:
        raise InvalidParameterError(
            f"the gate {text!r} does not parse; expected NAME OP NUMBER with OP one of "
            f"<, <=, >, >=, e.g. 'disparate_impact<0.8'."
        )
    name, op, number = m.group(1), m.group(2), float(m.group(3))
    if name not in known:
        raise InvalidParameterError(
            f"the gate {text!r} names {name!r}, which is not a gated quantity; "
            f"choose one of {sorted(known)}."
        )
    return Gate(name, op, number)


@dataclass(frozen=True, slots=True)
class GateResult:
    """The outcome of one gate on one grouping.

    Attributes
    ----------
    gate : str
        The gate as written (normalised).
    grouping : str
        The grouping it was checked on.
    value, lower, upper : float
        The gap and its interval at the corrected level.
    confidence_level : float
        That corrected level.
    lowest_group, highest_group : str
        The groups the gap is between.
    status : str
        ``"fail"`` (the interval lies wholly beyond the threshold),
        ``"inconclusive"`` (only the point estimate does), ``"pass"``, or
        ``"not judged"`` (no value: too few judged groups).
    """

    gate: str
    grouping: str
    value: float
    lower: float
    upper: float
    confidence_level: float
    lowest_group: str
    highest_group: str
    status: str

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-safe primitives.

        Returns
        -------
        dict
            Every field; NaN becomes None.
        """
        return json_record(self)


def evaluate_gates(gates: Sequence[Gate], corrected: GroupMetrics) -> tuple[GateResult, ...]:
    """Check every gate on every grouping's summary row.

    Parameters
    ----------
    gates : sequence of Gate
        The gates.
    corrected : GroupMetrics
        Metrics computed at the Bonferroni-corrected level
        ``1 - alpha / (n_gates * n_groupings)``.

    Returns
    -------
    tuple of GateResult
        One per gate and grouping, in order.
    """
    s = corrected.summary
    out = []
    for gate in gates:
        for i in range(len(s)):
            if s.name[i] != gate.name:
                continue
            value, lo, hi = float(s.value[i]), float(s.lower[i]), float(s.upper[i])
            if not np.isfinite(value):
                status = "not judged"
            elif gate.holds(lo) and gate.holds(hi):
                status = "fail"
            elif gate.holds(value):
                status = "inconclusive"
            else:
                status = "pass"
            out.append(
                GateResult(
                    gate=str(gate),
                    grouping=s.grouping[i],
                    value=value,
                    lower=lo,
                    upper=hi,
                    confidence_level=corrected.confidence_level,
                    lowest_group=s.lowest_group[i],
                    highest_group=s.highest_group[i],
                    status=status,
                )
            )
    return tuple(out)
