"""``seawall detect``: anomaly scores for time-series files, or incidents for a fleet."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from seawall._io import read_table, write_table
from seawall.cli._errors import UserError, reports_errors
from seawall.cli._render import progress_counter, progress_steps
from seawall.cli._scheduler import check_local_only, scheduler_options
from seawall.exceptions import DataValidationError, SeawallError

if TYPE_CHECKING:
    from seawall.monitoring import Incidents

__all__ = ["detect_command", "find_inputs", "fleet_level_options"]

_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")


def fleet_level_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--threshold`` and ``--false-alarms-per-day``: the level at which a fleet is flagged."""
    command = click.option(
        "--false-alarms-per-day",
        "false_runs_per_day",
        type=click.FloatRange(0.0, min_open=True),
        default=None,
        help="Without --threshold: the fleet's nominal budget of false-alarm runs per "
        "day, from which the level is set for the number of series and the steps per "
        "day (seawall.monitoring.fleet_threshold; default 0.25, never below 0.999).",
    )(command)
    return click.option(
        "--threshold",
        type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
        default=None,
        help="The level at which a run of high scores is flagged (default: scaled to "
        "the fleet's size, see --false-alarms-per-day).",
    )(command)


def find_inputs(inputs: tuple[Path, ...]) -> list[tuple[Path, Path]]:
    """Each input file with the path it keeps under the output folder.

    A file keeps its name; the files of a folder (searched recursively for
    CSV, TSV and Parquet) keep their path relative to that folder.

    Parameters
    ----------
    inputs : tuple of Path
        Files and folders.

    Returns
    -------
    list of (Path, Path)
        ``(file, relative path)`` pairs, folders' files sorted.

    Raises
    ------
    UserError
        When an input does not exist, is not a table, or a folder holds none.
    """
    found: list[tuple[Path, Path]] = []
    for item in inputs:
        if item.is_dir():
            files = sorted(p for p in item.rglob("*") if p.suffix.lower() in _SUFFIXES)
            if not files:
                raise UserError(
                    f"Folder {str(item)!r} holds no .csv, .tsv or .parquet file to score."
                )
            found.extend((p, p.relative_to(item)) for p in files)
        elif item.is_file():
            if item.suffix.lower() not in _SUFFIXES:
                raise UserError(
                    f"Input {str(item)!r} is not a table: expected a .csv, .tsv or .parquet "
                    f"file (or a folder of them)."
                )
            found.append((item, Path(item.name)))
        else:
            raise UserError(f"Input {str(item)!r} does not exist; pass a file or a folder.")
    return found


def _score_file(
    path: Path, timestamp_col: str, value_col: str, warmup: int | None, hold: int
) -> tuple[pd.DataFrame, int, str]:
    from seawall.monitoring import series_scores
    from seawall.monitoring._series_table import default_warmup, series_table

    table = series_table(
        read_table(path), timestamp_col=timestamp_col, value_col=value_col, source=str(path)
    )
    n = table.values.shape[0]
    n_warm = default_warmup(n) if warmup is None else warmup
    if n_warm > n // 2:
        raise DataValidationError(
            f"{path} has {n} rows; --warmup {n_warm} leaves too few to score (at most half "
            f"the rows, {n // 2}, may be warm-up). Lower --warmup."
        )
    try:
        score = series_scores(table.values, warmup=n_warm, hold=hold)
    except SeawallError as e:
        raise DataValidationError(f"{path}: {e}") from e
    notes = []
    if table.n_intervals > 1:
        notes.append(f"{table.n_intervals} sampling intervals")
    if table.n_repeated:
        notes.append(f"{table.n_repeated} repeated timestamps")
    if table.n_backwards:
        notes.append(f"{table.n_backwards} out of order")
    out = pd.DataFrame(
        {"timestamp": table.timestamps, "value": table.values, "anomaly_score": score}
    )
    return out, n_warm, "; ".join(notes)


