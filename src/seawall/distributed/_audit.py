"""The pre-deployment audit of a partitioned decision log, counted on a Dask cluster."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pyarrow.compute as pc
import pyarrow.parquet as pq

from seawall._validation import check_choice, check_real, param_error
from seawall.associations import Investigation
from seawall.audit._associations import (
    AuditAssociations,
    assemble,
    check_context,
    choose_context,
)
from seawall.audit._audit import check_gates, gate_names
from seawall.audit._findings import describe_findings, four_fifths
from seawall.audit._fingerprint import data_fingerprint, environment_versions
from seawall.audit._gates import parse_gate
from seawall.audit._result import AuditParameters, AuditResult
from seawall.distributed._cluster import connect
from seawall.distributed._files import check_columns, parquet_files, read_columns
from seawall.distributed._metrics import cell_spec, combined_fingerprint, count_partitions
from seawall.distributed._reduce import map_parts, map_reduce, staged
from seawall.distributed._scan import find_associations, profile_errors
from seawall.distributed._scores import distributed_score_stats
from seawall.exceptions import InvalidParameterError
from seawall.metrics._assembly import CommonParams
from seawall.metrics._result import GroupMetrics

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["NOT_BINARY", "NOT_DISTRIBUTED", "audit"]

#: Why an audit on a cluster without a row key has no associations section.
NOT_DISTRIBUTED = (
    "on a Dask cluster the associations section needs a row key to split search from "
    "confirmation (split_key=, or --split-key ID): a seeded hash of the key, so the split "
    "does not depend on the partitioning"
)
#: Why an audit on a cluster with text labels has no associations section.
NOT_BINARY = (
    "on a Dask cluster the associations section reads 0/1 labels; with positive_label the "
    "labels are text, so it did not run (write the labels as 0/1 to include it)"
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
    associations: bool = True,
    association_depth: int = 2,
    context: Sequence[str] | None = None,
    split_key: str | None = None,
    scheduler: Client | str = "local",
    n_workers: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> AuditResult:
    """:func:`seawall.audit.audit` of a partitioned Parquet decision log, on Dask.

    The group metrics, gates, four-fifths rule and findings are computed from
    count tables (for regression, sums) merged exactly across partitions (see
    :func:`group_metrics` and :func:`regression_metrics`), so they equal the
    in-memory audit of the same rows; with ``score``, the score metrics come
    from a distributed sort and a merged histogram, exactly as well (see
    :func:`group_metrics`). The fingerprint is the SHA-256 of the partitions'
    fingerprints in file order.

    With ``split_key`` (a row-key column), the associations section runs on
    the cluster too (:func:`profile_errors` and :func:`find_associations`):
    rows are split into search and confirmation halves by a seeded hash of
    the key, and the section equals that of :func:`seawall.audit.audit` with
    the same ``split_key`` and contexts. The contexts are ``context``, or
    chosen as in memory but from the first partition's rows (an identifier,
    constant or list column there is left out). Without ``split_key`` the
    section is skipped, and says why. The mitigation trial (models retrained
    in memory) is not run here. Regression needs numbers in ``label`` and
    ``prediction``.

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
    associations, association_depth, context, split_key
        As for :func:`seawall.audit.audit`; the section needs ``split_key`` here.
    task : {"auto", "classification", "regression"}, default="auto"
        ``"auto"`` is classification when the label has at most two values
        across all partitions (or ``positive_label`` is given); a first pass
        reads the label column to find out.
    scheduler : distributed.Client or str, default="local"
        A client, a scheduler's address, or ``"local"``.
    n_workers : int or None, default=None
        Workers of a local cluster.
    progress : callable or None, default=None
        Called with ``(stage, done, total)`` as partitions finish: stage
        ``"count"``, then for the associations ``"errors: survey"``,
        ``"errors: prepare"``, ``"outputs: survey"`` and ``"outputs: prepare"``.

    Returns
    -------
    AuditResult
        As :func:`seawall.audit.audit` returns it, without ``mitigation``.

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
    if not isinstance(associations, bool):
        raise param_error("associations", caller, "a bool", associations)
    depth = int(
        check_real(association_depth, "association_depth", caller, low=1, high=4, integer=True)
    )
    sens = [sensitive] if isinstance(sensitive, str) else list(sensitive)
    used = [label, prediction, *([score] if score else []), *sens]
    contexts = check_context(context, split_key, used, caller)
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
        counted = count_partitions(
            client, files, spec, fingerprint=True, progress=staged(progress, "count")
        )
        parts = None
        if score is not None:
            parts = distributed_score_stats(
                client, files, spec, score, counted.tables, counted.n_rows, 10
            )
        section = None
        if associations:
            section = _associations(
                client,
                files,
                Roles(label, prediction, tuple(sens), tuple(used), positive_label),
                task_,
                depth,
                params.seed,
                contexts,
                split_key,
                progress,
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
            associations=bool(associations),
            association_depth=depth,
            mitigation=False,
            context=contexts,
            split_key=split_key,
            on_cluster=True,
        ),
        fingerprint=counted.fingerprint,
        source=str(source) if isinstance(source, str | Path) else None,
        source_sha256=None,
        n_rows=counted.n_rows,
        versions=tuple(versions.items()),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        associations=section,
        mitigation=None,
    )


