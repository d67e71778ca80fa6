"""Association and slice investigations of a partitioned Parquet data set, on Dask.

The in-memory :func:`seawall.associations.find_associations` and
:func:`seawall.associations.profile_errors` ask their rows only for count
tables, so the same selection runs over partitions:

1. **Survey** (one task per partition): the values of every context column,
   the protected and explanatory combinations and the output's classes are
   counted and merged by value into one code space (sorted labels, the
   ``"(other)"`` pool, exact quantile bins; :mod:`._scan_codes`).
2. **Prepare** (one task per partition): each worker codes its rows in that
   space, splits them by a seeded hash of the row key (``split_key``: the split
   depends on the keys only, not on the partitioning) and keeps them.
3. **Select**: the client runs the in-memory search, collapse and confirmation;
   each question they ask (the tables of a scan level, of the contexts on the
   rows a kept candidate newly covers, of membership patterns) is one light
   task per partition whose count tables are added up (:mod:`._scan_rows`).

Counts merge exactly, so the findings, their statistics and p-values are
those of the in-memory call with the same ``split_key`` on the same rows (for
a continuous outcome, sums differ by floating-point rounding only).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from seawall._validation import check_choice, check_real, param_error
from seawall.associations._assemble import Part, build_investigation
from seawall.associations._encoding import ContextColumn
from seawall.associations._inputs import (
    check_split,
    compared_groups,
    parameters_record,
    params_dict,
    search_params,
)
from seawall.associations._investigate import _classes
from seawall.associations._result import Investigation
from seawall.associations._select import SearchParams, select
from seawall.distributed._cluster import connect
from seawall.distributed._files import check_columns, parquet_files
from seawall.distributed._reduce import map_reduce, staged
from seawall.distributed._scan_codes import Codebook, column_code, combo_code
from seawall.distributed._scan_parts import (
    ScanSpec,
    Survey,
    merge_surveys,
    prepare_part,
    problems,
    survey_part,
)
from seawall.distributed._scan_rows import ClusterRows, PartViews
from seawall.exceptions import DataValidationError, InvalidParameterError

if TYPE_CHECKING:
    from distributed import Client, Future

__all__ = ["find_associations", "profile_errors"]

Source = str | Path | Sequence[str | Path]
Progress = Callable[[str, int, int], None]
_ERRORS = ("misclassification", "fpr", "fnr", "absolute", "squared")
_OUTCOMES = ("auto", "binary", "continuous", "categorical")


def _names(value: str | Sequence[str] | None, role: str, caller: str) -> tuple[str, ...]:
    """Column names: one name or several, each a non-empty string."""
    if value is None:
        return ()
    names = (value,) if isinstance(value, str) else tuple(value)
    for name in names:
        if not isinstance(name, str) or not name:
            raise param_error(role, caller, "a column name or a list of them", value)
    return names


def _check_roles(roles: dict[str, tuple[str, ...]]) -> None:
    seen: dict[str, str] = {}
    for role, columns in roles.items():
        for col in columns:
            if col in seen and seen[col] != role:
                raise InvalidParameterError(
                    f"the column {col!r} is named as {seen[col]} and as {role}; give each "
                    f"role its own column."
                )
            seen[col] = role


def _outcome(survey: Survey, spec: ScanSpec) -> Literal["binary", "continuous", "categorical"]:
    """The outcome's kind, decided as the in-memory call decides it on the whole column."""
    if spec.errors:
        return "continuous" if spec.kind in ("absolute", "squared") else "binary"
    if spec.kind != "auto":
        return spec.kind  # type: ignore[return-value]
    if any(k not in "biuf" for k in survey.y_kinds):
        return "categorical"
    return "binary" if survey.y_binary else "continuous"


def _codebook(
    survey: Survey, spec: ScanSpec, n_bins: int, max_values: int, caller: str
) -> Codebook:
    """The whole data's code space from the merged survey."""
    outcome = _outcome(survey, spec)
    classes: dict[str, int] | None = None
    class_labels: tuple[str, ...] = ()
    if outcome == "categorical":
        if survey.y_values is None:
            raise DataValidationError(  # pragma: no cover - a categorical output was counted
                f"{caller}: the output column {spec.target[0]!r} has no values to classify."
            )
        _, class_labels = _classes(survey.y_values[0], caller)
        classes = {lab: i for i, lab in enumerate(class_labels)}
    contexts = tuple(
        column_code(name, values, counts, n_bins, max_values)
        for name, (values, counts) in zip(spec.context, survey.contexts, strict=True)
    )
    groups = (
        None if survey.groups is None else combo_code(survey.groups, spec.sensitive, protected=True)
    )
    strata = (
        None
        if survey.strata is None
        else combo_code(survey.strata, spec.explanatory, protected=False)
    )
    tested = (0,) if groups is None else compared_groups(groups.counts)
    return Codebook(outcome, classes, class_labels, contexts, groups, strata, tested)


