"""The static side of a simulated fleet: models, their labels, features and sources.

A fleet has ``n_sources`` upstream sources whose popularity follows a Zipf law (a
few feeds serve many models, as a CRM export or a clickstream does), each with a
handful of features; ``n_teams`` teams that own two to four projects each; and five
regions of unequal size. Every model reads three to five features drawn through its
sources, so the same feature appears in many models, and a model's traffic, label
delay and baseline rates are drawn once here. Everything is a private kernel for
:func:`seawall.datasets.simulate_fleet`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["N_BINS", "REGIONS", "Catalog", "make_catalog"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Histogram bins of every feature (the PSI is computed over them).
N_BINS = 10
#: Regions, their shares of the models and their UTC offsets in hours.
REGIONS = ("us-east", "us-west", "eu-west", "eu-central", "apac")
_REGION_SHARES = np.array([0.30, 0.20, 0.20, 0.15, 0.15])
_REGION_UTC = np.array([-5.0, -8.0, 0.0, 1.0, 8.0])
_SOURCE_NAMES = (
    "crm-feed",
    "payments-db",
    "clickstream",
    "credit-bureau",
    "geo-service",
    "device-graph",
    "support-tickets",
    "marketing-events",
    "inventory-db",
    "identity-service",
    "pricing-engine",
    "partner-api",
)
_FIELDS = ("amount", "count_30d", "age", "tenure", "ratio", "score", "balance", "visits")
# Zipf exponent of source popularity: the top source feeds several times more models
# than the median one.
_ZIPF = 0.9


@dataclass(frozen=True, slots=True)
class Catalog:
    """The fleet's static description (internal; arrays indexed by model / feature / pair).

    Attributes
    ----------
    models : pandas.DataFrame
        One row per model: ``model``, ``team``, ``project``, ``region``, ``sources``
        (``"|"``-joined), ``n_features``, ``base_volume`` (expected predictions per
        step at the daily mean), ``label_delay_steps``, ``labelled_share``,
        ``accuracy``, ``positive_rate``, ``disparate_impact``, ``group_share``.
    features : pandas.DataFrame
        One row per feature: ``feature``, ``source``, ``seasonal``, ``null_rate``.
    ref : ndarray of float64, shape (n_features, N_BINS)
        Each feature's reference distribution over its bins.
    night : ndarray of float64, shape (n_features, N_BINS)
        The distribution a seasonal feature moves towards at night.
    pair_model, pair_feature : ndarray of int64, shape (n_pairs,)
        The model and the feature of every (model, feature) pair.
    utc_offset : ndarray of float64, shape (n_models,)
        Each model's region's UTC offset in hours.
    amplitude, weekend, growth : ndarray of float64, shape (n_models,)
        Daily amplitude of traffic, weekend factor and growth over the history.
    weekly_peak : ndarray of bool, shape (n_models,)
        Models with a Monday-morning batch job (a predictable weekly peak).
    """

    models: pd.DataFrame
    features: pd.DataFrame
    ref: FloatArray
    night: FloatArray
    pair_model: IntArray
    pair_feature: IntArray
    utc_offset: FloatArray
    amplitude: FloatArray
    weekend: FloatArray
    growth: FloatArray
    weekly_peak: BoolArray


def _source_names(n: int) -> list[str]:
    base = list(_SOURCE_NAMES)
    names = base[:n]
    k = 2
    while len(names) < n:
        names.extend(f"{b}-{k}" for b in base[: n - len(names)])
        k += 1
    return names


def make_catalog(
    rng: np.random.Generator,
    n_models: int,
    n_sources: int,
    n_teams: int,
    steps_per_day: int,
) -> Catalog:
    """Draw the static fleet (a kernel: arguments are assumed valid).

    Parameters
    ----------
    rng : numpy.random.Generator
        The generator; the draws happen in a fixed order.
    n_models, n_sources, n_teams : int
        Sizes of the fleet.
    steps_per_day : int
        Steps per day (label delays are drawn in hours and converted).

    Returns
    -------
    Catalog
        The fleet's models, features and pairs.

    Examples
    --------
    >>> cat = make_catalog(np.random.default_rng(0), 20, 4, 3, 24)
    >>> len(cat.models), bool(cat.models["n_features"].between(3, 5).all())
    (20, True)
    >>> cat.ref.shape[1], bool(np.allclose(cat.ref.sum(axis=1), 1.0))
    (10, True)
    """
    sources = _source_names(n_sources)
    n_fields = rng.integers(3, 7, n_sources)
    feat_source = np.repeat(np.arange(n_sources), n_fields)
    feat_names = [
        f"{sources[s]}.{_FIELDS[k % len(_FIELDS)]}"
        for s, n in zip(range(n_sources), n_fields, strict=True)
        for k in rng.permutation(len(_FIELDS))[:n]
    ]
    n_feat = feat_source.size
    ref = rng.dirichlet(np.full(N_BINS, 3.0), n_feat)
    night = rng.dirichlet(np.full(N_BINS, 3.0), n_feat)
    seasonal = rng.random(n_feat) < 0.3
    null_rate = rng.uniform(0.005, 0.03, n_feat)

    popularity = 1.0 / np.arange(1, n_sources + 1) ** _ZIPF
    popularity /= popularity.sum()
    n_per_model = rng.integers(3, 6, n_models)
    pair_model: list[int] = []
    pair_feature: list[int] = []
    for m in range(n_models):
        chosen: list[int] = []
        while len(chosen) < n_per_model[m]:
            s = int(rng.choice(n_sources, p=popularity))
            options = np.flatnonzero(feat_source == s)
            f = int(options[rng.integers(options.size)])
            if f not in chosen:
                chosen.append(f)
        pair_model.extend([m] * len(chosen))
        pair_feature.extend(sorted(chosen))

    region = rng.choice(len(REGIONS), n_models, p=_REGION_SHARES)
    team = rng.integers(0, n_teams, n_models)
    n_projects = rng.integers(2, 5, n_teams)
    project = (rng.random(n_models) * n_projects[team]).astype(np.int64)
    hours_delay = rng.choice(np.array([6.0, 12.0, 24.0, 48.0, 72.0]), n_models)
    delay_steps = np.maximum(1, np.round(hours_delay * steps_per_day / 24.0)).astype(np.int64)
    base_volume = np.exp(rng.normal(np.log(300.0), 0.8, n_models)) * 24.0 / steps_per_day
    pm = np.asarray(pair_model, dtype=np.int64)
    pf = np.asarray(pair_feature, dtype=np.int64)
    model_sources = [
        "|".join(sorted({sources[feat_source[f]] for f in pf[pm == m]})) for m in range(n_models)
    ]
    models = pd.DataFrame(
        {
            "model": [f"m{m:04d}" for m in range(n_models)],
            "team": [f"team-{t:02d}" for t in team],
            "project": [f"team-{t:02d}/p{p}" for t, p in zip(team, project, strict=True)],
            "region": [REGIONS[r] for r in region],
            "sources": model_sources,
            "n_features": n_per_model.astype(np.int64),
            "base_volume": base_volume,
            "label_delay_steps": delay_steps,
            "labelled_share": rng.uniform(0.3, 0.9, n_models),
            "accuracy": rng.uniform(0.75, 0.93, n_models),
            "positive_rate": rng.uniform(0.1, 0.4, n_models),
            "disparate_impact": rng.uniform(0.88, 1.0, n_models),
            "group_share": rng.uniform(0.25, 0.5, n_models),
        }
    )
    features = pd.DataFrame(
        {
            "feature": feat_names,
            "source": [sources[s] for s in feat_source],
            "seasonal": seasonal,
            "null_rate": null_rate,
        }
    )
    return Catalog(
        models=models,
        features=features,
        ref=ref,
        night=night,
        pair_model=pm,
        pair_feature=pf,
        utc_offset=_REGION_UTC[region],
        amplitude=rng.uniform(0.3, 0.7, n_models),
        weekend=rng.uniform(0.6, 0.9, n_models),
        growth=rng.uniform(0.0, 0.2, n_models),
        weekly_peak=rng.random(n_models) < 0.1,
    )
