"""Unwarranted associations: where a protected group and a model's output or error meet.

FairTest-style investigations (Tramèr et al.) over contexts, conjunctions of
conditions on context attributes: :func:`find_associations` tests the output's
association with a protected group in every context, :func:`profile_errors`
finds weak slices (higher error whatever the group) and error disparities
between groups, and :func:`discover_labels` scans every label of a
multi-label output (thousands of tags) against every group and context.
Contexts are searched on one split of the rows with exact
support bounds and confirmed on the other with exact tests for small cells and
multiplicity control; overlapping findings collapse to one per root cause.
"""

from __future__ import annotations

from seawall.associations._discover_labels import discover_labels
from seawall.associations._investigate import find_associations, profile_errors
from seawall.associations._result import HypothesisTable, Investigation

__all__ = [
    "HypothesisTable",
    "Investigation",
    "discover_labels",
    "find_associations",
    "profile_errors",
]
