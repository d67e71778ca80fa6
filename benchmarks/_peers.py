"""Peer implementations of the group-metrics workload, for ``bench_group_metrics.py``.

Workload (DESIGN.md, "Measured targets", first row): on one data set with two
sensitive features, ``sex`` (2 groups) and ``race`` (5 groups), and their
intersection ``sex×race`` (10 groups), compute for every group

    selection_rate, tpr, fpr, fnr, precision, accuracy

and their gaps:

* per group, the difference and the ratio to a fixed reference group
  (``REFERENCE``: the largest group of each grouping), and
* per grouping, the spread across groups: ``max - min`` and ``min / max``.

Every peer is split into a *compute* step (what a user runs to get those numbers
in the tool's own form: this is what the benchmark times) and a *tidy* step
(conversion to one long DataFrame so that the tools can be compared number by
number: not timed).  ``run_<peer>(df)`` does both.

Tidy form: one row per number, columns ``grouping``, ``group``, ``metric``,
``value``:

* ``grouping``: ``"sex"``, ``"race"`` or ``"sex×race"`` (U+00D7);
* ``group``: the group's value, ``"{sex} & {race}"`` for the intersection, or
  ``ALL_GROUPS`` for the spread rows;
* ``metric``: ``m`` (the metric itself), ``m_diff`` (group minus reference),
  ``m_ratio`` (group over reference), ``m_max_minus_min`` and ``m_min_over_max``
  (spread rows), for ``m`` in ``METRICS``.

Aequitas 1.x requires pandas < 3, so this module runs in ``.venv-bench`` (see
``requirements-bench.txt``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

METRICS: tuple[str, ...] = ("selection_rate", "tpr", "fpr", "fnr", "precision", "accuracy")
INTERSECTION = "sex×race"
GROUPINGS: tuple[str, ...] = ("sex", "race", INTERSECTION)
SEX_LEVELS: tuple[str, ...] = ("F", "M")
RACE_LEVELS: tuple[str, ...] = ("White", "Black", "Hispanic", "Asian", "Other")
REFERENCE: dict[str, str] = {"sex": "M", "race": "White", INTERSECTION: "M & White"}
ALL_GROUPS = "(all groups)"
TIDY_COLUMNS: list[str] = ["grouping", "group", "metric", "value"]
KEY_COLUMNS: list[str] = ["grouping", "group", "metric"]


def intersection_label(sex: object, race: object) -> str:
    """Label of one sex×race group, e.g. ``"F & Black"``."""
    return f"{sex} & {race}"


# --------------------------------------------------------------------------- data


def make_data(n: int = 1_000_000, seed: int = 0) -> pd.DataFrame:
    """Synthetic audit data with group-dependent base rates and error rates.

    Columns: ``y_true`` (int8), ``y_pred`` (int8), ``y_score`` (float64),
    ``sex`` (category, F/M), ``race`` (category, five levels).  ``y_pred`` is
    ``y_score >= 0.5``.  Base rates and score shifts differ by sex and race so
    that every gap is non-trivial; the smallest sex×race cell holds about 1.4%
    of the rows.
    """
    rng = np.random.default_rng(seed)
    sex = rng.choice(len(SEX_LEVELS), size=n, p=[0.46, 0.54]).astype(np.int8)
    race = rng.choice(len(RACE_LEVELS), size=n, p=[0.60, 0.13, 0.18, 0.06, 0.03]).astype(np.int8)
    # Base rate of the positive label, by sex and by race.
    base_sex = np.array([-0.10, 0.05])
    base_race = np.array([0.0, 0.25, 0.10, -0.30, 0.15])
    p_true = 1.0 / (1.0 + np.exp(-(-0.6 + base_sex[sex] + base_race[race])))
    y_true = (rng.random(n) < p_true).astype(np.int8)
    # Score: separates the classes, shifted and scaled differently per group.
    shift_sex = np.array([-0.25, 0.10])
    shift_race = np.array([0.15, -0.45, -0.20, 0.30, -0.10])
    separation = np.array([2.2, 1.6, 1.9, 2.4, 1.7])[race]
    logit = -0.9 + separation * y_true + shift_sex[sex] + shift_race[race]
    logit += rng.normal(0.0, 1.0, n)
    y_score = 1.0 / (1.0 + np.exp(-logit))
    y_pred = (y_score >= 0.5).astype(np.int8)
    return pd.DataFrame(
        {
            "y_true": y_true,
            "y_pred": y_pred,
            "y_score": y_score,
            "sex": pd.Categorical.from_codes(sex, categories=list(SEX_LEVELS)),
            "race": pd.Categorical.from_codes(race, categories=list(RACE_LEVELS)),
        }
    )


def import_peers() -> dict[str, str]:
    """Import Fairlearn, scikit-learn and Aequitas up front, so no timing pays for it.

    Returns the seconds each import took, as text (for the log).
    """
    import importlib
    import time

    out = {}
    for name in ("fairlearn.metrics", "sklearn.metrics", "aequitas.group", "aequitas.bias"):
        t0 = time.perf_counter()
        importlib.import_module(name)
        out[name] = f"{time.perf_counter() - t0:.2f} s"
    return out


# --------------------------------------------------------------------------- tidy helpers


def _tidy_grouping(
    grouping: str,
    values: pd.DataFrame,
    diff: pd.DataFrame,
    ratio: pd.DataFrame,
    max_minus_min: pd.Series,
    min_over_max: pd.Series,
) -> pd.DataFrame:
    """Long form of one grouping's results.

    ``values``, ``diff`` and ``ratio`` are indexed by group label (str) with one
    column per metric of ``METRICS``; the two spreads are indexed by metric.
    """
    parts = []
    for suffix, frame in (("", values), ("_diff", diff), ("_ratio", ratio)):
        long = frame[list(METRICS)].rename_axis(index="group", columns="metric").stack()
        long = long.rename("value").reset_index()
        long["metric"] = long["metric"] + suffix
        parts.append(long)
    for suffix, series in (("_max_minus_min", max_minus_min), ("_min_over_max", min_over_max)):
        s = series.reindex(list(METRICS))
        parts.append(
            pd.DataFrame(
                {"group": ALL_GROUPS, "metric": [m + suffix for m in s.index], "value": s.values}
            )
        )
    out = pd.concat(parts, ignore_index=True)
    out.insert(0, "grouping", grouping)
    out["group"] = out["group"].astype(str)
    out["value"] = out["value"].astype(np.float64)
    return out[TIDY_COLUMNS]


def compare(a: pd.DataFrame, b: pd.DataFrame) -> float:
    """Largest absolute difference of ``value`` over the rows that ``a`` and ``b`` share.

    Rows are matched on (grouping, group, metric).  Two NaNs count as equal; a NaN
    against a number counts as ``inf``.  Raises ``ValueError`` when no row matches.
    Use ``missing_rows`` to check that both hold the same rows.
    """
    m = a[TIDY_COLUMNS].merge(b[TIDY_COLUMNS], on=KEY_COLUMNS, how="inner", suffixes=("_a", "_b"))
    if m.empty:
        raise ValueError("the two tidy frames share no (grouping, group, metric) row")
    va = m["value_a"].to_numpy(np.float64)
    vb = m["value_b"].to_numpy(np.float64)
    both_nan = np.isnan(va) & np.isnan(vb)
    d = np.abs(va - vb)
    d[both_nan] = 0.0
    d[np.isnan(d)] = np.inf
    return float(d.max())


def missing_rows(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Keys present in exactly one of ``a`` and ``b`` (column ``_merge`` says which)."""
    m = a[KEY_COLUMNS].merge(b[KEY_COLUMNS], on=KEY_COLUMNS, how="outer", indicator=True)
    return m[m["_merge"] != "both"].reset_index(drop=True)


