"""The pre-deployment fairness checklist: metrics, gates, findings, associations, mitigation.

Examples
--------
>>> from seawall.audit import audit, gate_names
>>> "equal_opportunity_difference" in gate_names("classification", with_score=False)
True
"""

from __future__ import annotations

from seawall.audit._associations import AuditAssociations
from seawall.audit._audit import audit, gate_names
from seawall.audit._findings import Finding, FourFifths
from seawall.audit._gates import Gate, GateResult, parse_gate
from seawall.audit._mitigation import AuditMitigation, MitigationOutcome
from seawall.audit._result import AuditParameters, AuditResult

__all__ = [
    "AuditAssociations",
    "AuditMitigation",
    "AuditParameters",
    "AuditResult",
    "Finding",
    "FourFifths",
    "Gate",
    "GateResult",
    "MitigationOutcome",
    "audit",
    "gate_names",
    "parse_gate",
]
