"""``seawall investigate``: the contexts where a model's output or errors single out a group."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pandas as pd
from rich.console import Console

from seawall._io import file_sha256, read_table
from seawall.associations import Investigation
from seawall.audit._associations import holds_lists
from seawall.audit._audit import _check_columns
from seawall.cli._errors import UserError, reports_errors
from seawall.cli._label_lists import LABEL_SEP, label_matrix
from seawall.cli._render import print_investigation_summary, progress_counter, progress_steps
from seawall.cli._scheduler import check_local_only, scheduler_options

__all__ = ["Target", "investigate_command"]

_ERRORS = ("misclassification", "fpr", "fnr", "absolute", "squared")
_DEFAULT_ERROR = "misclassification"
# The search parameters and the options that set them, in the command's order.
_SEARCH_FLAGS = {
    "max_depth": "--max-depth",
    "min_support": "--min-support",
    "test_size": "--test-size",
    "alpha": "--alpha",
    "random_state": "--seed",
}


@dataclass(frozen=True, slots=True)
class Target:
    """What is investigated: exactly one of the three modes, checked.

    Attributes
    ----------
    mode : {"output", "error-of", "labels"}
        The option that chose it.
    columns : tuple of (str, str)
        ``(role, column)`` pairs: the output, the true and predicted columns,
        or the label column.
    """

    mode: str
    columns: tuple[tuple[str, str], ...]

    @property
    def names(self) -> list[str]:
        """The columns it reads."""
        return [col for _, col in self.columns]


def _parse_error_of(value: str) -> tuple[str, str]:
    parts = [p.strip() for p in value.split(",")]
    if len(parts) != 2 or not all(parts):
        raise UserError(
            f"--error-of expects TRUE_COL,PRED_COL (two column names separated by a comma), "
            f"e.g. --error-of y_true,y_pred; got {value!r}."
        )
    return parts[0], parts[1]


def _target(
    output: str | None, error_of: str | None, labels: str | None, error: str | None
) -> Target:
    """Check the flag combinations, before any data is read."""
    given = [
        flag
        for flag, value in (("--output", output), ("--error-of", error_of), ("--labels", labels))
        if value is not None
    ]
    if len(given) != 1:
        got = "none" if not given else " and ".join(given)
        raise UserError(
            "give exactly one of --output COL (the model's output), --error-of TRUE_COL,PRED_COL "
            f"(its errors) or --labels COL (its multi-label output); got {got}."
        )
    if error is not None and error_of is None:
        raise UserError(f"--error applies only with --error-of; drop --error {error}.")
    if output is not None:
        return Target("output", (("output", output),))
    if error_of is not None:
        true_col, pred_col = _parse_error_of(error_of)
        return Target("error-of", (("true", true_col), ("prediction", pred_col)))
    return Target("labels", (("labels", str(labels)),))


def _check_roles(roles: Sequence[tuple[str, Sequence[str]]]) -> None:
    """A column plays one role: protected, target, context or explanatory."""
    seen: dict[str, str] = {}
    for role, columns in roles:
        for col in columns:
            if col in seen and seen[col] != role:
                raise UserError(
                    f"the column {col!r} is given both as {seen[col]} and as {role}; a column "
                    f"plays one role."
                )
            seen[col] = role


def _command(
    data: Path,
    protected: Sequence[str],
    target: Target,
    context: Sequence[str],
    explanatory: Sequence[str],
    error: str | None,
    sensitive_labels: Sequence[str],
    search: dict[str, Any],
    out_dir: Path,
    split_key: str | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
) -> str:
    """The command line that repeats the investigation, every column and parameter written out."""
    args = ["seawall", "investigate", str(data)]
    for col in protected:
        args += ["--protected", col]
    if target.mode == "error-of":
        args += ["--error-of", ",".join(target.names), "--error", error or _DEFAULT_ERROR]
    else:
        args += [f"--{target.mode}", target.names[0]]
    for col in context:
        args += ["--context", col]
    for col in explanatory:
        args += ["--explanatory", col]
    for label in sensitive_labels:
        args += ["--sensitive-label", label]
    for name, flag in _SEARCH_FLAGS.items():
        args += [flag, str(search[name])]
    if split_key is not None:
        args += ["--split-key", split_key]
    args += ["--out", str(out_dir)]
    if scheduler is not None:
        args += ["--scheduler", scheduler]
    if workers is not None:
        args += ["--workers", str(workers)]
    return shlex.join(args)


def _title(target: Target, protected: Sequence[str], error: str | None) -> str:
    by = ", ".join(protected)
    if target.mode == "output":
        return f"Associations of {target.names[0]} with {by}"
    if target.mode == "error-of":
        true_col, pred_col = target.names
        return f"Errors of {pred_col} against {true_col} ({error or _DEFAULT_ERROR}), by {by}"
    return f"Labels in {target.names[0]} associated with {by}"


def _discover_labels(
    frame: pd.DataFrame,
    column: str,
    protected: list[str],
    sensitive_labels: tuple[str, ...],
    common: dict[str, Any],
) -> Investigation:
    from seawall.associations import discover_labels

    matrix, names = label_matrix(frame[column], column)
    return discover_labels(
        matrix,
        sensitive_features=frame[protected],
        label_names=names,
        sensitive_labels=sensitive_labels,
        **common,
    )


def _run(
    frame: pd.DataFrame,
    target: Target,
    protected: list[str],
    context: list[str],
    explanatory: list[str],
    error: str | None,
    sensitive_labels: tuple[str, ...],
    search: dict[str, Any],
    split_key: str | None,
) -> Investigation:
    from seawall.associations import find_associations, profile_errors

    common: dict[str, Any] = {"context": frame[context], **search}
    if explanatory:
        common["explanatory"] = frame[explanatory]
    if target.mode == "labels":
        return _discover_labels(frame, target.names[0], protected, sensitive_labels, common)
    if split_key is not None:
        common["split_key"] = frame[split_key]
    if target.mode == "output":
        return find_associations(
            frame[target.names[0]], sensitive_features=frame[protected], **common
        )
    true_col, pred_col = target.names
    return profile_errors(
        frame[true_col],
        frame[pred_col],
        sensitive_features=frame[protected],
        error=error or _DEFAULT_ERROR,  # type: ignore[arg-type]
        **common,
    )


def _run_on_cluster(
    data: Path,
    target: Target,
    protected: list[str],
    context: list[str],
    explanatory: list[str],
    error: str | None,
    search: dict[str, Any],
    split_key: str,
    scheduler: str,
    workers: int | None,
    console: Console,
) -> Investigation:
    """The investigation of a partitioned Parquet data set on a Dask cluster."""
    from seawall.distributed._scan import find_associations, profile_errors

    common: dict[str, Any] = {
        "context": context,
        "explanatory": explanatory or None,
        "split_key": split_key,
        "scheduler": scheduler,
        "n_workers": workers,
        **search,
    }
    stages = {"survey": "counting values", "prepare": "coding partitions"}
    with progress_counter(console) as report:
        common["progress"] = lambda stage, done, total: report(done, total, stages[stage])
        if target.mode == "output":
            return find_associations(
                str(data), y=target.names[0], sensitive_features=protected, **common
            )
        true_col, pred_col = target.names
        return profile_errors(
            str(data),
            y_true=true_col,
            y_pred=pred_col,
            sensitive_features=protected,
            error=error or _DEFAULT_ERROR,  # type: ignore[arg-type]
            **common,
        )


def _cluster_columns(data: Path) -> tuple[str, list[str], list[str]]:
    """The first partition's path, its columns, and those that could be context (no lists)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from seawall.distributed._files import parquet_files

    files = parquet_files(str(data))
    schema = pq.read_schema(files[0])
    plain = [
        f.name for f in schema if not (pa.types.is_list(f.type) or pa.types.is_large_list(f.type))
    ]
    return files[0], list(schema.names), plain