# --------------------------------------------------------------------------- numpy bincount


def compute_bincount(df: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """One-pass numpy reference: one ``np.bincount`` over the finest grouping.

    Cell index ``(sex * n_race + race) * 4 + 2 * y_true + y_pred``, computed in the
    smallest integer type that holds it (int8 here: 40 cells), counted once, then
    marginalised to sex and to race.  Returns, per grouping, the group labels, the
    (metric x group) value array, the gaps to the reference group and the spreads.
    """
    sex = df["sex"].cat
    race = df["race"].cat
    n_sex, n_race = len(sex.categories), len(race.categories)
    dt = np.min_scalar_type(n_sex * n_race * 4 - 1)
    idx = sex.codes.to_numpy().astype(dt, copy=False) * dt.type(n_race * 4)
    idx += race.codes.to_numpy().astype(dt, copy=False) * dt.type(4)
    yt = df["y_true"].to_numpy().astype(dt, copy=False)
    idx += yt
    idx += yt
    idx += df["y_pred"].to_numpy().astype(dt, copy=False)
    counts = np.bincount(idx, minlength=n_sex * n_race * 4).reshape(n_sex, n_race, 4)

    sex_labels = [str(c) for c in sex.categories]
    race_labels = [str(c) for c in race.categories]
    tables = {
        "sex": (sex_labels, counts.sum(axis=1)),
        "race": (race_labels, counts.sum(axis=0)),
        INTERSECTION: (
            [intersection_label(s, r) for s in sex_labels for r in race_labels],
            counts.reshape(n_sex * n_race, 4),
        ),
    }
    out: dict[str, dict[str, Any]] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for grouping, (labels, c) in tables.items():
            tn, fp, fn, tp = (c[:, k].astype(np.float64) for k in range(4))
            n = tn + fp + fn + tp
            values = np.stack(
                [
                    (tp + fp) / n,  # selection_rate
                    tp / (tp + fn),  # tpr
                    fp / (fp + tn),  # fpr
                    fn / (fn + tp),  # fnr
                    tp / (tp + fp),  # precision
                    (tp + tn) / n,  # accuracy
                ]
            )
            ref = values[:, labels.index(REFERENCE[grouping])][:, None]
            vmax, vmin = values.max(axis=1), values.min(axis=1)
            out[grouping] = {
                "labels": labels,
                "counts": c,
                "values": values,
                "diff": values - ref,
                "ratio": values / ref,
                "max_minus_min": vmax - vmin,
                "min_over_max": vmin / vmax,
            }
    return out


def tidy_bincount(result: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Tidy form of ``compute_bincount``'s result."""
    parts = []
    for grouping in GROUPINGS:
        r = result[grouping]

        def frame(a: np.ndarray, labels: list[str] = r["labels"]) -> pd.DataFrame:
            return pd.DataFrame(a.T, index=labels, columns=list(METRICS))

        parts.append(
            _tidy_grouping(
                grouping,
                frame(r["values"]),
                frame(r["diff"]),
                frame(r["ratio"]),
                pd.Series(r["max_minus_min"], index=list(METRICS)),
                pd.Series(r["min_over_max"], index=list(METRICS)),
            )
        )
    return pd.concat(parts, ignore_index=True)


def run_bincount(df: pd.DataFrame) -> pd.DataFrame:
    """Numpy bincount reference, tidy."""
    return tidy_bincount(compute_bincount(df))


# --------------------------------------------------------------------------- Fairlearn


def fairlearn_metrics() -> dict[str, Callable[..., float]]:
    """The six metrics as Fairlearn / scikit-learn callables, keyed by our names."""
    from fairlearn.metrics import (
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score, precision_score

    return {
        "selection_rate": selection_rate,
        "tpr": true_positive_rate,
        "fpr": false_positive_rate,
        "fnr": false_negative_rate,
        "precision": precision_score,
        "accuracy": accuracy_score,
    }


def fairlearn_sensitive_features(df: pd.DataFrame, grouping: str) -> pd.Series | pd.DataFrame:
    """What ``MetricFrame(sensitive_features=...)`` gets for one grouping.

    A single column gives that feature's groups; a DataFrame of two columns gives
    their intersection (``by_group`` then has a (sex, race) MultiIndex).
    """
    if grouping == INTERSECTION:
        return df[["sex", "race"]]
    return df[grouping]


def _fairlearn_reference_key(grouping: str) -> Any:
    if grouping == INTERSECTION:
        sex, race = REFERENCE[grouping].split(" & ")
        return (sex, race)
    return REFERENCE[grouping]


def compute_fairlearn(
    df: pd.DataFrame, timings: dict[str, float] | None = None, **metric_frame_kwargs: Any
) -> dict[str, dict[str, Any]]:
    """Fairlearn: one ``MetricFrame`` per grouping, gaps from its own methods.

    ``max - min`` is ``MetricFrame.difference(method="between_groups")`` and
    ``min / max`` is ``MetricFrame.ratio(method="between_groups")``.  Fairlearn has
    no reference-group gap, so that is ``by_group`` minus / over the reference row
    (plain pandas, as a user would write it).  If ``timings`` is given, the
    seconds spent on each grouping are stored in it.  Extra keyword arguments go
    to ``MetricFrame`` (e.g. ``n_boot`` and ``ci_quantiles``).
    """
    import time

    from fairlearn.metrics import MetricFrame

    metrics = fairlearn_metrics()
    y_true = df["y_true"].to_numpy()
    y_pred = df["y_pred"].to_numpy()
    out: dict[str, dict[str, Any]] = {}
    for grouping in GROUPINGS:
        t0 = time.perf_counter()
        mf = MetricFrame(
            metrics=metrics,
            y_true=y_true,
            y_pred=y_pred,
            sensitive_features=fairlearn_sensitive_features(df, grouping),
            **metric_frame_kwargs,
        )
        by_group = mf.by_group
        ref = by_group.loc[_fairlearn_reference_key(grouping)]
        out[grouping] = {
            "metric_frame": mf,
            "by_group": by_group,
            "diff": by_group - ref,
            "ratio": by_group / ref,
            "max_minus_min": mf.difference(method="between_groups"),
            "min_over_max": mf.ratio(method="between_groups"),
        }
        if timings is not None:
            timings[grouping] = time.perf_counter() - t0
    return out


def tidy_fairlearn(result: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Tidy form of ``compute_fairlearn``'s result."""
    parts = []
    for grouping in GROUPINGS:
        r = result[grouping]

        def relabel(frame: pd.DataFrame) -> pd.DataFrame:
            frame = frame.copy()
            if isinstance(frame.index, pd.MultiIndex):
                frame.index = [intersection_label(s, x) for s, x in frame.index]
            else:
                frame.index = [str(g) for g in frame.index]
            return frame

        parts.append(
            _tidy_grouping(
                grouping,
                relabel(r["by_group"]),
                relabel(r["diff"]),
                relabel(r["ratio"]),
                r["max_minus_min"],
                r["min_over_max"],
            )
        )
    return pd.concat(parts, ignore_index=True)


def run_fairlearn(df: pd.DataFrame) -> pd.DataFrame:
    """Fairlearn MetricFrame, tidy."""
    return tidy_fairlearn(compute_fairlearn(df))


# --------------------------------------------------------------------------- Aequitas

#: Aequitas crosstab column for each of our metric names.  ``pprev`` (predicted
#: positives / group size) is the selection rate; Aequitas's ``ppr`` is something
#: else: the group's share of *all* predicted positives.
AEQUITAS_COLUMNS: dict[str, str] = {
    "selection_rate": "pprev",
    "tpr": "tpr",
    "fpr": "fpr",
    "fnr": "fnr",
    "precision": "precision",
    "accuracy": "accuracy",
}


@dataclass
class AequitasInput:
    """Data in the format that Aequitas's ``Group.get_crosstabs`` accepts."""

    frame: pd.DataFrame
    #: the original categorical columns, which a user building the sex×race
    #: attribute column from the data would start from
    sex: pd.Series
    race: pd.Series


def prepare_aequitas(df: pd.DataFrame) -> AequitasInput:
    """Format conversion required by Aequitas (NOT timed by the benchmark).

    ``Group.get_crosstabs`` raises ``TypeError`` for any attribute column whose
    dtype is not ``object``/``str`` ("has in invalid datatype"), so the
    categorical ``sex`` and ``race`` must become object (string) columns: that is
    a format requirement, not work towards the metrics, so it is left out of the
    timed region.  Labels and predictions stay int8 (Aequitas accepts binary 0/1
    numbers; the prediction goes in as the "score" column).
    """
    frame = pd.DataFrame(
        {
            "y_pred": df["y_pred"],
            "y_true": df["y_true"],
            "sex": df["sex"].astype(str).astype(object),
            "race": df["race"].astype(str).astype(object),
        }
    )
    return AequitasInput(frame=frame, sex=df["sex"], race=df["race"])


def aequitas_intersection_column(data: AequitasInput) -> np.ndarray:
    """The sex×race attribute column as object strings ``"F & Black"``.

    Aequitas has no notion of intersections: ``get_crosstabs`` treats every
    attribute column on its own, so the user must add a combined column.  This is
    work that the other tools do internally, so it IS timed.  Built the fast way
    (label lookup on the categorical codes, ~8 ms at 1M rows) rather than by
    string concatenation (``sex + " & " + race`` on the object columns, ~150 ms,
    about 20x slower), to be fair to Aequitas.
    """
    sex, race = data.sex.cat, data.race.cat
    n_race = len(race.categories)
    labels = np.array(
        [intersection_label(s, r) for s in sex.categories for r in race.categories], dtype=object
    )
    codes = sex.codes.to_numpy().astype(np.intp) * n_race + race.codes.to_numpy()
    return labels[codes]


def compute_aequitas(
    data: AequitasInput, timings: dict[str, float] | None = None
) -> dict[str, pd.DataFrame]:
    """Aequitas: ``Group().get_crosstabs`` and ``Bias().get_disparity_predefined_groups``.

    * per-group metrics: the crosstab columns pprev, tpr, fpr, fnr, precision,
      accuracy (binary predictions, so no score threshold);
    * ratio to the reference group: ``Bias``'s ``<metric>_disparity`` columns with
      ``ref_groups_dict=REFERENCE`` (Aequitas's disparities are ratios only, and
      ``accuracy`` is not among ``Bias``'s default metrics, so the metric list is
      passed explicitly);
    * difference to the reference group and the spreads (max - min, min / max):
      Aequitas computes none of these, so they are plain pandas on the crosstab.

    Mutates ``data.frame`` by (re)setting its sex×race column.  If ``timings`` is
    given, the seconds of each step are stored in it.
    """
    import time

    from aequitas.bias import Bias
    from aequitas.group import Group

    t0 = time.perf_counter()
    frame = data.frame
    frame[INTERSECTION] = aequitas_intersection_column(data)
    t1 = time.perf_counter()
    xtab, _ = Group().get_crosstabs(
        frame,
        attr_cols=list(GROUPINGS),
        score_col="y_pred",
        label_col="y_true",
    )
    t2 = time.perf_counter()
    columns = [AEQUITAS_COLUMNS[m] for m in METRICS]
    bias = Bias().get_disparity_predefined_groups(
        xtab,
        original_df=frame,
        ref_groups_dict=REFERENCE,
        input_group_metrics=columns,
    )
    t3 = time.perf_counter()
    values = xtab.set_index(["attribute_name", "attribute_value"])[columns]
    ref_rows = values.loc[list(REFERENCE.items())].droplevel("attribute_value")
    diff = values - ref_rows.reindex(values.index, level="attribute_name")
    spread = values.groupby(level="attribute_name")
    vmax, vmin = spread.max(), spread.min()
    out = {
        "crosstab": xtab,
        "bias": bias,
        "diff": diff,
        "max_minus_min": vmax - vmin,
        "min_over_max": vmin / vmax,
    }
    t4 = time.perf_counter()
    if timings is not None:
        timings.update(
            {
                "intersection column": t1 - t0,
                "Group.get_crosstabs": t2 - t1,
                "Bias.get_disparity_predefined_groups": t3 - t2,
                "diff and spreads (pandas)": t4 - t3,
            }
        )
    return out


def tidy_aequitas(result: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Tidy form of ``compute_aequitas``'s result."""
    to_ours = {v: k for k, v in AEQUITAS_COLUMNS.items()}
    bias = result["bias"].set_index(["attribute_name", "attribute_value"])
    values = bias[list(to_ours)].rename(columns=to_ours)
    ratio = bias[[c + "_disparity" for c in to_ours]].rename(
        columns={c + "_disparity": m for c, m in to_ours.items()}
    )
    diff = result["diff"].rename(columns=to_ours)
    vmax_vmin = result["max_minus_min"].rename(columns=to_ours)
    min_over_max = result["min_over_max"].rename(columns=to_ours)
    parts = []
    for grouping in GROUPINGS:
        parts.append(
            _tidy_grouping(
                grouping,
                values.loc[grouping],
                diff.loc[grouping],
                ratio.loc[grouping],
                vmax_vmin.loc[grouping],
                min_over_max.loc[grouping],
            )
        )
    return pd.concat(parts, ignore_index=True)


def run_aequitas(df: pd.DataFrame) -> pd.DataFrame:
    """Aequitas Group + Bias, tidy (includes the untimed format conversion)."""
    return tidy_aequitas(compute_aequitas(prepare_aequitas(df)))
