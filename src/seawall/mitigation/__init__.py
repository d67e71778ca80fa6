"""Mitigation: estimators that repair what an audit finds.

Scikit-learn estimators that take the protected attribute(s) as
``sensitive_features=`` (routable with scikit-learn's metadata routing) or read
them from the columns of ``X`` named by ``sensitive_column``:

* :class:`DisparateImpactRemover`: Feldman et al.'s repair of the features,
  fitted on training data and applied to any data; :func:`certify` tests
  whether the protected attribute can still be predicted from the features,
  and :func:`repair_effect` shows what the repair does to a retrained model;
* :class:`Reweighing` and :func:`reweighing_weights`: Kamiran and Calders'
  weights that make group and label independent, and
  :class:`ReweighingClassifier`, which fits any classifier with them;
* :class:`ThresholdPostprocessor`: Hardt, Price and Srebro's per-group
  thresholds (randomised where needed) on a model's scores, under equal
  opportunity, equalized odds or demographic parity, exported as a readable
  :class:`ThresholdTable`.

Examples
--------
>>> from seawall.mitigation import reweighing_weights
>>> reweighing_weights([1, 1, 0, 1, 0, 0], ["a", "a", "a", "b", "b", "b"]).round(3).tolist()
[0.75, 0.75, 1.5, 1.5, 0.75, 0.75]
"""

from __future__ import annotations

from seawall.mitigation._certify import Certification, CertificationTest, certify
from seawall.mitigation._remover import DisparateImpactRemover
from seawall.mitigation._repair_effect import RepairEffect, repair_effect
from seawall.mitigation._reweighing import Reweighing, ReweighingTable, reweighing_weights
from seawall.mitigation._reweighing_classifier import ReweighingClassifier
from seawall.mitigation._threshold_table import GroupThreshold, ThresholdTable
from seawall.mitigation._thresholds import ThresholdPostprocessor

__all__ = [
    "Certification",
    "CertificationTest",
    "DisparateImpactRemover",
    "GroupThreshold",
    "RepairEffect",
    "Reweighing",
    "ReweighingClassifier",
    "ReweighingTable",
    "ThresholdPostprocessor",
    "ThresholdTable",
    "certify",
    "repair_effect",
    "reweighing_weights",
]