def _files_sha256(data: Path) -> str:
    """A digest of every partition's SHA-256, in file order."""
    import hashlib

    from seawall.distributed._files import parquet_files

    h = hashlib.sha256()
    for path in parquet_files(str(data)):
        h.update(f"{Path(path).name}:{file_sha256(path)}\n".encode())
    return h.hexdigest()


@click.command("investigate")
@click.argument("data", type=click.Path(path_type=Path))
@click.option(
    "--protected",
    "protected",
    multiple=True,
    required=True,
    metavar="COL",
    help="Protected attribute column; repeat for several (their intersection is compared).",
)
@click.option(
    "--output",
    default=None,
    metavar="COL",
    help="Investigate this output column (binary, numeric or categorical).",
)
@click.option(
    "--error-of",
    "error_of",
    default=None,
    metavar="TRUE_COL,PRED_COL",
    help="Investigate the errors of PRED_COL against the truth TRUE_COL.",
)
@click.option(
    "--labels",
    default=None,
    metavar="COL",
    help=f"Investigate a multi-label output: a Parquet list column, or in CSV "
    f"labels separated by '{LABEL_SEP}'.",
)
@click.option(
    "--context",
    multiple=True,
    metavar="COL",
    help="Context attribute; repeatable. Default: every column not otherwise used.",
)
@click.option(
    "--explanatory",
    multiple=True,
    metavar="COL",
    help="Attribute that legitimately explains differences (effects are stratified by it).",
)
@click.option(
    "--error",
    type=click.Choice(_ERRORS),
    default=None,
    help=f"With --error-of: the error to profile (default {_DEFAULT_ERROR}).",
)
@click.option(
    "--sensitive-label",
    "sensitive_labels",
    multiple=True,
    metavar="LABEL",
    help="With --labels: a label to review first (e.g. an offensive one); repeatable.",
)
@click.option(
    "--max-depth",
    type=int,
    default=None,
    help="Most conditions in a context  [default: 3; 1 with --labels].",
)
@click.option(
    "--min-support",
    type=int,
    default=50,
    show_default=True,
    help="Fewest rows of the search split a context must have.",
)
@click.option(
    "--test-size",
    type=float,
    default=0.5,
    show_default=True,
    help="Share of rows held out to confirm what the search found.",
)
@click.option(
    "--alpha",
    type=float,
    default=0.05,
    show_default=True,
    help="Chance of any false finding (family-wise error rate).",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Random seed of the search/confirm split.",
)
@click.option(
    "--split-key",
    "split_key",
    default=None,
    metavar="COL",
    help="Row-key column (an id): a row is held out to confirm by a seeded hash of its key, "
    "so the split does not depend on row order or partitioning. Required with --scheduler.",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Directory for report.html and findings.json.",
)
@scheduler_options
@reports_errors
def investigate_command(
    data: Path,
    protected: tuple[str, ...],
    output: str | None,
    error_of: str | None,
    labels: str | None,
    context: tuple[str, ...],
    explanatory: tuple[str, ...],
    error: str | None,
    sensitive_labels: tuple[str, ...],
    max_depth: int | None,
    min_support: int,
    test_size: float,
    alpha: float,
    seed: int,
    split_key: str | None,
    out_dir: Path,
    scheduler: str | None,
    workers: int | None,
) -> None:
    """Find the contexts where a model's output or errors single out a protected group.

    Give exactly one of --output (does a group's output differ from the rest of
    a context?), --error-of (weak slices where the model errs more, and error
    gaps between groups) or --labels (output labels given to one group more or
    less often). Contexts are searched on one split of DATA (CSV or Parquet) and
    confirmed on the other. Writes OUT/report.html and OUT/findings.json (every
    tested hypothesis). Exits 2 on bad input, 0 otherwise.

    With --split-key, rows are split by a seeded hash of that column, whatever
    their order. With --scheduler, DATA is a directory or glob of Parquet
    partitions and the investigation runs on a Dask cluster (needs
    --split-key; not for --labels), with the same findings as in memory.

    \b
    Example:
      seawall investigate preds.csv --error-of y_true,y_pred --protected group \\
        --context region --context device --out investigation/
    """
    from seawall.reports import write_investigation

    target = _target(output, error_of, labels, error)
    if sensitive_labels and target.mode != "labels":
        raise UserError("--sensitive-label applies only with --labels; drop it.")
    if split_key is not None and target.mode == "labels":
        raise UserError(
            "--split-key applies to --output and --error-of; label discovery (--labels) "
            "splits its items at random. Drop --split-key."
        )
    if scheduler is not None:
        if target.mode == "labels":
            raise UserError(
                "--labels (multi-label discovery) needs the label matrix in memory and does "
                "not run on a cluster; drop --scheduler, or investigate --output or --error-of."
            )
        if split_key is None:
            raise UserError(
                "--scheduler needs --split-key COL, a row-key column (an id): the search/"
                "confirm split must not depend on how the rows are partitioned."
            )
    else:
        check_local_only(workers)
    _check_roles(
        [
            ("--protected", protected),
            (f"--{target.mode}", target.names),
            ("--context", context),
            ("--explanatory", explanatory),
            ("--split-key", (split_key,) if split_key is not None else ()),
        ]
    )
    console = Console(stderr=True)
    used = {*protected, *target.names, *explanatory, *((split_key,) if split_key else ())}
    if max_depth is None:
        # Every label x group x context multiplies fast: one condition by default.
        max_depth = 1 if target.mode == "labels" else 3
    search: dict[str, Any] = {
        "max_depth": max_depth,
        "min_support": min_support,
        "test_size": test_size,
        "alpha": alpha,
        "random_state": seed,
    }
    if scheduler is not None and split_key is not None:
        first, names, plain = _cluster_columns(data)
        for col in (*used, *context):
            if col not in names:
                raise UserError(
                    f"column {col!r} is not in the Parquet data {str(data)!r} (first partition "
                    f"{Path(first).name}); its columns are {names!r}."
                )
        ctx = list(context) or [c for c in plain if c not in used]
        _no_context_left(ctx)
        result = _run_on_cluster(
            data,
            target,
            list(protected),
            ctx,
            list(explanatory),
            error,
            search,
            split_key,
            scheduler,
            workers,
            console,
        )
        sha = _files_sha256(data)
    else:
        with progress_steps(console, 3) as advance:
            advance(f"reading {data}")
            frame = read_table(data)
            for role, col in (
                *(("protected", c) for c in protected),
                *target.columns,
                *(("context", c) for c in context),
                *(("explanatory", c) for c in explanatory),
                *((("split key", split_key),) if split_key is not None else ()),
            ):
                _check_columns(frame, {role: col})
            ctx = list(context) or [
                str(c) for c in frame.columns if str(c) not in used and not holds_lists(frame[c])
            ]
            _no_context_left(ctx)
            advance(f"investigating {len(frame):,} rows over {len(ctx)} context attributes")
            result = _run(
                frame,
                target,
                list(protected),
                ctx,
                list(explanatory),
                error,
                sensitive_labels,
                search,
                split_key,
            )
            advance("fingerprinting the data")
            sha = file_sha256(data)
    command = _command(
        data,
        protected,
        target,
        ctx,
        explanatory,
        error,
        sensitive_labels,
        search,
        out_dir,
        split_key,
        scheduler,
        workers,
    )
    paths = write_investigation(
        result,
        out_dir,
        command=command,
        fingerprint=sha,
        source=str(data),
        title=_title(target, protected, error),
    )
    print_investigation_summary(Console(), result, paths.html, paths.json)


def _no_context_left(ctx: list[str]) -> None:
    if not ctx:
        raise UserError(
            "no column is left for --context: every column is protected, investigated, "
            "explanatory or the split key. Add context columns to the data."
        )
