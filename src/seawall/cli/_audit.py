"""``seawall audit``: the pre-deployment fairness check as a command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console

from seawall._io import read_table
from seawall.audit import audit as run_audit
from seawall.cli._errors import UserError, reports_errors
from seawall.cli._render import print_audit_summary, progress_counter, progress_steps
from seawall.cli._scheduler import check_local_only, scheduler_options

__all__ = ["audit_command"]

#: What the cluster audit's stages do, for the progress bar.
_STAGES = {
    "count": "counting partitions",
    "errors: survey": "weak slices: counting each context's values",
    "errors: prepare": "weak slices: coding the partitions",
    "outputs: survey": "associations: counting each context's values",
    "outputs: prepare": "associations: coding the partitions",
}


def _parse_reference(values: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        col, sep, value = item.partition("=")
        if not sep or not col or not value:
            raise UserError(
                f"--reference expects COLUMN=VALUE, e.g. --reference race=Caucasian; got {item!r}."
            )
        out[col.strip()] = value.strip()
    return out


@click.command("audit")
@click.argument("data", type=click.Path(path_type=Path))
@click.option("--label", required=True, help="Column with the true outcome (0/1).")
@click.option("--prediction", required=True, help="Column with the model's decision (0/1).")
@click.option("--score", default=None, help="Column with the model's score or probability.")
@click.option(
    "--sensitive",
    "sensitive",
    multiple=True,
    required=True,
    help="Sensitive feature column; repeat for several (their intersection is audited too).",
)
@click.option(
    "--reference",
    "references",
    multiple=True,
    metavar="COL=VALUE",
    help="Reference group of a sensitive feature; default its largest group. Repeatable.",
)
@click.option(
    "--positive-label",
    default=None,
    help="Label value that counts as positive, when labels are not 0/1.",
)
@click.option(
    "--task",
    type=click.Choice(["auto", "classification", "regression"]),
    default="auto",
    show_default=True,
    help="Kind of model.",
)
@click.option(
    "--min-group-size",
    type=click.IntRange(min=0),
    default=30,
    show_default=True,
    help="Smaller groups are shown but not judged.",
)
@click.option(
    "--fail-on",
    "fail_on",
    multiple=True,
    metavar="EXPR",
    help="Gate, e.g. 'disparate_impact<0.8': exit 1 when it is breached significantly. Repeatable.",
)
@click.option(
    "--confidence-level",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.95,
    show_default=True,
    help="Level of every interval.",
)
@click.option(
    "--correction",
    type=click.Choice(["holm", "bh", "none"]),
    default="holm",
    show_default=True,
    help="Multiple-testing correction of p-values.",
)
@click.option(
    "--n-bootstrap",
    type=click.IntRange(min=0),
    default=1000,
    show_default=True,
    help="Bootstrap replicates for score-based intervals.",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Random seed of the bootstrap and of the associations' search/confirm split.",
)
@click.option(
    "--associations/--no-associations",
    default=True,
    show_default=True,
    help="Search the other columns for weak slices, error disparities and output "
    "associations (never affects the gates).",
)
@click.option(
    "--association-depth",
    type=click.IntRange(1, 4),
    default=2,
    show_default=True,
    help="The most conditions in a context of the associations section.",
)
@click.option(
    "--context",
    "contexts",
    multiple=True,
    metavar="COL",
    help="A column that defines the associations' contexts; repeat for several "
    "[default: every other column that can].",
)
@click.option(
    "--split-key",
    default=None,
    metavar="COL",
    help="A row-key column: the associations' search/confirm split is a seeded hash of "
    "it, independent of the row order. Needed for the associations with --scheduler.",
)
@click.option(
    "--mitigation/--no-mitigation",
    default=True,
    show_default=True,
    help="Say what threshold post-processing, reweighing and disparate-impact repair would "
    "do (classification; never affects the gates).",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Directory for report.html and audit.json.",
)
@scheduler_options
@reports_errors
def audit_command(
    data: Path,
    label: str,
    prediction: str,
    score: str | None,
    sensitive: tuple[str, ...],
    references: tuple[str, ...],
    positive_label: str | None,
    task: str,
    min_group_size: int,
    fail_on: tuple[str, ...],
    confidence_level: float,
    correction: str,
    n_bootstrap: int,
    seed: int,
    associations: bool,
    association_depth: int,
    contexts: tuple[str, ...],
    split_key: str | None,
    mitigation: bool,
    out_dir: Path,
    scheduler: str | None,
    workers: int | None,
) -> None:
    """Audit a model's decisions in DATA (CSV or Parquet) for group fairness.

    Writes OUT/report.html (a self-contained report) and OUT/audit.json (every
    number with its interval and p-value, the parameters, the seed and a
    fingerprint of the data). Unless --no-associations is given, the other
    columns of DATA are searched for weak slices, error disparities and output
    associations (shown in both files; they never fail a gate), and unless
    --no-mitigation is given, each remedy (threshold post-processing of --score,
    reweighing, disparate-impact repair) is fitted on half the rows and judged
    on the other half. Exits 1 when a
    --fail-on gate fails, 2 on bad input, 0 otherwise.

    With --scheduler, DATA is a directory or glob of Parquet partitions and the
    group metrics (and with --score the score metrics) are computed on a Dask
    cluster, exactly as in memory; so are the associations, given --split-key.
    Mitigation is not run there.

    \b
    Example:
      seawall audit preds.csv --label y --prediction approved \\
        --sensitive race --sensitive sex --fail-on 'disparate_impact<0.8' --out audit/
    """
    from seawall.reports import write_report

    reference = _parse_reference(references)
    console = Console(stderr=True)
    common: dict[str, Any] = {
        "label": label,
        "prediction": prediction,
        "score": score,
        "sensitive": sensitive,
        "positive_label": positive_label,
        "reference": reference or None,
        "task": task,
        "min_group_size": min_group_size,
        "gates": fail_on,
        "confidence_level": confidence_level,
        "correction": correction,
        "n_bootstrap": n_bootstrap,
        "random_state": seed,
        "associations": associations,
        "association_depth": association_depth,
        "context": list(contexts) or None,
        "split_key": split_key,
    }
    if scheduler is not None:
        from seawall.distributed import audit as distributed_audit

        with progress_counter(console) as report:
            result = distributed_audit(
                str(data),
                scheduler=scheduler,
                n_workers=workers,
                progress=lambda stage, done, total: report(done, total, _STAGES.get(stage, stage)),
                **common,
            )
        paths = write_report(result, out_dir)
    else:
        check_local_only(workers)
        with progress_steps(console, 8) as advance:
            advance(f"reading {data}")
            frame = read_table(data)
            result = run_audit(
                frame,
                mitigation=mitigation,
                source=data,
                progress=advance,
                **common,
            )
            advance("writing the report")
            paths = write_report(result, out_dir)
    print_audit_summary(Console(), result, paths.html, paths.json)
    if not result.passed:
        raise SystemExit(1)
