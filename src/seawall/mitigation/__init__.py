"""Mitigation: estimators that repair what an audit finds.

Scikit-learn estimators that take the protected attribute(s) as
``sensitive_features=`` (or read them from the columns of ``X`` named by
``sensitive_column``).
"""

from __future__ import annotations

__all__: list[str] = []
