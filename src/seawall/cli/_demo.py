"""``seawall demo``: seeded stories, trained, audited, investigated and reported end to end."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click
import numpy as np
import pandas as pd
from rich.console import Console

from seawall.associations import Investigation, discover_labels
from seawall.audit import AuditResult, audit
from seawall.cli._demo_fleet import fleet_story
from seawall.cli._errors import reports_errors
from seawall.cli._render import (
    print_audit_summary,
    print_investigation_summary,
    print_repair,
    progress_steps,
)
from seawall.datasets import make_health, make_lending, make_tagging

if TYPE_CHECKING:
    from seawall.mitigation import RepairEffect
    from seawall.reports import ReportPaths

__all__ = ["Story", "StoryRun", "demo_command", "repair_story", "run_story", "run_tagging_story"]


@dataclass(frozen=True, slots=True)
class Story:
    """One demo: data, a model, and what to audit.

    Attributes
    ----------
    name : str
        Directory name of its report.
    title : str
        One-line description.
    make : callable
        ``make(n_samples, random_state=seed) -> DataFrame``.
    label : str
        The outcome column.
    features : tuple of str
        The model's inputs (the sensitive attribute is not one of them).
    categorical : tuple of str
        Which of those are categorical.
    sensitive : tuple of str
        What to audit by.
    gates : tuple of str
        The deployment gates.
    model : str
        ``"logistic"`` or ``"boosting"``.
    remedy : str
        What the demo shows repairing it: ``"repair"`` (the model retrained on
        repaired features) or ``"threshold"`` (its scores post-processed).
    """

    name: str
    title: str
    make: Callable[..., pd.DataFrame]
    label: str
    features: tuple[str, ...]
    categorical: tuple[str, ...]
    sensitive: tuple[str, ...]
    gates: tuple[str, ...]
    model: str
    remedy: str


@dataclass(frozen=True, slots=True)
class StoryRun:
    """A story's data, model and audit."""

    audit: AuditResult
    train: pd.DataFrame
    test: pd.DataFrame
    model: object


STORIES = (
    Story(
        name="lending",
        title="Lending: distance to the branch is a proxy for income",
        make=make_lending,
        label="repaid",
        features=(
            "credit_score",
            "debt_to_income",
            "loan_amount",
            "years_employed",
            "distance_km",
            "region",
        ),
        categorical=("region",),
        sensitive=("income_group", "region"),
        gates=("disparate_impact<0.8", "equal_opportunity_difference>0.1"),
        model="logistic",
        remedy="repair",
    ),
    Story(
        name="health",
        title="Health care: a model trained mostly on young patients fails seniors",
        make=make_health,
        label="readmitted",
        features=("sex", "smoker", "bmi", "systolic_bp", "glucose", "cholesterol"),
        categorical=("sex",),
        sensitive=("age_group", "sex"),
        gates=("error_rate_ratio<0.8", "auc_difference>0.05"),
        model="boosting",
        remedy="threshold",
    ),
)


def _model(story: Story, seed: int) -> object:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = [f for f in story.features if f not in story.categorical]
    prep = ColumnTransformer(
        [
            ("num", StandardScaler(), numeric),
            ("cat", OneHotEncoder(handle_unknown="ignore"), list(story.categorical)),
        ]
    )
    if story.model == "logistic":
        return make_pipeline(prep, LogisticRegression(max_iter=1000))
    return make_pipeline(prep, HistGradientBoostingClassifier(random_state=seed))


def run_story(story: Story, n_samples: int, seed: int, advance: Callable[[str], None]) -> StoryRun:
    """Generate a story's data, train its model on 70%, and audit the other 30%.

    Parameters
    ----------
    story : Story
        The story.
    n_samples : int
        Rows to generate.
    seed : int
        Seed of the data, the split, the model and the bootstrap.
    advance : callable
        Progress callback.

    Returns
    -------
    StoryRun
        The audit, the training rows, the audited test rows with their
        predictions, and the fitted model.
    """
    advance(f"{story.name}: generating {n_samples:,} rows")
    data = story.make(n_samples, random_state=seed)
    # A stream of its own: the generator drew its data from default_rng(seed), and the
    # same stream would pick a split that lines up with the data.
    rng = np.random.default_rng([seed, 1])
    test = rng.random(len(data)) < 0.3
    train_df, test_df = data[~test], data[test].copy()
    advance(f"{story.name}: training a {story.model} model")
    model = _model(story, seed)
    model.fit(train_df[list(story.features)], train_df[story.label])  # type: ignore[attr-defined]
    proba = model.predict_proba(test_df[list(story.features)])[:, 1]  # type: ignore[attr-defined]
    test_df["score"] = proba
    test_df["decision"] = (proba >= 0.5).astype(np.int8)
    advance(f"{story.name}: auditing {len(test_df):,} held-out rows")
    result = audit(
        test_df,
        label=story.label,
        prediction="decision",
        score="score",
        sensitive=story.sensitive,
        gates=story.gates,
        random_state=seed,
    )
    return StoryRun(result, train_df, test_df, model)


