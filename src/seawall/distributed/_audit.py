"""The pre-deployment audit of a partitioned decision log, counted on a Dask cluster."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pyarrow.compute as pc

from seawall._validation import check_choice, check_real
from seawall.audit._associations import AuditAssociations
from seawall.audit._audit import check_gates, gate_names
from seawall.audit._findings import describe_findings, four_fifths
from seawall.audit._fingerprint import environment_versions
from seawall.audit._gates import parse_gate
from seawall.audit._result import AuditParameters, AuditResult
from seawall.distributed._cluster import connect
from seawall.distributed._files import check_columns, parquet_files, read_columns
from seawall.distributed._metrics import cell_spec, count_partitions
from seawall.distributed._reduce import map_reduce
from seawall.distributed._scores import distributed_score_stats
from seawall.exceptions import InvalidParameterError
from seawall.metrics._assembly import CommonParams
from seawall.metrics._result import GroupMetrics

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["NOT_DISTRIBUTED", "audit"]

#: Why an audit on a cluster has no associations section (yet).
NOT_DISTRIBUTED = (
    "the audit's association section does not run on a Dask cluster in this version; run "
    "`seawall investigate --scheduler ... --split-key ID` (the same scans, on the cluster)"
)


def _distinct_labels(path: str, label: str) -> frozenset[object]:
    """Up to three distinct values of one partition's label column."""
    values = pc.unique(read_columns(path, [label], "the audit").column(label))
    return frozenset(values.drop_null().to_pylist()[:3])


def _union(*parts: frozenset[object]) -> frozenset[object]:
    return frozenset(v for p in parts for v in p)


def _more_than_two(client: Client, files: Sequence[str], label: str) -> bool:
    """Whether the label column holds more than two values across the partitions."""
    check_columns(files[0], [label], "the audit")
    values = map_reduce(client, _distinct_labels, files, _union, label, key="seawall-labels")
    return len(values) > 2


def audit(
    source: str | Path | Sequence[str | Path],
    *,
    label: str,
    prediction: str,
    sensitive: str | Sequence[str],
    score: str | None = None,
    positive_label: str | None = None,
    reference: Mapping[str, str] | None = None,
    task: Literal["auto", "classification", "regression"] = "auto",
    min_group_size: int = 30,
    gates: Sequence[str] = (),
    confidence_level: float = 0.95,
    correction: Literal["holm", "bh", "none"] = "holm",
    n_bootstrap: int = 1000,
    random_state: int = 0,
    scheduler: Client | str = "local",
    n_workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> AuditResult:
    """:func:`seawall.audit.audit` of a partitioned Parquet decision log, on Dask.

    The group metrics, gates, four-fifths rule and findings are computed from
    count tables (for regression, sums) merged exactly across partitions (see
    :func:`group_metrics` and :func:`regression_metrics`), so they equal the
    in-memory audit of the same rows; with ``score``, the score metrics come
    from a distributed sort and a merged histogram, exactly as well (see
    :func:`group_metrics`). The fingerprint is the SHA-256 of the partitions'
    fingerprints in file order. The audit's associations section and the
    mitigation trial are not run here (the associations section says so; run
    :func:`find_associations` or :func:`profile_errors` with a row key).
    Regression needs numbers in ``label`` and ``prediction``.

    Parameters
    ----------
    source : str, Path or sequence of them
        A directory of Parquet files, a glob or a list of files.
    label, prediction : str
        The true outcome and decision columns (0/1, or ``positive_label``).
    sensitive : str or sequence of str
        The sensitive feature column(s).
    score : str or None, default=None
        The model's score or probability column (adds AUC, Brier score, calibration).
    positive_label : str or None, default=None
        The label value that counts as positive, when labels are not 0/1.
    reference, min_group_size, gates, confidence_level, correction, n_bootstrap, random_state
        As for :func:`seawall.audit.audit`.
    task : {"auto", "classification", "regression"}, default="auto"
        ``"auto"`` is classification when the label has at most two values
        across all partitions (or ``positive_label`` is given); a first pass
        reads the label column to find out.
    scheduler : distributed.Client or str, default="local"
        A client, a scheduler's address, or ``"local"``.
    n_workers : int or None, default=None
        Workers of a local cluster.
    progress : callable or None, default=None
        Called with ``(partitions_done, n_partitions)``.

    Returns
    -------
    AuditResult
        As :func:`seawall.audit.audit` returns it, with ``associations``
        skipped (the reason says why) and no ``mitigation``.

    Raises
    ------
    DataValidationError
        On a missing column or bad values (naming the partition).
    InvalidParameterError
        On a bad parameter or gate.

    Examples
    --------
    >>> res = audit("parts/", label="label", prediction="prediction",
    ...             sensitive=["sex", "race"], gates=["disparate_impact<0.8"])  # doctest: +SKIP
    >>> res.passed  # doctest: +SKIP
    False
    """
    caller = "audit"
    params = CommonParams(caller, confidence_level, min_group_size, correction, random_state)
    n_boot = int(check_real(n_bootstrap, "n_bootstrap", caller, low=0, integer=True))
    task_ = check_choice(task, "task", caller, ("auto", "classification", "regression"))
    files = parquet_files(source)
    with connect(scheduler, n_workers=n_workers) as client:
        if task_ == "auto":
            many = positive_label is None and _more_than_two(client, files, label)
            task_ = "regression" if many else "classification"
        if task_ == "regression" and score is not None:
            raise InvalidParameterError(
                "a score column only applies to classification; drop score= or set "
                "task='classification'."
            )
        spec = cell_spec(
            label, prediction, sensitive, None, positive_label, task=task_, score=score
        )
        parsed = [parse_gate(g, gate_names(task_, score is not None)) for g in gates]
        counted = count_partitions(client, files, spec, fingerprint=True, progress=progress)
        parts = None
        if score is not None:
            parts = distributed_score_stats(
                client, files, spec, score, counted.tables, counted.n_rows, 10
            )

    def run(level: float, boot: int) -> GroupMetrics:
        at = CommonParams(caller, level, params.min_size, params.correction, params.seed)
        return counted.metrics(reference, at, parts, boot)

    metrics = run(params.level, n_boot)
    results = check_gates(parsed, metrics, run, params.level, n_boot) if parsed else ()
    assert counted.fingerprint is not None
    versions = environment_versions()
    return AuditResult(
        metrics=metrics,
        gates=results,
        four_fifths=four_fifths(metrics) if task_ == "classification" else (),
        findings=describe_findings(metrics),
        parameters=AuditParameters(
            label=label,
            prediction=prediction,
            score=score,
            sensitive=spec.sensitive,
            positive_label=positive_label,
            reference=tuple((str(k), str(v)) for k, v in (reference or {}).items()),
            task=task_,
            min_group_size=metrics.min_group_size,
            confidence_level=params.level,
            correction=metrics.correction,
            n_bootstrap=metrics.n_bootstrap,
            random_state=params.seed,
            gates=tuple(str(g) for g in parsed),
            associations=False,
            association_depth=2,
            mitigation=False,
        ),
        fingerprint=counted.fingerprint,
        source=str(source) if isinstance(source, str | Path) else None,
        source_sha256=None,
        n_rows=counted.n_rows,
        versions=tuple(versions.items()),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        associations=AuditAssociations(
            error_profile=None,
            output_associations=None,
            context=(),
            left_out=(),
            skipped=NOT_DISTRIBUTED,
            max_depth=2,
            context_fingerprint=None,
        ),
        mitigation=None,
    )
