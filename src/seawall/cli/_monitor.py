"""``seawall monitor``: prediction logs into a store, windows, detection, incidents."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from seawall.cli._detect import find_inputs, fleet_level_options
from seawall.cli._errors import UserError, reports_errors
from seawall.cli._render import progress_counter
from seawall.cli._scheduler import check_local_only, scheduler_options

__all__ = ["monitor_group"]

_STORE = click.option(
    "--store",
    "store_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("seawall.duckdb"),
    show_default=True,
    help="The store: one DuckDB file, created when absent.",
)

_MODEL_COL = click.option(
    "--model-col", default="model", show_default=True, help="The model column."
)
_REQUEST_ID_COL = click.option(
    "--request-id-col", default="request_id", show_default=True, help="The request id."
)


def _paths(inputs: tuple[Path, ...]) -> list[str]:
    return [str(p) for p, _ in find_inputs(inputs)]


@click.group("monitor")
def monitor_group() -> None:
    """Watch a fleet of models: logs and labels in, windowed metrics, incidents out."""


@monitor_group.command("models")
@click.argument("data", type=click.Path(path_type=Path))
@_STORE
@_MODEL_COL
@reports_errors
def models_command(data: Path, store_path: Path, model_col: str) -> None:
    """Register models and their labels (team, region, source, ...) from a table.

    Every column besides the model (and `version`, `project`) is a label;
    incidents group models that share one.
    """
    from seawall.storage import Store

    console = Console(soft_wrap=True)
    with Store(store_path) as store:
        for path in _paths((data,)):
            r = store.register_models(path, model_col=model_col)
            console.print(f"{path}: {r.inserted} model(s) registered, {r.replaced} updated.")


_TIME_COL = click.option(
    "--time-col", default="time", show_default=True, help="The prediction time."
)
_PREDICTION_COL = click.option(
    "--prediction-col", default="prediction", show_default=True, help="The prediction."
)
_SCORE_COL = click.option(
    "--score-col", default="score", show_default=True, help="The score (a probability)."
)
_SENSITIVE = click.option(
    "--sensitive",
    "sensitive_cols",
    multiple=True,
    metavar="COL",
    help="A sensitive attribute column (fairness per window); repeat for several.",
)
_FEATURE = click.option(
    "--feature",
    "feature_cols",
    multiple=True,
    metavar="COL",
    help="A feature column to watch; repeat. Default: every other column.",
)


@monitor_group.command("ingest")
@click.argument("logs", nargs=-1, required=True, type=click.Path(path_type=Path))
@_STORE
@_MODEL_COL
@_TIME_COL
@_REQUEST_ID_COL
@_PREDICTION_COL
@_SCORE_COL
@_SENSITIVE
@_FEATURE
@reports_errors
def ingest_command(
    logs: tuple[Path, ...],
    store_path: Path,
    model_col: str,
    time_col: str,
    request_id_col: str,
    prediction_col: str,
    score_col: str,
    sensitive_cols: tuple[str, ...],
    feature_cols: tuple[str, ...],
) -> None:
    """Load prediction logs (CSV/Parquet files or folders), once per request id.

    Loading the same rows again changes nothing (the first write of a model's
    request id wins); a bad batch is rolled back whole, earlier ones stay.
    """
    from seawall.storage import Store

    console = Console(soft_wrap=True)
    with Store(store_path) as store:
        for path in _paths(logs):
            r = store.ingest_predictions(
                path,
                model_col=model_col,
                time_col=time_col,
                request_id_col=request_id_col,
                prediction_col=prediction_col,
                score_col=score_col,
                sensitive_cols=sensitive_cols,
                feature_cols=list(feature_cols) or None,
            )
            console.print(
                f"{path}: {r.rows_read} rows read, {r.inserted} stored, "
                f"{r.duplicates} already there."
            )


@monitor_group.command("labels")
@click.argument("labels", nargs=-1, required=True, type=click.Path(path_type=Path))
@_STORE
@_MODEL_COL
@_REQUEST_ID_COL
@click.option("--label-col", default="label", show_default=True, help="The true outcome.")
@click.option(
    "--label-time-col",
    default=None,
    metavar="COL",
    help="When the label became known (optional).",
)
@reports_errors
def labels_command(
    labels: tuple[Path, ...],
    store_path: Path,
    model_col: str,
    request_id_col: str,
    label_col: str,
    label_time_col: str | None,
) -> None:
    """Load labels that arrived later, joined to predictions by request id.

    A corrected label replaces the stored one; the same label again changes nothing.
    """
    from seawall.storage import Store

    console = Console(soft_wrap=True)
    with Store(store_path) as store:
        for path in _paths(labels):
            r = store.ingest_labels(
                path,
                model_col=model_col,
                request_id_col=request_id_col,
                label_col=label_col,
                label_time_col=label_time_col,
            )
            console.print(
                f"{path}: {r.rows_read} labels read, {r.inserted} stored, {r.replaced} "
                f"corrected, {r.duplicates} already there."
            )


#: The options of ``monitor windows`` that name columns of LOGS.
_LOG_COLUMNS = (
    "model_col",
    "time_col",
    "request_id_col",
    "prediction_col",
    "score_col",
    "label_col",
    "sensitive_cols",
    "feature_cols",
)


@monitor_group.command("windows")
@click.argument("logs", required=False, type=click.Path(path_type=Path))
@_STORE
@click.option(
    "--every", default="1h", show_default=True, help="The window length (1h, 1D, 15min...)."
)
@click.option(
    "--reference-windows",
    type=click.IntRange(min=1),
    default=None,
    help="Judge drift against the first N windows of each model [default: the first].",
)
@_MODEL_COL
@_TIME_COL
@_REQUEST_ID_COL
@_PREDICTION_COL
@_SCORE_COL
@click.option(
    "--label-col",
    default="label",
    show_default=True,
    help="With LOGS: the true outcome, where known (left out when the logs lack it).",
)
@_SENSITIVE
@_FEATURE
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="With LOGS: a directory the workers also write the points to, as Parquet.",
)
@scheduler_options(data="LOGS")
@reports_errors
def windows_command(
    logs: Path | None,
    store_path: Path,
    every: str,
    reference_windows: int | None,
    model_col: str,
    time_col: str,
    request_id_col: str,
    prediction_col: str,
    score_col: str,
    label_col: str,
    sensitive_cols: tuple[str, ...],
    feature_cols: tuple[str, ...],
    out_dir: Path | None,
    scheduler: str | None,
    workers: int | None,
) -> None:
    """Compute every model's windowed metrics from its logs and store them.

    Volume, score distribution, drift of each feature and of the score (with the
    false-discovery rate controlled across features), accuracy/AUC/calibration
    where labels arrived, label-free estimated accuracy, disparate impact and TPR
    gap, null/out-of-range/unseen rates; each with an interval.

    The logs come from the store; or, with --scheduler, from LOGS, a directory
    or glob of Parquet files (partitioned by time and/or model) read on a Dask
    cluster, and the points are stored in the store all the same.
    """
    reference: object = "first" if reference_windows is None else reference_windows
    if scheduler is None:
        check_local_only(workers)
        if logs is not None or out_dir is not None:
            raise UserError(
                "LOGS and --out need --scheduler (the logs are then read on a Dask "
                "cluster); without it, load the logs with 'seawall monitor ingest' and "
                "the windows are computed from the store."
            )
        ctx = click.get_current_context()
        named = [
            p.opts[0]
            for p in ctx.command.params
            if p.name in _LOG_COLUMNS
            and ctx.get_parameter_source(p.name) is not click.core.ParameterSource.DEFAULT
        ]
        if named:
            raise UserError(
                f"{named[0]} names a column of LOGS and needs --scheduler; the store "
                "already knows its columns (set them at 'seawall monitor ingest')."
            )
        _store_windows(store_path, every, reference)
        return
    if logs is None:
        raise UserError("--scheduler needs LOGS: a directory or glob of Parquet prediction logs.")
    import pyarrow.parquet as pq

    from seawall.distributed import parquet_files, window_metrics
    from seawall.storage import Store

    names = set(pq.read_schema(parquet_files(str(logs))[0]).names)
    stages = {
        "scan": "reading times and models",
        "reference": "profiling references",
        "states": "windows of each partition",
        "merge": "merging cut windows",
    }
    with progress_counter(Console(stderr=True)) as report:
        points = window_metrics(
            str(logs),
            every=every,
            reference=reference,
            time_col=time_col,
            model_col=model_col,
            prediction_col=prediction_col,
            score_col=score_col if score_col in names else None,
            label_col=label_col if label_col in names else None,
            feature_cols=list(feature_cols) or None,
            sensitive_cols=list(sensitive_cols) or None,
            id_col=request_id_col if request_id_col in names else None,
            out=out_dir,
            scheduler=scheduler,
            n_workers=workers,
            progress=lambda stage, done, total: report(done, total, stages[stage]),
        )
    frame = points.to_frame()
    with Store(store_path) as store:
        store.write_metric_points(frame)
    console = Console(soft_wrap=True)
    n_models = frame["model"].nunique()
    console.print(f"{n_models} model(s): {len(frame)} metric points stored in {store_path}.")
    for role, col in (("score", score_col), ("label", label_col)):
        if col not in names:
            console.print(f"  no {role} column {col!r} in the logs: its metrics are left out")
    if out_dir is not None:
        console.print(f"  points also written to {out_dir}")


def _store_windows(store_path: Path, every: str, reference: object) -> None:
    """The windows of the logs in the store."""
    from seawall.storage import Store, compute_windows

    with Store(store_path) as store, progress_counter(Console(stderr=True)) as report:
        run = compute_windows(store, every=every, reference=reference, progress=report)
    console = Console(soft_wrap=True)
    console.print(f"{len(run.models)} model(s): {run.n_points} metric points stored.")
    for reason in run.skipped:
        console.print(f"  skipped {reason}")


@monitor_group.command("detect")
@_STORE
@fleet_level_options
@reports_errors
def detect_store_command(
    store_path: Path, threshold: float | None, false_runs_per_day: float | None
) -> None:
    """Score every stored metric series, group anomalies into incidents, store them.

    False alarms marked with 'seawall monitor feedback' raise the level of their
    series.
    """
    from seawall.storage import Store, detect_incidents

    with Store(store_path) as store, progress_counter(Console(stderr=True)) as report:
        incidents = detect_incidents(
            store, threshold=threshold, false_runs_per_day=false_runs_per_day, progress=report
        )
    n = len(incidents.incidents)
    n_points = sum(i.n_anomalies for i in incidents.incidents)
    Console(soft_wrap=True).print(
        f"{n_points} anomalous steps in {n} incident(s) (compression "
        f"{incidents.compression:.1f}x); list them with 'seawall monitor incidents'."
    )


@monitor_group.command("incidents")
@_STORE
@click.option(
    "--status",
    type=click.Choice(["open", "acknowledged", "resolved", "false_alarm"]),
    default=None,
    help="Only incidents with this status.",
)
@click.option(
    "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Rows shown."
)
@click.option(
    "--json",
    "json_out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also write the listed incidents as JSON here.",
)
@reports_errors
def incidents_command(
    store_path: Path, status: str | None, limit: int, json_out: Path | None
) -> None:
    """List stored incidents, most severe first."""
    from seawall.storage import Store

    with Store(store_path) as store:
        frame = store.read_incidents(status=status).to_pandas()
    frame = frame.sort_values("severity", ascending=False).head(limit)
    table = Table(title=f"{len(frame)} incident(s), most severe first")
    for col in ("id", "status", "start", "end", "series", "shared labels", "severity"):
        table.add_column(col, overflow="fold")
    for row in frame.itertuples():
        shared = row.shared_labels if isinstance(row.shared_labels, dict) else {}
        table.add_row(
            str(row.id),
            str(row.status),
            str(row.start),
            str(row.end),
            str(len(row.members)),
            ", ".join(f"{k}={v}" for k, v in shared.items()) or "-",
            f"{row.severity:.2f}",
        )
    Console(soft_wrap=True).print(table)
    if json_out is not None:
        json_out.write_text(frame.to_json(orient="records", date_format="iso", indent=2))


@monitor_group.command("feedback")
@click.argument("incident_id")
@_STORE
@click.option(
    "--action",
    type=click.Choice(["acknowledge", "resolve", "false_alarm"]),
    required=True,
    help="What you did: acknowledge, resolve, or mark a false alarm (the incident's "
    "series become less sensitive).",
)
@click.option("--note", default="", help="Free text kept with the feedback.")
@reports_errors
def feedback_command(incident_id: str, store_path: Path, action: str, note: str) -> None:
    """Record what a person did with an incident."""
    from seawall.storage import Store

    with Store(store_path) as store:
        store.record_feedback(incident_id, action, note=note)
    Console(soft_wrap=True).print(json.dumps({"incident": incident_id, "action": action}))