def _per_file(
    inputs: tuple[Path, ...],
    out_dir: Path,
    timestamp_col: str,
    value_col: str,
    warmup: int | None,
    hold: int,
    console: Console,
) -> None:
    files = find_inputs(inputs)
    failures: list[str] = []
    summary = Table(title=f"Scored {len(files)} file(s) into {out_dir}")
    summary.add_column("file", overflow="fold")
    for col in ("rows", "warm-up", "onsets >= 0.99"):
        summary.add_column(col, justify="right")
    notes: list[str] = []
    with progress_steps(Console(stderr=True), len(files)) as advance:
        for path, rel in files:
            advance(str(rel))
            try:
                frame, n_warm, note = _score_file(path, timestamp_col, value_col, warmup, hold)
            except SeawallError as e:
                failures.append(str(e))
                continue
            target = (out_dir / rel).with_suffix(".csv")
            write_table(frame, target)
            summary.add_row(
                str(rel),
                str(len(frame)),
                str(n_warm),
                str(int((frame["anomaly_score"] >= 0.99).sum())),
            )
            if note:
                notes.append(f"  - {rel}: {note}")
    console.print(summary)
    if notes:
        console.print(
            "Scored row by row (steps are rows, as NAB scores its files) despite:\n"
            + "\n".join(notes),
            soft_wrap=True,
        )
    if failures:
        raise UserError(
            f"{len(failures)} of {len(files)} file(s) could not be scored (the others were "
            f"written):\n" + "\n".join(f"  - {m}" for m in failures)
        )


def _fleet(
    inputs: tuple[Path, ...],
    out_dir: Path,
    series_col: str,
    label_cols: tuple[str, ...],
    timestamp_col: str,
    value_col: str,
    warmup: int | None,
    threshold: float | None,
    false_runs_per_day: float | None,
    console: Console,
) -> None:
    from seawall.monitoring import detect, fleet_flags, group_incidents
    from seawall.monitoring._series_table import default_warmup, long_table

    frames = [read_table(path) for path, _ in find_inputs(inputs)]
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    missing = [c for c in label_cols if c not in frame.columns]
    if missing:
        raise UserError(
            f"--label-col {missing[0]!r} is not a column of the input; its columns are "
            f"{list(map(str, frame.columns))!r}."
        )
    table = long_table(
        frame,
        series_col=series_col,
        timestamp_col=timestamp_col,
        value_col=value_col,
        source="the metrics table",
    )
    n_steps = table.timestamps.shape[0]
    res = detect(table.values, warmup=default_warmup(n_steps) if warmup is None else warmup)
    flags = fleet_flags(
        res.scores, table.timestamps, threshold=threshold, false_runs_per_day=false_runs_per_day
    ).flags
    labels = (
        frame.assign(**{series_col: frame[series_col].astype(str)})
        .drop_duplicates(series_col)
        .set_index(series_col)
        .reindex(list(table.keys))
    )
    series_labels = pd.DataFrame({"series": list(table.keys)})
    for col in label_cols:
        series_labels[col] = labels[col].to_numpy()
    incidents = group_incidents(
        flags,
        res.scores,
        series_labels,
        timestamps=pd.DatetimeIndex(table.timestamps),
        unit="model" if "model" in label_cols else None,
    )
    observed = ~np.isnan(table.values)
    rows, steps = np.nonzero(observed)
    scores = pd.DataFrame(
        {
            "series": np.asarray(table.keys, dtype=object)[rows],
            "timestamp": table.timestamps[steps],
            "value": table.values[rows, steps],
            "anomaly_score": res.scores[rows, steps],
            "is_anomaly": flags[rows, steps],
        }
    )
    write_table(scores, out_dir / "scores.parquet")
    (out_dir / "incidents.json").write_text(
        json.dumps(incidents.to_dict(), indent=2, default=str) + "\n", encoding="utf-8"
    )
    unlearned = [f"{k}: {r}" for k, r in zip(table.keys, res.reasons, strict=True) if r]
    _print_fleet(
        console,
        len(table.keys),
        n_steps,
        int(flags.sum()),
        incidents,
        f"{out_dir / 'scores.parquet'} and {out_dir / 'incidents.json'}",
        unlearned,
    )


def _print_fleet(
    console: Console,
    n_series: int,
    n_steps: int,
    n_flagged: int,
    incidents: Incidents,
    written: str,
    unlearned: list[str],
) -> None:
    """Say what a fleet's detection found: the counts, the top incidents, what was not learned."""
    console.print(
        f"{n_series} series x {n_steps} steps: {n_flagged} anomalous steps in "
        f"{len(incidents.incidents)} incident(s) "
        f"(compression {n_flagged / max(len(incidents.incidents), 1):.1f}x). "
        f"Wrote {written}."
    )
    top = Table(title="Incidents, most severe first")
    for col in ("rank", "start", "end", "series", "shared labels", "severity"):
        top.add_column(col)
    for inc in incidents.incidents[:10]:
        top.add_row(
            str(inc.rank),
            str(inc.start),
            str(inc.end),
            str(len(inc.members)),
            ", ".join(f"{k}={v}" for k, v in inc.shared.items()) or "-",
            f"{inc.severity:.2f}",
        )
    console.print(top)
    if unlearned:
        console.print(
            f"{len(unlearned)} series could not be learned (scores left empty):\n"
            + "\n".join(f"  - {m}" for m in unlearned[:20])
        )


