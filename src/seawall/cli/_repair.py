"""``seawall repair``: disparate-impact repair of a table's features."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import click
from rich.console import Console
from rich.table import Table

from seawall._io import read_table, write_table
from seawall.audit._audit import _check_columns
from seawall.cli._errors import UserError, reports_errors
from seawall.cli._render import progress_counter, progress_steps
from seawall.cli._scheduler import check_local_only, scheduler_options

__all__ = ["repair_command"]


@click.command("repair")
@click.argument("data", type=click.Path(path_type=Path))
@click.option(
    "--sensitive",
    "sensitive",
    multiple=True,
    required=True,
    help="Protected attribute column; repeat for several (their intersection is repaired).",
)
@click.option(
    "--features",
    "features",
    multiple=True,
    required=True,
    metavar="COL",
    help="A feature column to repair; repeat for several.",
)
@click.option(
    "--repair-level",
    type=float,
    default=1.0,
    show_default=True,
    help="How far each value moves towards the common distribution, in [0, 1].",
)
@click.option(
    "--mode",
    type=click.Choice(["geometric", "combinatorial"]),
    default="geometric",
    show_default=True,
    help="Geometric: move values part of the way; combinatorial: move ranks (rank-preserving).",
)
@click.option(
    "--categorical",
    type=click.Choice(["keep", "proportions"]),
    default="keep",
    show_default=True,
    help="Leave categorical features alone, or repair their proportions per group.",
)
@click.option(
    "--fit-on",
    "fit_on",
    type=click.Path(path_type=Path),
    default=None,
    help="Learn the repair from this table (e.g. the training data) and apply it to DATA.",
)
@click.option(
    "--label",
    default=None,
    metavar="COL",
    help="The outcome column (0/1). With it, the features are certified before and after: "
    "can the protected attribute be predicted from them?",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Seed of the tie-breaking, the categorical reassignment and the certification split.",
)
@click.option(
    "--out",
    "out_file",
    required=True,
    type=click.Path(path_type=Path),
    help="The repaired table (.csv or .parquet): DATA with the features replaced. With "
    "--scheduler, a new or empty directory for the repaired partitions.",
)
@scheduler_options
@reports_errors
def repair_command(
    data: Path,
    sensitive: tuple[str, ...],
    features: tuple[str, ...],
    repair_level: float,
    mode: Literal["geometric", "combinatorial"],
    categorical: Literal["keep", "proportions"],
    fit_on: Path | None,
    label: str | None,
    seed: int,
    out_file: Path,
    scheduler: str | None,
    workers: int | None,
) -> None:
    """Repair features so the protected attribute cannot be read from them.

    Feldman et al.'s disparate-impact repair: each feature's distribution within
    every protected group is moved towards the groups' median distribution
    (REPAIR_LEVEL 1 makes them equal). The labels are not changed: the repair
    shows on a model retrained on the repaired features. Writes DATA with the
    repaired features to OUT; exits 2 on bad input. With --label, the features
    are certified before and after (Feldman et al.'s test: a classifier tries to
    predict the protected attribute; a balanced error rate above 1/2 - beta/8,
    beta the protected group's positive rate, certifies them).

    With --scheduler, DATA (and --fit-on) are directories or globs of Parquet
    partitions: the repair is learned on the Dask cluster exactly as in memory,
    and each partition is repaired and written under OUT by one task.

    \b
    Example:
      seawall repair train.csv --sensitive sex --features age --features hours \\
        --repair-level 1 --out train-repaired.csv
    """
    from seawall.mitigation import DisparateImpactRemover
    from seawall.mitigation import certify as run_certify

    if out_file.resolve() == data.resolve():
        raise UserError(f"--out {str(out_file)!r} is DATA itself; write the repair elsewhere.")
    overlap = sorted(set(sensitive) & set(features))
    if label is not None and label in {*sensitive, *features}:
        raise UserError(
            f"the column {label!r} is given both as --label and as --sensitive or --features."
        )
    if overlap:
        raise UserError(
            f"the column {overlap[0]!r} is given both as --sensitive and as --features; "
            "the protected attribute is not repaired."
        )
    console = Console(stderr=True)
    if scheduler is not None:
        _repair_on_cluster(
            console,
            data,
            fit_on,
            list(sensitive),
            list(features),
            label,
            out_file,
            scheduler,
            workers,
            DisparateImpactRemover(
                repair_level=repair_level, mode=mode, categorical=categorical, random_state=seed
            ),
        )
        return
    check_local_only(workers)
    steps = 3 + (fit_on is not None) + 2 * (label is not None)
    with progress_steps(console, steps) as advance:
        advance(f"reading {data}")
        frame = read_table(data)
        _check_columns(
            frame,
            {
                **{f"sensitive ({i + 1})": c for i, c in enumerate(sensitive)},
                **{f"feature ({i + 1})": c for i, c in enumerate(features)},
                **({"label": label} if label is not None else {}),
            },
        )
        source = frame
        if fit_on is not None:
            advance(f"reading {fit_on}")
            source = read_table(fit_on)
            _check_columns(source, {f"feature ({i + 1})": c for i, c in enumerate(features)})
            _check_columns(source, {f"sensitive ({i + 1})": c for i, c in enumerate(sensitive)})
        cols, groups = list(features), list(sensitive)
        remover = DisparateImpactRemover(
            repair_level=repair_level, mode=mode, categorical=categorical, random_state=seed
        )
        remover.set_output(transform="pandas")
        advance(f"learning the repair from {len(source):,} rows")
        remover.fit(source[cols], sensitive_features=source[groups])
        repaired = remover.transform(frame[cols], sensitive_features=frame[groups])
        before = after = None
        if label is not None:
            y = frame[label]
            advance("certifying the features before the repair")
            before = run_certify(frame[cols], frame[groups], y=y, random_state=seed)
            advance("certifying the repaired features")
            after = run_certify(repaired, frame[groups], y=y, random_state=seed)
        advance(f"writing {out_file}")
        out = frame.copy()
        for c in cols:
            out[c] = repaired[c].to_numpy()
        write_table(out, out_file)
    _print_summary(Console(), remover, len(frame), before, after, out_file)


def _repair_on_cluster(
    console: Console,
    data: Path,
    fit_on: Path | None,
    sensitive: list[str],
    features: list[str],
    label: str | None,
    out_dir: Path,
    scheduler: str,
    workers: int | None,
    remover: Any,
) -> None:
    """The repair of Parquet partitions on a Dask cluster (``--scheduler``)."""
    from seawall.distributed import repair

    if label is not None:
        raise UserError(
            "--label (certification) trains a classifier on the rows in memory and does not "
            "run on a Dask cluster; certify a sample of the repaired partitions with "
            "`seawall repair SAMPLE.parquet --label ...`, or drop --label."
        )
    stages = {
        "scan": "reading the partitions",
        "sort": "sorting each feature's values",
        "repair": "repairing and writing the partitions",
    }
    with progress_counter(console) as report:
        run = repair(
            str(data),
            remover,
            sensitive=sensitive,
            features=features,
            out=out_dir,
            fit_on=None if fit_on is None else str(fit_on),
            scheduler=scheduler,
            n_workers=workers,
            progress=lambda stage, done, total: report(done, total, stages[stage]),
        )
    _print_summary(Console(), run.remover, run.n_rows, None, None, out_dir)


def _print_summary(
    console: Console, remover: Any, n: int, before: Any, after: Any, out_file: Path
) -> None:
    console.print(
        f"[bold]Repaired[/bold] {n:,} rows, {len(remover.feature_names_in_)} feature(s), "
        f"{len(remover.groups_)} group(s), repair level {remover.repair_level:g} "
        f"({remover.mode}).",
        highlight=False,
    )
    if before is not None and after is not None:
        table = Table(
            title="Can the protected attribute be predicted from the features? "
            "(balanced error rate: 0.5 = not at all)"
        )
        for col in ("features", "balanced error rate [CI]", "threshold", "certified"):
            table.add_column(col)
        for name, cert in (("original", before), ("repaired", after)):
            table.add_row(
                name,
                f"{cert.balanced_error_rate:.3f} [{cert.lower:.3f}, {cert.upper:.3f}]",
                f"{cert.threshold:.3f}",
                "yes" if cert.certified else "no",
            )
        console.print(table)
    console.print(f"Output: {out_file}", highlight=False)
