"""What the mitigation estimators achieve on public data: Adult (repair) and COMPAS (thresholds).

* **Adult**, protected attribute sex, train file -> test file: a logistic
  regression retrained on features repaired by ``DisparateImpactRemover`` at
  ``repair_level=1``; its disparate impact and accuracy on the test file, before
  and after, with intervals (``repair_effect``), for the numeric features and for
  numeric plus categorical features (categorical ones kept, or repaired by
  proportions); and the features' certification (BER against 1/2 - beta/8).
* **COMPAS**, protected attribute race: equal-opportunity post-processing of a
  logistic regression's scores (``ThresholdPostprocessor``) against Fairlearn's
  ``ThresholdOptimizer`` (same constraint, accuracy objective, prefit): the
  expected accuracy of both on held-out data, and the TPR gap between
  African-American and Caucasian defendants on held-out rows (cross-fitted: five
  folds, each row predicted by a model and thresholds fitted on the other four;
  ten shuffles).

Run::

    PYTHONPATH=src .venv/bin/python benchmarks/mitigation_quality.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from seawall.datasets import load_adult, load_compas
from seawall.metrics import Estimate
from seawall.mitigation import (
    DisparateImpactRemover,
    ThresholdPostprocessor,
    certify,
    repair_effect,
)

NUMERIC = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week", "fnlwgt"]
CATEGORICAL = ["workclass", "marital-status", "occupation", "relationship", "race"]
COMPAS_FEATURES = [
    "priors_count",
    "age",
    "juv_fel_count",
    "juv_misd_count",
    "juv_other_count",
    "felony",
]
GAP_RACES = ("African-American", "Caucasian")


def _e(e: Estimate) -> str:
    return f"{e.value:.3f} [{e.lower:.3f}, {e.upper:.3f}]"


def adult(folder: Path) -> None:
    train, test = load_adult(folder)
    print("Adult (sex), logistic regression retrained on repaired features, test file:")
    setups = {
        "numeric features": (NUMERIC, "keep"),
        "numeric + categorical, categorical kept": (NUMERIC + CATEGORICAL, "keep"),
        "numeric + categorical, repaired by proportions": (NUMERIC + CATEGORICAL, "proportions"),
    }
    for name, (columns, how) in setups.items():
        cats = [c for c in columns if c in CATEGORICAL]
        pre = ColumnTransformer(
            [("num", StandardScaler(), NUMERIC)]
            + ([("cat", OneHotEncoder(handle_unknown="ignore"), cats)] if cats else [])
        )
        model = make_pipeline(pre, LogisticRegression(max_iter=2000))
        eff = repair_effect(
            model,
            train[columns],
            train.Y,
            test[columns],
            test.Y,
            sensitive_train=train.sex,
            sensitive_test=test.sex,
            remover=DisparateImpactRemover(categorical=how),
        )
        cost = 100 * (eff.accuracy_before.value - eff.accuracy_after.value)
        print(
            f"  {name}: disparate impact {_e(eff.disparate_impact_before)} -> "
            f"{_e(eff.disparate_impact_after)}; accuracy {_e(eff.accuracy_before)} -> "
            f"{_e(eff.accuracy_after)} ({cost:.1f} points)"
        )
    rem = DisparateImpactRemover().set_output(transform="pandas")
    rem.fit(train[NUMERIC], sensitive_features=train.sex)
    repaired = rem.transform(test[NUMERIC], sensitive_features=test.sex)
    for name, X in (("original", test[NUMERIC]), ("repaired", repaired)):
        c = certify(X, test.sex, y=test.Y)
        print(
            f"  certification of the {name} numeric features: BER {c.balanced_error_rate:.3f} "
            f"[{c.lower:.3f}, {c.upper:.3f}], threshold {c.threshold:.3f}, "
            f"certified: {c.certified}"
        )


def _expected_accuracy(p: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.where(y == 1, p, 1 - p)))


def compas(folder: Path, shuffles: int) -> None:
    from fairlearn.postprocessing import ThresholdOptimizer

    df = load_compas(folder)
    X, y, race = df[COMPAS_FEATURES], df.two_year_recid.to_numpy(), df.race.to_numpy()
    strata = df.race + "|" + df.two_year_recid.astype(str)
    tr, te = train_test_split(np.arange(len(df)), test_size=0.5, random_state=0, stratify=strata)
    lr = LogisticRegression(max_iter=1000).fit(X.iloc[tr], y[tr])
    ours = ThresholdPostprocessor(lr, prefit=True).fit(
        X.iloc[tr], y[tr], sensitive_features=race[tr]
    )
    theirs = ThresholdOptimizer(
        estimator=lr,
        constraints="true_positive_rate_parity",
        objective="accuracy_score",
        prefit=True,
        predict_method="predict_proba",
    ).fit(X.iloc[tr], y[tr], sensitive_features=race[tr])
    p = ours.positive_probability(X.iloc[te], sensitive_features=race[te])
    q = theirs._pmf_predict(X.iloc[te], sensitive_features=race[te])[:, 1]
    a, b = _expected_accuracy(p, y[te]), _expected_accuracy(q, y[te])
    print("COMPAS (race), equal-opportunity post-processing of a logistic regression:")
    print(
        f"  held-out expected accuracy: Seawall {a:.5f}, Fairlearn {b:.5f} "
        f"(difference {a - b:+.1e})"
    )
    pos = [(race == r) & (y == 1) for r in GAP_RACES]
    gaps, raw_gaps = [], []
    for rep in range(shuffles):
        prob, raw = np.empty(len(y)), np.empty(len(y))
        for f_tr, f_te in StratifiedKFold(5, shuffle=True, random_state=rep).split(X, strata):
            model = LogisticRegression(max_iter=1000).fit(X.iloc[f_tr], y[f_tr])
            post = ThresholdPostprocessor(model, prefit=True).fit(
                X.iloc[f_tr], y[f_tr], sensitive_features=race[f_tr]
            )
            prob[f_te] = post.positive_probability(X.iloc[f_te], sensitive_features=race[f_te])
            raw[f_te] = model.predict(X.iloc[f_te])
        gaps.append(prob[pos[0]].mean() - prob[pos[1]].mean())
        raw_gaps.append(raw[pos[0]].mean() - raw[pos[1]].mean())
    print(
        f"  held-out TPR gap {GAP_RACES[0]} - {GAP_RACES[1]} (cross-fitted, {shuffles} "
        f"shuffles): unmitigated {np.mean(raw_gaps):.3f} (range {min(raw_gaps):.3f} to "
        f"{max(raw_gaps):.3f}); post-processed {np.mean(gaps):+.4f} (largest |gap| "
        f"{max(abs(g) for g in gaps):.4f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--shuffles", type=int, default=10)
    args = parser.parse_args()
    adult(args.data / "adult")
    compas(args.data / "compas", args.shuffles)


if __name__ == "__main__":
    pd.set_option("display.width", 120)
    main()
