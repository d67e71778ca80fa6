"""``seawall ingest``: send a file of logs, labels, metric points or models to a service."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from seawall.cli._errors import UserError, reports_errors
from seawall.cli._render import progress_counter

__all__ = ["ingest_command"]

_KINDS = ("predictions", "labels", "metrics", "models")


@click.command("ingest")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--url", required=True, help="The service, e.g. http://127.0.0.1:8000.")
@click.option(
    "--token",
    envvar="SEAWALL_TOKEN",
    required=True,
    help="An API token with the ingest scope [default: $SEAWALL_TOKEN].",
)
@click.option("--project", default="default", show_default=True, help="The project.")
@click.option(
    "--kind",
    type=click.Choice(_KINDS),
    default="predictions",
    show_default=True,
    help="What the files hold.",
)
@click.option(
    "--sensitive",
    multiple=True,
    help="Predictions: a column that holds a sensitive attribute (repeat for several).",
)
@click.option(
    "--batch-rows",
    type=click.IntRange(min=1),
    default=5000,
    show_default=True,
    help="Rows per request.",
)
@reports_errors
def ingest_command(
    files: tuple[Path, ...],
    url: str,
    token: str,
    project: str,
    kind: str,
    sensitive: tuple[str, ...],
    batch_rows: int,
) -> None:
    """Send CSV or Parquet FILES to a Seawall service, in batches, with retries.

    Predictions have the columns model, request_id, time, prediction and
    optionally score (other columns are features); labels model, request_id,
    label and optionally label_time; metrics model, metric, timestamp, value and
    optionally qualifier; models model, optionally version (other columns are
    labels). Batches the service refuses are listed with the row and field it
    names, the others are stored; the exit status is then 2.

    \b
    Example:
      seawall ingest logs.parquet --url http://127.0.0.1:8000 --project shop
    """
    from seawall._io import read_table
    from seawall.client import Client, ServiceError

    console = Console(soft_wrap=True)
    refused = 0
    try:
        with Client(url, token, project=project, batch_rows=batch_rows) as client:
            for path in files:
                frame = read_table(path)
                with progress_counter(Console(stderr=True)) as progress:
                    if kind == "predictions":
                        report = client.log_predictions(
                            frame, sensitive=sensitive, progress=progress
                        )
                    elif kind == "labels":
                        report = client.send_labels(frame, progress=progress)
                    elif kind == "metrics":
                        report = client.push_metrics(frame, progress=progress)
                    else:
                        labels = [c for c in frame.columns if c not in ("model", "version")]
                        rows = [
                            {
                                "model": str(r["model"]),
                                **({"version": str(r["version"])} if "version" in r else {}),
                                "labels": {k: str(r[k]) for k in labels if r[k] == r[k]},
                            }
                            for r in frame.to_dict("records")
                        ]
                        report = client.register_models(rows)
                console.print(
                    f"{path}: {report.rows_sent:,} rows sent, {report.inserted:,} stored, "
                    f"{report.replaced:,} replaced, {report.duplicates:,} already there"
                    + (f", {report.retries} retried" if report.retries else "")
                )
                for r in report.rejected:
                    refused += 1
                    console.print(
                        f"  refused rows {r.start}-{r.stop - 1} ({r.status}): {r.message}",
                        markup=False,
                    )
    except ServiceError as e:
        raise UserError(str(e)) from e
    if refused:
        raise UserError(f"{refused} batch(es) were refused and not stored; fix them and resend.")