def _fleet_distributed(
    inputs: tuple[Path, ...],
    out_dir: Path,
    series_col: str,
    label_cols: tuple[str, ...],
    timestamp_col: str,
    value_col: str,
    warmup: int | None,
    threshold: float | None,
    false_runs_per_day: float | None,
    scheduler: str,
    workers: int | None,
    console: Console,
) -> None:
    from seawall.distributed import detect_fleet

    source: str | list[str] = str(inputs[0]) if len(inputs) == 1 else [str(p) for p in inputs]
    with progress_counter(Console(stderr=True)) as report:
        res = detect_fleet(
            source,
            series_col=series_col,
            timestamp_col=timestamp_col,
            value_col=value_col,
            label_cols=label_cols,
            warmup=warmup,
            threshold=threshold,
            false_runs_per_day=false_runs_per_day,
            out=out_dir,
            scheduler=scheduler,
            n_workers=workers,
            progress=lambda stage, done, total: report(
                done, total, "reading keys" if stage == "scan" else "scoring blocks"
            ),
        )
    _print_fleet(
        console,
        res.n_series,
        len(res.timestamps),
        res.n_flagged,
        res.incidents,
        f"{res.n_partitions} scores-*.parquet and incidents.json to {out_dir}",
        [f"{k}: {r}" for k, r in res.unlearned],
    )


@click.command("detect")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="The output folder.",
)
@click.option("--timestamp-col", default="timestamp", show_default=True, help="Time column.")
@click.option("--value-col", default="value", show_default=True, help="Value column.")
@click.option(
    "--series-col",
    default=None,
    metavar="COL",
    help="Read each INPUT as one long table of many series keyed by COL, and write "
    "scores.parquet and incidents.json.",
)
@click.option(
    "--label-col",
    "label_cols",
    multiple=True,
    metavar="COL",
    help="With --series-col: a column describing each series (model, metric, source, "
    "team, region, ...); incidents group series that share one. Repeat for several.",
)
@click.option(
    "--warmup",
    type=click.IntRange(min=16),
    default=None,
    help="Steps learned before scoring starts [default: 15% of the series, 32 to 750].",
)
@click.option(
    "--hold",
    type=click.IntRange(min=2),
    default=150,
    show_default=True,
    help="Per-file scores: a score is kept only where it beats every score of the "
    "previous HOLD/2 to HOLD steps (the start of an anomaly, not its echoes).",
)
@fleet_level_options
@scheduler_options(data="INPUTS")
@reports_errors
def detect_command(
    inputs: tuple[Path, ...],
    out_dir: Path,
    timestamp_col: str,
    value_col: str,
    series_col: str | None,
    label_cols: tuple[str, ...],
    warmup: int | None,
    hold: int,
    threshold: float | None,
    false_runs_per_day: float | None,
    scheduler: str | None,
    workers: int | None,
) -> None:
    """Score time series for anomalies, causally, with one configuration for all.

    Each INPUT is a CSV/Parquet file or a folder of them. Without --series-col,
    each file is one series (columns timestamp,value) and DIR gets a CSV at the
    same relative path with timestamp,value,anomaly_score: the calibrated tail
    probability of the step under the series' own past, kept where it starts an
    anomaly (0 during the warm-up and on its echoes). Every score depends only on
    that row and earlier ones. With --series-col, the INPUTs form one long table
    (series, timestamp, value, label columns); DIR gets scores.parquet (series,
    timestamp, value, anomaly_score, is_anomaly) and incidents.json (ranked
    incidents: members, start, end, severity, shared labels).

    \b
    Examples:
      seawall detect data/ --out scores/
      seawall detect metrics.parquet --series-col series --label-col model \\
        --label-col source --out fleet/
    """
    console = Console()
    if label_cols and series_col is None:
        raise UserError("--label-col needs --series-col (labels describe the series of a table).")
    if scheduler is not None:
        if series_col is None:
            raise UserError(
                "--scheduler needs --series-col: on a cluster, INPUT is a partitioned long "
                "table (series, timestamp, value) with each series whole in one file."
            )
        _fleet_distributed(
            inputs,
            out_dir,
            series_col,
            label_cols,
            timestamp_col,
            value_col,
            warmup,
            threshold,
            false_runs_per_day,
            scheduler,
            workers,
            console,
        )
        return
    check_local_only(workers)
    if series_col is None:
        _per_file(inputs, out_dir, timestamp_col, value_col, warmup, hold, console)
    else:
        _fleet(
            inputs,
            out_dir,
            series_col,
            label_cols,
            timestamp_col,
            value_col,
            warmup,
            threshold,
            false_runs_per_day,
            console,
        )