@dataclass(frozen=True)
class Roles:
    """The audited columns, as the associations section needs them."""

    label: str
    prediction: str
    sensitive: tuple[str, ...]
    used: tuple[str, ...]
    positive_label: str | None


def _context_digest(path: str, context: list[str]) -> str:
    table = read_columns(path, context, "the audit's associations").to_pandas()
    return data_fingerprint(table, context)


def _first_partition_context(
    files: Sequence[str], used: list[str]
) -> tuple[list[str], list[tuple[str, str]]]:
    """The contexts :func:`choose_context` picks from the first partition with rows."""
    for path in files:
        if pq.ParquetFile(path).metadata.num_rows:
            return choose_context(pq.read_table(path).to_pandas(), used)
    return [], []


def _associations(
    client: Client,
    files: Sequence[str],
    roles: Roles,
    task: str,
    depth: int,
    seed: int,
    context: tuple[str, ...] | None,
    split_key: str | None,
    progress: Callable[[str, int, int], None] | None,
) -> AuditAssociations:
    """The associations section on the cluster, or why it did not run."""
    if split_key is None or roles.positive_label is not None:
        reason = NOT_DISTRIBUTED if split_key is None else NOT_BINARY
        return AuditAssociations(None, None, (), (), reason, depth, None)
    keyed = [*roles.used, split_key]
    check_columns(files[0], [*keyed, *(context or ())], "the audit's associations")
    if context is None:
        chosen, left_out = _first_partition_context(files, keyed)
    else:
        chosen, left_out = list(context), []
    fingerprint = None
    if chosen:
        digests = map_parts(client, _context_digest, files, chosen, key="seawall-context")
        fingerprint = combined_fingerprint(digests)
    regression = task == "regression"
    common: dict[str, Any] = {
        "sensitive_features": list(roles.sensitive),
        "context": chosen,
        "split_key": split_key,
        "max_depth": depth,
        "random_state": seed,
        "scheduler": client,
    }

    def investigate() -> tuple[Investigation, Investigation]:
        errors = profile_errors(
            files,
            y_true=roles.label,
            y_pred=roles.prediction,
            error="absolute" if regression else "misclassification",
            progress=_prefixed(progress, "errors"),
            **common,
        )
        outputs = find_associations(
            files,
            y=roles.prediction,
            outcome="continuous" if regression else "binary",
            progress=_prefixed(progress, "outputs"),
            **common,
        )
        return errors, outputs

    return assemble(chosen, left_out, depth, fingerprint, investigate)


def _prefixed(
    progress: Callable[[str, int, int], None] | None, prefix: str
) -> Callable[[str, int, int], None] | None:
    """``progress`` with each stage named ``"prefix: stage"``."""
    if progress is None:
        return None
    report = progress
    return lambda stage, done, total: report(f"{prefix}: {stage}", done, total)
