"""The frozen result of an audit, and its JSON form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from seawall.audit._associations import AuditAssociations
from seawall.audit._findings import Finding, FourFifths
from seawall.audit._gates import GateResult
from seawall.audit._mitigation import AuditMitigation
from seawall.metrics import GroupMetrics

__all__ = ["AuditParameters", "AuditResult"]


@dataclass(frozen=True, slots=True)
class AuditParameters:
    """Everything needed to run the same audit again.

    Attributes
    ----------
    label, prediction : str
        The label and decision (or regression prediction) columns.
    score : str or None
        The score column.
    sensitive : tuple of str
        The sensitive feature columns.
    positive_label : str or None
        The label value taken as positive, when labels are not 0/1.
    reference : tuple of (str, str)
        Reference groups as (feature, label) pairs.
    task : str
        ``"classification"`` or ``"regression"``.
    min_group_size : int
        Smaller groups are not judged.
    confidence_level : float
        Level of every interval.
    correction : str
        Multiplicity correction.
    n_bootstrap : int
        Bootstrap replicates.
    random_state : int
        The seed.
    gates : tuple of str
        The gates, normalised.
    associations : bool
        Whether the associations section was asked for.
    association_depth : int
        The most conditions in a context of that section.
    mitigation : bool
        Whether the mitigation section was asked for.
    context : tuple of str or None
        The context columns named for that section; None when they were chosen.
    split_key : str or None
        The row-key column that split its search from its confirmation; None
        for a seeded random split.
    on_cluster : bool
        Whether the audit ran on a Dask cluster over Parquet partitions
        (:func:`seawall.distributed.audit`).
    """

    label: str
    prediction: str
    score: str | None
    sensitive: tuple[str, ...]
    positive_label: str | None
    reference: tuple[tuple[str, str], ...]
    task: str
    min_group_size: int
    confidence_level: float
    correction: str
    n_bootstrap: int
    random_state: int
    gates: tuple[str, ...]
    associations: bool = True
    association_depth: int = 2
    mitigation: bool = True
    context: tuple[str, ...] | None = None
    split_key: str | None = None
    on_cluster: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The parameters as JSON-safe primitives.

        Returns
        -------
        dict
            Every field.
        """
        return {
            "label": self.label,
            "prediction": self.prediction,
            "score": self.score,
            "sensitive": list(self.sensitive),
            "positive_label": self.positive_label,
            "reference": dict(self.reference),
            "task": self.task,
            "min_group_size": self.min_group_size,
            "confidence_level": self.confidence_level,
            "correction": self.correction,
            "n_bootstrap": self.n_bootstrap,
            "random_state": self.random_state,
            "gates": list(self.gates),
            "associations": self.associations,
            "association_depth": self.association_depth,
            "mitigation": self.mitigation,
            "context": None if self.context is None else list(self.context),
            "split_key": self.split_key,
            "on_cluster": self.on_cluster,
        }


@dataclass(frozen=True, slots=True)
class AuditResult:
    """The outcome of :func:`seawall.audit.audit`.

    Attributes
    ----------
    metrics : GroupMetrics
        Every group metric, disparity and spread with intervals and p-values.
    gates : tuple of GateResult
        Each gate on each grouping.
    four_fifths : tuple of FourFifths
        The four-fifths rule per grouping (classification only).
    findings : tuple of Finding
        Plain-language findings, most important first.
    parameters : AuditParameters
        The parameters, for reproduction.
    fingerprint : str
        SHA-256 of the audited columns' values.
    source : str or None
        The file the data came from, if any.
    source_sha256 : str or None
        SHA-256 of that file's bytes.
    n_rows : int
        Rows audited.
    versions : tuple of (str, str)
        Python and library versions.
    created : str
        When the audit ran (UTC, ISO 8601).
    associations : AuditAssociations or None
        Weak slices, error disparities and output associations over the data's
        other columns, or why they were skipped; None when not asked for. No
        gate looks at them.
    mitigation : AuditMitigation or None
        What threshold post-processing, reweighing and disparate-impact repair
        would do (classification); None when not asked for or for regression.
        No gate looks at it.
    """

    metrics: GroupMetrics
    gates: tuple[GateResult, ...]
    four_fifths: tuple[FourFifths, ...]
    findings: tuple[Finding, ...]
    parameters: AuditParameters
    fingerprint: str
    source: str | None
    source_sha256: str | None
    n_rows: int
    versions: tuple[tuple[str, str], ...]
    created: str
    associations: AuditAssociations | None = None
    mitigation: AuditMitigation | None = None

    @property
    def passed(self) -> bool:
        """Whether no gate failed (inconclusive gates do not fail)."""
        return not any(g.status == "fail" for g in self.gates)

    def to_dict(self) -> dict[str, Any]:
        """Everything as JSON-safe primitives with stable keys (``audit.json``).

        Returns
        -------
        dict
            The audit.
        """
        return {
            "schema": "seawall.audit/1",
            "seawall_version": dict(self.versions).get("seawall"),
            "created": self.created,
            "passed": self.passed,
            "data": {
                "fingerprint": self.fingerprint,
                "source": self.source,
                "source_sha256": self.source_sha256,
                "n_rows": self.n_rows,
            },
            "parameters": self.parameters.to_dict(),
            "random_state": self.parameters.random_state,
            "versions": dict(self.versions),
            "gates": [g.to_dict() for g in self.gates],
            "four_fifths": [f.to_dict() for f in self.four_fifths],
            "findings": [f.to_dict() for f in self.findings],
            "metrics": self.metrics.to_dict(),
            "associations": None if self.associations is None else self.associations.to_dict(),
            "mitigation": None if self.mitigation is None else self.mitigation.to_dict(),
        }