def repair_story(story: Story, run: StoryRun, seed: int) -> RepairEffect:
    """Retrain the story's model on features repaired for its first sensitive attribute.

    Feldman et al.'s repair at level 1 is fitted on the training rows (numeric
    features; categorical ones repaired by proportions) and applied to the
    test rows; the model is retrained on each version and judged on the test rows.

    Parameters
    ----------
    story : Story
        The story.
    run : StoryRun
        Its data and model.
    seed : int
        Seed of the repair's tie-breaking.

    Returns
    -------
    RepairEffect
        Disparate impact and accuracy before and after, with intervals.
    """
    from sklearn.base import clone

    from seawall.mitigation import DisparateImpactRemover, repair_effect

    features, sensitive = list(story.features), story.sensitive[0]
    return repair_effect(
        clone(run.model),
        run.train[features],
        run.train[story.label],
        run.test[features],
        run.test[story.label],
        sensitive_train=run.train[sensitive],
        sensitive_test=run.test[sensitive],
        remover=DisparateImpactRemover(
            categorical="proportions",
            categorical_features=list(story.categorical),
            random_state=seed,
        ),
    )


@click.command("demo")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("seawall-demo"),
    show_default=True,
    help="Directory for the demo's reports and data.",
)
@click.option(
    "--rows",
    type=click.IntRange(min=1000),
    default=20_000,
    show_default=True,
    help="Rows to generate per story.",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Seed of the data, models and bootstrap.",
)
@reports_errors
def demo_command(out_dir: Path, rows: int, seed: int) -> None:
    """Run Seawall end to end on four seeded stories, with no server and no download.

    A lending model whose proxy feature (distance from a branch) gives the
    low-income group a disparate impact, and a health-care model trained on few
    seniors whose error rate for seniors is higher: each is trained with
    scikit-learn, audited on held-out data and reported to OUT/<story>/. Then an
    image tagger's output, whose offensive tag for one user group in night-time
    photos of people is found among 10,000 tags (OUT/tagging/). Last, a fleet of
    1,000 simulated models watched hourly for 30 days: every metric series scored,
    the anomalies grouped into ranked incidents and checked against the injected
    events, found and missed (OUT/fleet/).
    """
    from seawall.reports import write_report

    console = Console()
    start = time.perf_counter()
    for story in STORIES:
        console.rule(f"[bold]{story.title}")
        with progress_steps(Console(stderr=True), 5) as advance:
            run = run_story(story, rows, seed, advance)
            effect = None
            if story.remedy == "repair":
                advance(f"{story.name}: retraining the model on repaired features")
                effect = repair_story(story, run, seed)
            advance(f"{story.name}: writing the report")
            paths = write_report(run.audit, out_dir / story.name)
            run.test.to_csv(out_dir / story.name / "predictions.csv", index=False)
            if effect is not None:
                (out_dir / story.name / "repair.json").write_text(
                    json.dumps(effect.to_dict(), indent=2, allow_nan=False), encoding="utf-8"
                )
        print_audit_summary(console, run.audit, paths.html, paths.json)
        if effect is not None:
            print_repair(console, effect)
    console.rule("[bold]Image tagging: a rare offensive tag for one group, in one context")
    with progress_steps(Console(stderr=True), 3) as advance:
        tagging, paths = run_tagging_story(out_dir / "tagging", rows, seed, advance)
    print_investigation_summary(console, tagging, paths.html, paths.json)
    fleet = fleet_story(console, out_dir / "fleet", seed)
    console.print(
        f"\nDone in {time.perf_counter() - start:.1f} s. Open the reports in a browser; "
        f"re-run an audit with the command in each report's 'Reproduce' section."
    )
    console.print(
        f"To watch the fleet in the dashboard, run\n  seawall serve --store {fleet.store}\n"
        f"then open http://127.0.0.1:8000/ and log in with the admin token it prints "
        f"on its first start.",
        highlight=False,
        soft_wrap=True,
    )


def run_tagging_story(
    out: Path, rows: int, seed: int, advance: Callable[[str], None]
) -> tuple[Investigation, ReportPaths]:
    """Discover label associations in a seeded tagger's output and report them.

    ``10 * rows`` photos (at least 100,000) get tags from 10,000 labels; the
    investigation looks at every label, user group and context of up to two
    conditions on device, topic and time of day, with region as explanatory
    attribute and the offensive tag "primate" reviewed first.

    Parameters
    ----------
    out : pathlib.Path
        The report's directory.
    rows : int
        The demo's rows per story.
    seed : int
        Seed of the data and of the split.
    advance : callable
        Progress callback.

    Returns
    -------
    Investigation, ReportPaths
        The investigation and where its report went.
    """
    from seawall.reports import write_investigation

    n_items = max(10 * rows, 100_000)
    advance(f"tagging: generating {n_items:,} photos with 10,000 possible tags")
    data = make_tagging(n_items, 10_000, random_state=seed)
    frame = data.frame
    advance("tagging: testing every tag x user group x context")
    result = discover_labels(
        data.tags,
        sensitive_features=frame["user_group"],
        context=frame[["device", "topic", "time_of_day"]],
        explanatory=frame["region"],
        max_depth=2,
        label_names=data.tag_names,
        sensitive_labels=data.sensitive_tags,
        random_state=seed,
    )
    advance("tagging: writing the report")
    paths = write_investigation(
        result, out, source="make_tagging", title="Image tagger: tags by user group"
    )
    return result, paths
