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
from seawall.cli._render import print_investigation_summary, progress_steps

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
    args += ["--out", str(out_dir)]
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
) -> Investigation:
    from seawall.associations import find_associations, profile_errors

    common: dict[str, Any] = {"context": frame[context], **search}
    if explanatory:
        common["explanatory"] = frame[explanatory]
    if target.mode == "output":
        return find_associations(
            frame[target.names[0]], sensitive_features=frame[protected], **common
        )
    if target.mode == "error-of":
        true_col, pred_col = target.names
        return profile_errors(
            frame[true_col],
            frame[pred_col],
            sensitive_features=frame[protected],
            error=error or _DEFAULT_ERROR,  # type: ignore[arg-type]
            **common,
        )
    return _discover_labels(frame, target.names[0], protected, sensitive_labels, common)


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
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Directory for report.html and findings.json.",
)
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
    out_dir: Path,
) -> None:
    """Find the contexts where a model's output or errors single out a protected group.

    Give exactly one of --output (does a group's output differ from the rest of
    a context?), --error-of (weak slices where the model errs more, and error
    gaps between groups) or --labels (output labels given to one group more or
    less often). Contexts are searched on one split of DATA (CSV or Parquet) and
    confirmed on the other. Writes OUT/report.html and OUT/findings.json (every
    tested hypothesis). Exits 2 on bad input, 0 otherwise.

    \b
    Example:
      seawall investigate preds.csv --error-of y_true,y_pred --protected group \\
        --context region --context device --out investigation/
    """
    from seawall.reports import write_investigation

    target = _target(output, error_of, labels, error)
    if sensitive_labels and target.mode != "labels":
        raise UserError("--sensitive-label applies only with --labels; drop it.")
    _check_roles(
        [
            ("--protected", protected),
            (f"--{target.mode}", target.names),
            ("--context", context),
            ("--explanatory", explanatory),
        ]
    )
    console = Console(stderr=True)
    with progress_steps(console, 4) as advance:
        advance(f"reading {data}")
        frame = read_table(data)
        for role, col in (
            *(("protected", c) for c in protected),
            *target.columns,
            *(("context", c) for c in context),
            *(("explanatory", c) for c in explanatory),
        ):
            _check_columns(frame, {role: col})
        used = {*protected, *target.names, *explanatory}
        ctx = list(context) or [
            str(c) for c in frame.columns if str(c) not in used and not holds_lists(frame[c])
        ]
        if not ctx:
            raise UserError(
                "no column is left for --context: every column is protected, investigated "
                "or explanatory. Add context columns to the data."
            )
        advance(f"investigating {len(frame):,} rows over {len(ctx)} context attributes")
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
        result = _run(
            frame, target, list(protected), ctx, list(explanatory), error, sensitive_labels, search
        )
        advance("fingerprinting the data")
        sha = file_sha256(data)
        advance("writing the report")
        command = _command(
            data, protected, target, ctx, explanatory, error, sensitive_labels, search, out_dir
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