def _view_sizes(views: PartViews) -> tuple[int, int]:
    return views[0][0].size, views[0][1].size


def _investigate(
    source: Source,
    spec: ScanSpec,
    caller: str,
    params: SearchParams,
    n_bins: object,
    max_values: object,
    scheduler: Client | str,
    n_workers: int | None,
    progress: Progress | None,
) -> Investigation:
    """Survey, prepare and select on the cluster; assemble the result on the client."""
    bins = int(check_real(n_bins, "n_bins", caller, low=2, integer=True))
    cap = int(check_real(max_values, "max_values", caller, low=2, integer=True))
    files = parquet_files(source)
    check_columns(files[0], spec.columns, "the investigation")

    with connect(scheduler, n_workers=n_workers) as client:
        survey: Survey = map_reduce(
            client,
            survey_part,
            files,
            merge_surveys,
            spec,
            progress=staged(progress, "survey"),
            key="seawall-survey",
        )
        book = _codebook(survey, spec, bins, cap, caller)
        n = survey.n_analysed
        check_split(n, params, caller)
        parts = _prepare(client, files, spec, book, params, staged(progress, "prepare"))
        sizes = client.gather(client.map(_view_sizes, parts, pure=False))  # type: ignore[no-untyped-call]
        n_search = int(sum(s for s, _ in sizes))
        n_confirm = int(sum(c for _, c in sizes))
        empty = np.empty(0, dtype=np.intp)
        contexts = [
            ContextColumn(c.name, empty, c.labels, c.other, c.binned) for c in book.contexts
        ]
        analyses = problems(book, np.empty(0), empty, empty, contexts, spec.errors)
        share = params.alpha / len(analyses)
        found: list[Part] = []
        for i, (name, problem) in enumerate(analyses):
            sub = SearchParams(**{**params_dict(params), "alpha": share})

            def rows(split: int, size: int, i: int = i, problem: Any = problem) -> ClusterRows:
                return ClusterRows(
                    client,
                    parts,
                    (i, split),
                    size,
                    tuple(c.cardinality for c in problem.contexts),
                    problem.n_cells,
                    problem.outcome == "continuous",
                )

            selection = select(problem, sub, rows(0, n_search), rows(1, n_confirm))
            found.append(Part(name, problem, selection, share))
        client.cancel(list(parts))  # type: ignore[no-untyped-call]
    extra: dict[str, Any] = {"split": "key"}
    if spec.errors:
        extra.update(error=spec.kind)
    else:
        extra.update(outcome=book.outcome)
    extra.update(n_bins=bins, max_values=cap, context=list(spec.context))
    extra.update(explanatory=list(spec.explanatory))
    if spec.errors:
        extra.update(
            analyses=[name for name, _ in analyses], sensitive_features=list(spec.sensitive)
        )
    else:
        extra.update(sensitive_features=list(spec.sensitive))
        if book.class_labels:
            extra.update(classes=list(book.class_labels))
    recorded = parameters_record(params, **extra)
    return build_investigation(found, recorded, n, params.max_findings)


def _prepare(
    client: Client,
    files: Sequence[str],
    spec: ScanSpec,
    book: Codebook,
    params: SearchParams,
    progress: Callable[[int, int], None] | None,
) -> tuple[Future[PartViews], ...]:
    """Code and split every partition on a worker, which keeps its views."""
    import uuid

    from distributed import as_completed, wait

    token = uuid.uuid4().hex[:12]
    futures: list[Future[PartViews]] = client.map(
        prepare_part,
        list(files),
        key=[f"seawall-prepare-{i}-{token}" for i in range(len(files))],
        pure=False,
        spec=spec,
        book=book,
        test_size=params.test_size,
        random_state=params.random_state,
    )
    if progress is not None:
        for done, _ in enumerate(as_completed(futures), start=1):  # type: ignore[no-untyped-call]
            progress(done, len(futures))
    wait(futures)  # type: ignore[no-untyped-call]
    for future in futures:
        if future.status == "error":
            future.result()  # raises the partition's error here
    return tuple(futures)


