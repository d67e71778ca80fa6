"""``seawall evaluate nab``: the Numenta Anomaly Benchmark score of the detector."""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np
import numpy.typing as npt
from rich.console import Console
from rich.table import Table

from seawall._io import read_table
from seawall.cli._errors import UserError, reports_errors
from seawall.cli._render import progress_steps

__all__ = ["evaluate_group"]


@click.group("evaluate")
def evaluate_group() -> None:
    """Evaluate Seawall's detector on public benchmarks."""


def _read_scores(scores_dir: Path, name: str, n_rows: int) -> npt.NDArray[np.float64]:
    path = (scores_dir / name).with_suffix(".csv")
    if not path.is_file():
        raise UserError(
            f"--scores {str(scores_dir)!r} has no {str(Path(name).with_suffix('.csv'))!r}; "
            f"it must hold one CSV per corpus file at the same relative path (as "
            f"'seawall detect DIR/data --out SCORES' writes)."
        )
    frame = read_table(path)
    if "anomaly_score" not in frame.columns or len(frame) != n_rows:
        raise UserError(
            f"{path} must have an anomaly_score column and {n_rows} rows (one per row of "
            f"the corpus file); it has columns {list(map(str, frame.columns))!r} and "
            f"{len(frame)} rows."
        )
    return frame["anomaly_score"].to_numpy(dtype=np.float64)


@evaluate_group.command("nab")
@click.argument("nab_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option(
    "--scores",
    "scores_dir",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    default=None,
    help="Score these precomputed anomaly_score CSVs instead of running the detector.",
)
@click.option(
    "--json",
    "json_out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also write every profile's result (per file) as JSON here.",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Seed of the bootstrap over files behind the intervals.",
)
@reports_errors
def nab_command(nab_dir: Path, scores_dir: Path | None, json_out: Path | None, seed: int) -> None:
    """Score the detector on a NAB corpus (NAB v1.1 rules, all three profiles).

    NAB_DIR is laid out as NAB's repository: data/ (the series), labels/
    combined_windows.json and config/profiles.json. Every file is scored by
    the same detector as 'seawall detect', with one configuration; one threshold
    per profile is optimised for the whole corpus, as NAB does. The interval
    next to each score resamples the files (how much the score depends on
    which series are in the corpus).

    \b
    Example:
      seawall evaluate nab ../shared/data/nab
    """
    from seawall.evaluation import load_nab, score_corpus
    from seawall.monitoring import series_scores

    corpus = load_nab(nab_dir)
    console = Console()
    scores: dict[str, npt.NDArray[np.float64]] = {}
    with progress_steps(Console(stderr=True), len(corpus.files)) as advance:
        for f in corpus.files:
            advance(f.name)
            values = np.asarray(f.values, dtype=np.float64)
            if scores_dir is None:
                scores[f.name] = series_scores(values)
            else:
                scores[f.name] = _read_scores(scores_dir, f.name, values.shape[0])
    table = Table(
        title=f"NAB on {len(corpus.files)} files, {corpus.n_windows} anomaly windows "
        f"({'precomputed scores' if scores_dir else 'seawall detect'})"
    )
    for col in (
        "profile",
        "score",
        "95% interval (files resampled)",
        "threshold",
        "detected",
        "false positives",
    ):
        table.add_column(col)
    results = {}
    for name in corpus.profiles:
        res = score_corpus(corpus, scores, profile=name)
        results[name] = res
        lo, hi = res.file_interval(random_state=seed)
        table.add_row(
            name,
            f"{res.normalized_score:.1f}",
            f"[{lo:.1f}, {hi:.1f}]",
            f"{res.threshold:.6f}",
            f"{sum(f.n_detected_windows for f in res.files)}/{corpus.n_windows}",
            str(sum(f.fp for f in res.files)),
        )
    console.print(table)
    console.print(
        "Scale: 0 = the null detector, 100 = every window found at its first row. "
        "Published: ARTime 74.9, Numenta HTM 70.1, Twitter ADVec 47.1 (all 58 files)."
    )
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(
            json.dumps({k: r.to_dict() for k, r in results.items()}, indent=2) + "\n",
            encoding="utf-8",
        )
        console.print(f"Wrote {json_out}.")