def find_associations(
    source: Source,
    *,
    y: str,
    sensitive_features: str | Sequence[str],
    context: str | Sequence[str],
    split_key: str,
    explanatory: str | Sequence[str] | None = None,
    outcome: Literal["auto", "binary", "continuous", "categorical"] = "auto",
    max_depth: int = 3,
    min_support: int = 50,
    test_size: float = 0.5,
    alpha: float = 0.05,
    correction: Literal["holm", "bh"] = "holm",
    max_findings: int = 20,
    n_bins: int = 5,
    max_values: int = 12,
    random_state: int = 0,
    scheduler: Client | str = "local",
    n_workers: int | None = None,
    progress: Progress | None = None,
) -> Investigation:
    """:func:`seawall.associations.find_associations` of a partitioned Parquet data set, on Dask.

    Every partition is read twice by a worker (once to count its values, once
    to code its rows, which the worker then keeps); the client runs the
    selection, and each table it needs is counted by every partition and added
    up. The result equals the in-memory call on the same rows with
    ``split_key`` set to the same keys, whatever the partitioning and the row
    order: the same findings, statistics and p-values (continuous outcomes to
    floating-point rounding) and the same hypotheses.

    Parameters
    ----------
    source : str, Path or sequence of them
        A directory of Parquet files, a glob, a file or a list of files (see
        :func:`seawall.distributed.parquet_files`); workers must reach the paths.
    y : str
        The output column (binary, numeric or categorical).
    sensitive_features : str or sequence of str
        The protected column(s); several are intersected.
    context : str or sequence of str
        The context columns.
    split_key : str
        A row-key column (an id): a row confirms iff a seeded hash of its key
        falls below ``test_size`` (see the in-memory ``split_key``).
    explanatory : str, sequence of str or None, default=None
        Columns that legitimately explain differences.
    outcome : {"auto", "binary", "continuous", "categorical"}, default="auto"
        The kind of ``y``, decided over all partitions as in memory.
    max_depth, min_support, test_size, alpha, correction, max_findings, n_bins, max_values
        As for :func:`seawall.associations.find_associations`.
    random_state : int, default=0
        The seed of the key hash.
    scheduler : distributed.Client or str, default="local"
        A client, a scheduler's address, or ``"local"`` (see :func:`seawall.distributed.connect`).
    n_workers : int or None, default=None
        Workers of a local cluster.
    progress : callable or None, default=None
        Called with ``(stage, parts_done, n_parts)``, stage ``"survey"`` then ``"prepare"``.

    Returns
    -------
    Investigation
        As the in-memory call returns it (its parameters record ``split="key"``).

    Raises
    ------
    InvalidParameterError
        On a bad parameter, or a column given two roles.
    DataValidationError
        On a missing column, bad values (naming the partition), or a protected
        column with one group.
    InsufficientDataError
        With too few rows to split.
    ConfigError
        When Dask is missing or the scheduler cannot be reached.

    See Also
    --------
    seawall.associations.find_associations : The same on data in memory.
    profile_errors : Weak slices and error disparities, on Dask.

    References
    ----------
    .. [1] F. Tramèr et al., "FairTest: discovering unwarranted associations in
       data-driven applications", IEEE EuroS&P 2017.

    Examples
    --------
    >>> from seawall.datasets import make_slices  # doctest: +SKIP
    >>> frame = make_slices(200_000).frame.rename_axis("row_id").reset_index()  # doctest: +SKIP
    >>> for i, part in enumerate(np.array_split(frame, 4)):  # doctest: +SKIP
    ...     part.to_parquet(f"parts/part-{i}.parquet")
    >>> res = find_associations("parts", y="y_pred", sensitive_features="group",
    ...                         context=["f5", "f3"], split_key="row_id",
    ...                         n_workers=2)  # doctest: +SKIP
    >>> res.findings.context  # doctest: +SKIP
    ('f5 = c',)
    """
    caller = "find_associations"
    kind = check_choice(outcome, "outcome", caller, _OUTCOMES)
    params = search_params(
        caller, max_depth, min_support, test_size, alpha, correction, max_findings, random_state
    )
    spec = _spec(
        caller,
        {"y": y},
        kind,
        False,
        sensitive_features,
        context,
        explanatory,
        split_key,
        require_sensitive=True,
    )
    return _investigate(
        source, spec, caller, params, n_bins, max_values, scheduler, n_workers, progress
    )


def profile_errors(
    source: Source,
    *,
    y_true: str,
    y_pred: str,
    context: str | Sequence[str],
    split_key: str,
    sensitive_features: str | Sequence[str] | None = None,
    error: Literal["misclassification", "fpr", "fnr", "absolute", "squared"] = (
        "misclassification"
    ),
    explanatory: str | Sequence[str] | None = None,
    max_depth: int = 3,
    min_support: int = 50,
    test_size: float = 0.5,
    alpha: float = 0.05,
    correction: Literal["holm", "bh"] = "holm",
    max_findings: int = 20,
    n_bins: int = 5,
    max_values: int = 12,
    random_state: int = 0,
    scheduler: Client | str = "local",
    n_workers: int | None = None,
    progress: Progress | None = None,
) -> Investigation:
    """:func:`seawall.associations.profile_errors` of a partitioned Parquet data set, on Dask.

    Weak slices (contexts where the model errs more, whatever the group) and,
    with ``sensitive_features``, error disparities between groups, found as
    :func:`find_associations` finds associations: counted per partition,
    merged exactly, selected on the client. The result equals the in-memory
    call on the same rows with ``split_key`` set to the same keys. The
    absolute and squared errors of a regression are supported: their tables
    hold sums and sums of squares, which add up over partitions.

    Parameters
    ----------
    source : str, Path or sequence of them
        A directory of Parquet files, a glob, a file or a list of files.
    y_true, y_pred : str
        The label and prediction columns (binary, or real for ``"absolute"``
        and ``"squared"``).
    context : str or sequence of str
        The context columns.
    split_key : str
        A row-key column (an id) whose seeded hash splits the rows.
    sensitive_features : str, sequence of str or None, default=None
        The protected column(s).
    error : {"misclassification", "fpr", "fnr", "absolute", "squared"}, default="misclassification"
        The error profiled.
    explanatory : str, sequence of str or None, default=None
        Columns that legitimately explain differences.
    max_depth, min_support, test_size, alpha, correction, max_findings, n_bins, max_values
        As for :func:`seawall.associations.profile_errors`.
    random_state : int, default=0
        The seed of the key hash.
    scheduler : distributed.Client or str, default="local"
        A client, a scheduler's address, or ``"local"``.
    n_workers : int or None, default=None
        Workers of a local cluster.
    progress : callable or None, default=None
        Called with ``(stage, parts_done, n_parts)``, stage ``"survey"`` then ``"prepare"``.

    Returns
    -------
    Investigation
        As the in-memory call returns it (its parameters record ``split="key"``).

    Raises
    ------
    InvalidParameterError
        On a bad parameter, or a column given two roles.
    DataValidationError
        On a missing column or bad values (naming the partition).
    InsufficientDataError
        With too few rows to split.
    ConfigError
        When Dask is missing or the scheduler cannot be reached.

    See Also
    --------
    seawall.associations.profile_errors : The same on data in memory.
    find_associations : Associations of an output with a group, on Dask.

    References
    ----------
    .. [1] S. Sagadeeva, M. Boehm, "SliceLine: fast, linear-algebra-based slice
       finding for ML model debugging", SIGMOD 2021.

    Examples
    --------
    >>> res = profile_errors("parts", y_true="y_true", y_pred="y_pred",
    ...                      context=[f"f{i}" for i in range(10)], split_key="row_id",
    ...                      max_depth=2, n_workers=2)  # doctest: +SKIP
    >>> res.findings.context  # doctest: +SKIP
    ('f1 = b and f4 = b', 'f1 = d and f6 = c')
    """
    caller = "profile_errors"
    kind = check_choice(error, "error", caller, _ERRORS)
    params = search_params(
        caller, max_depth, min_support, test_size, alpha, correction, max_findings, random_state
    )
    spec = _spec(
        caller,
        {"y_true": y_true, "y_pred": y_pred},
        kind,
        True,
        sensitive_features,
        context,
        explanatory,
        split_key,
        require_sensitive=False,
    )
    return _investigate(
        source, spec, caller, params, n_bins, max_values, scheduler, n_workers, progress
    )


def _spec(
    caller: str,
    target: dict[str, str],
    kind: str,
    errors: bool,
    sensitive_features: str | Sequence[str] | None,
    context: str | Sequence[str],
    explanatory: str | Sequence[str] | None,
    split_key: str,
    *,
    require_sensitive: bool,
) -> ScanSpec:
    """Validate the column names into a :class:`ScanSpec`."""
    for role, col in (*target.items(), ("split_key", split_key)):
        if not isinstance(col, str) or not col:
            raise param_error(role, caller, "a column name", col)
    sensitive = _names(sensitive_features, "sensitive_features", caller)
    if require_sensitive and not sensitive:
        raise param_error("sensitive_features", caller, "at least one column name", sensitive)
    ctx = _names(context, "context", caller)
    if not ctx:
        raise param_error("context", caller, "at least one column name", context)
    ex = _names(explanatory, "explanatory", caller)
    _check_roles(
        {
            "the target": tuple(target.values()),
            "sensitive_features": sensitive,
            "context": ctx,
            "explanatory": ex,
            "split_key": (split_key,),
        }
    )
    return ScanSpec(tuple(target.values()), kind, errors, sensitive, ctx, ex, split_key)
