"""ThresholdPostprocessor (Hardt, Price & Srebro 2016): hand-worked optima, naive references."""

from __future__ import annotations

import itertools
import json
import pickle
import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn
from scipy import sparse
from scipy.optimize import linprog
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from _forms import COLUMN_FORMS
from seawall.exceptions import DataValidationError, InvalidParameterError
from seawall.mitigation import _plain_thresholds
from seawall.mitigation._plain_thresholds import best_plain_thresholds, smallest_plain_gap
from seawall.mitigation._roc import group_rocs, upper_hull
from seawall.mitigation._threshold_table import ThresholdTable
from seawall.mitigation._thresholds import ThresholdPostprocessor

CONSTRAINTS = ["equal_opportunity", "equalized_odds", "demographic_parity"]
OBJECTIVES = ["accuracy", "balanced_accuracy"]

# --------------------------------------------------------------------------- #
# hand-worked optima
# --------------------------------------------------------------------------- #

# Group a (P=2, N=4): scores .9(1) .7(0) .65(0) .5(1) .3(0) .25(0); ROC hull
# (0,0) (0,1/2) (1/2,1) (1,1). Group b (P=3, N=2): .8(1) .6(0) .4(1) .2(1) .1(0);
# hull (0,0) (0,1/3) (1/2,1) (1,1). With a common TPR c, n * accuracy - N equals
#   2c - 4 FPR_a(c) + 3c - 2 FPR_b(c),  FPR_a = max(0, c - 1/2),
#   FPR_b = max(0, 3/4 (c - 1/3)):
# 5c on [0, 1/3], 3.5c + 0.5 on [1/3, 1/2], 2.5 - 0.5c on [1/2, 1]: c = 1/2.
# a sits on its vertex (0, 1/2) (threshold between .9 and .7: 0.8); b mixes its
# vertices (0, 1/3) and (1/2, 1) with weight 1/4 on the second (thresholds 0.7 and
# 0.15): FPR_b = 1/8. Accuracy = (2.25 + 6) / 11 = 0.75.
HAND_S = np.array([0.9, 0.7, 0.65, 0.5, 0.3, 0.25, 0.8, 0.6, 0.4, 0.2, 0.1])
HAND_Y = np.array([1, 0, 0, 1, 0, 0, 1, 0, 1, 1, 0])
HAND_G = np.array(list("aaaaaabbbbb"))


def test_equal_opportunity_hand_worked() -> None:
    t = ThresholdPostprocessor().fit(HAND_S, HAND_Y, sensitive_features=HAND_G).thresholds_
    a, b = t.groups
    assert (a.group, a.threshold_low, a.threshold_high, a.p_above, a.p_below) == (
        "a", 0.8, 0.8, 1.0, 0.0
    )  # fmt: skip
    assert (b.threshold_low, b.threshold_high) == pytest.approx((0.15, 0.7))
    assert (b.p_below, b.p_between, b.p_above) == pytest.approx((0.0, 0.25, 1.0))
    assert (a.tpr, a.fpr, b.tpr, b.fpr) == pytest.approx((0.5, 0.0, 0.5, 0.125))
    assert (a.selection_rate, b.selection_rate) == pytest.approx((1 / 6, (1.5 + 0.25) / 5))
    assert (a.n, b.n) == (6, 5)
    assert t.objective_value == pytest.approx(0.75)
    assert t.gap == pytest.approx(0.0, abs=1e-12)


def test_tolerance_hand_worked() -> None:
    # Same data, TPRs may differ by 0.2: a keeps TPR 1/2 (raising it costs
    # 4 - 2 per unit), b rises to 0.7 (gains 3 - 2 * 3/4 per unit):
    # FPR_b = 3/4 (0.7 - 1/3) = 0.275, n * accuracy = 1 + 2.1 - 0.55 + 6 = 8.55.
    clf = ThresholdPostprocessor(tolerance=0.2).fit(HAND_S, HAND_Y, sensitive_features=HAND_G)
    a, b = clf.thresholds_.groups
    assert (a.tpr, b.tpr, b.fpr) == pytest.approx((0.5, 0.7, 0.275))
    assert b.p_between == pytest.approx((0.7 - 1 / 3) / (2 / 3))
    assert clf.thresholds_.objective_value == pytest.approx(8.55 / 11)
    assert clf.thresholds_.gap == pytest.approx(0.2)


# Equalized odds. Group a (P=2, N=1) is separated perfectly: its hull
# (0,0) (0,1) (1,1) holds every point above the diagonal. Group b (P=N=4,
# labels by decreasing score 1 1 0 1 0 0 1 0) has hull (0,0) (0,1/2) (1/4,3/4)
# (3/4,1) (1,1), slopes inf, 1, 1/2, 0. The common point maximises
# 6 TPR - 5 FPR over b's region: slope 5/6 lies in (1/2, 1), so (1/4, 3/4).
# a reaches it as (1 - q) C + q D with C = (1/4, 1) on its hull and D = (1/4, 1/4)
# on the diagonal: q = (1 - 3/4) / (1 - 1/4) = 1/3; C mixes threshold 0.45 (vertex
# (0,1)) and -inf (vertex (1,1)) with weight 1/4. So p_above = 2/3 + 1/3 * 1/4 = 3/4,
# p_between = 2/3 * 1/4 + 1/12 = 1/4 for every score below 0.45. b uses the single
# threshold 0.6. Accuracy = (4.5 + 3.75) / 11 = 0.75.
EO_S = np.array([0.9, 0.8, 0.1, 0.95, 0.85, 0.75, 0.65, 0.55, 0.45, 0.35, 0.25])
EO_Y = np.array([1, 1, 0, 1, 1, 0, 1, 0, 0, 1, 0])
EO_G = np.array(list("aaabbbbbbbb"))


def test_equalized_odds_hand_worked() -> None:
    clf = ThresholdPostprocessor(constraint="equalized_odds").fit(
        EO_S, EO_Y, sensitive_features=EO_G
    )
    a, b = clf.thresholds_.groups
    assert (a.threshold_low, a.threshold_high) == (-np.inf, pytest.approx(0.45))
    assert (a.p_between, a.p_above) == pytest.approx((0.25, 0.75))
    assert (b.threshold_low, b.threshold_high) == pytest.approx((0.6, 0.6))
    assert (b.p_below, b.p_above) == (0.0, 1.0)
    for g in (a, b):
        assert (g.fpr, g.tpr) == pytest.approx((0.25, 0.75))
    assert clf.thresholds_.objective_value == pytest.approx(0.75)
    assert "any score" not in clf.thresholds_.describe()
    assert clf.thresholds_.groups[0].describe() == (
        "a: score >= 0.45 -> 1 with probability 0.75; score < 0.45 -> 1 with probability 0.25"
    )


def test_demographic_parity_hand_worked() -> None:
    # a: .9(1) .6(0) .3(1) .1(0), hull (0,0) (0,1/2) (1/2,1) (1,1) with selection
    # rates 0, 1/4, 3/4, 1 and 2, 3, 3, 2 rows right. b: .8(1) .7(1) .4(0) .2(0) is
    # separated: at rate r it gets 2 + 4r right below 1/2 and 6 - 4r above.
    # Common rate 1/2: a mixes its two middle vertices half and half (3 right),
    # b is perfect (4): 7 of 8. Rates 1/4 and 3/4 give 3 + 3; the total is
    # piecewise linear in r, so r = 1/2 is the unique optimum.
    s = np.array([0.9, 0.6, 0.3, 0.1, 0.8, 0.7, 0.4, 0.2])
    y = np.array([1, 0, 1, 0, 1, 1, 0, 0])
    g = np.array(list("aaaabbbb"))
    t = ThresholdPostprocessor(constraint="demographic_parity").fit(s, y, sensitive_features=g)
    a, b = t.thresholds_.groups
    assert t.thresholds_.objective_value == pytest.approx(7 / 8)
    assert (a.selection_rate, b.selection_rate) == pytest.approx((0.5, 0.5))
    assert (a.threshold_low, a.threshold_high, a.p_between) == pytest.approx((0.2, 0.75, 0.5))
    assert (b.threshold_low, b.threshold_high) == pytest.approx((0.55, 0.55))


# --------------------------------------------------------------------------- #
# naive references
# --------------------------------------------------------------------------- #


def _data(rng: np.random.Generator, n: int, n_groups: int, levels: int = 0) -> tuple[Any, ...]:
    g = rng.integers(0, n_groups, n)
    y = (rng.random(n) < (0.3 + 0.4 * g / max(n_groups - 1, 1))).astype(int)
    s = 1 / (1 + np.exp(-(rng.normal(size=n) + 1.3 * y - 0.4 * g)))
    if levels:
        s = np.round(s * levels) / levels  # ties
    return s, y, np.array([f"g{k}" for k in g])


def _naive_roc(s: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """FPR and TPR of "s >= t" for t = +inf and every distinct score, by counting."""
    pts = [(0.0, 0.0)]
    for t in sorted(set(s.tolist()), reverse=True):
        pred = s >= t
        pts.append((pred[y == 0].mean(), pred[y == 1].mean()))
    return np.array([p[0] for p in pts]), np.array([p[1] for p in pts])


def _naive_lp(s: Any, y: Any, g: Any, constraint: str, objective: str, tol: float) -> float:
    """The derived-predictor LP over *all* ROC points, pairwise gap constraints, dense."""
    labels = sorted(set(g.tolist()))
    fprs, tprs, pos, neg = [], [], [], []
    for lab in labels:
        m = g == lab
        f, t = _naive_roc(s[m], y[m])
        fprs.append(f)
        tprs.append(t)
        pos.append(y[m].sum())
        neg.append((1 - y[m]).sum())
    sizes = [f.size for f in fprs]
    nv = sum(sizes)
    off = np.concatenate([[0], np.cumsum(sizes)])
    P, N = sum(pos), sum(neg)
    c = np.zeros(nv)
    rates: list[list[np.ndarray]] = []  # rates[k][g]: the rate of each point of g
    for i in range(len(labels)):
        sl = slice(off[i], off[i + 1])
        if objective == "accuracy":
            c[sl] = -(pos[i] * tprs[i] - neg[i] * fprs[i]) / (P + N)
        else:
            c[sl] = -(pos[i] * tprs[i] / P - neg[i] * fprs[i] / N) / 2
    if constraint in ("equal_opportunity", "equalized_odds"):
        rates.append(tprs)
    if constraint == "equalized_odds":
        rates.append(fprs)
    if constraint == "demographic_parity":
        rates.append(
            [(p * t + q * f) / (p + q) for p, q, t, f in zip(pos, neg, tprs, fprs, strict=True)]
        )
    a_eq = np.zeros((len(labels), nv))
    for i in range(len(labels)):
        a_eq[i, off[i] : off[i + 1]] = 1
    rows = []
    for r in rates:
        for i, j in itertools.combinations(range(len(labels)), 2):
            row = np.zeros(nv)
            row[off[i] : off[i + 1]] = r[i]
            row[off[j] : off[j + 1]] = -r[j]
            rows += [row, -row]
    res = linprog(c, A_ub=np.array(rows), b_ub=np.full(len(rows), tol), A_eq=a_eq,
                  b_eq=np.ones(len(labels)), bounds=(0, None), method="highs")  # fmt: skip
    assert res.status == 0
    const = N / (P + N) if objective == "accuracy" else 0.5
    return float(const - res.fun)


@pytest.mark.parametrize("constraint", CONSTRAINTS)
@pytest.mark.parametrize("objective", OBJECTIVES)
@pytest.mark.parametrize("tol", [0.0, 0.04])
def test_optimum_equals_a_naive_lp_over_all_roc_points(
    rng: np.random.Generator, constraint: str, objective: str, tol: float
) -> None:
    s, y, g = _data(rng, 400, 3, levels=40)
    clf = ThresholdPostprocessor(constraint=constraint, objective=objective, tolerance=tol)
    clf.fit(s, y, sensitive_features=g)
    expected = _naive_lp(s, y, g, constraint, objective, tol)
    # objective_value comes from the fitted rules applied to the data, not from the LP.
    assert clf.thresholds_.objective_value == pytest.approx(expected, abs=1e-9)
    assert clf.thresholds_.gap <= tol + 1e-9


def _naive_probability(table: ThresholdTable, s: np.ndarray, g: np.ndarray) -> np.ndarray:
    rules = {r.group: r for r in table.groups}
    out = []
    for score, group in zip(s.tolist(), g.tolist(), strict=True):
        r = rules[group]
        if score >= r.threshold_high:
            out.append(r.p_above)
        elif score >= r.threshold_low:
            out.append(r.p_between)
        else:
            out.append(r.p_below)
    return np.array(out)


@pytest.mark.parametrize("constraint", CONSTRAINTS)
def test_table_rates_are_the_rules_expected_rates(
    rng: np.random.Generator, constraint: str
) -> None:
    s, y, g = _data(rng, 600, 4, levels=25)
    sw = rng.uniform(0.5, 2.0, s.size)
    clf = ThresholdPostprocessor(constraint=constraint).fit(s, y, sensitive_features=g,
                                                            sample_weight=sw)  # fmt: skip
    p = _naive_probability(clf.thresholds_, s, g)
    np.testing.assert_allclose(clf.positive_probability(s, sensitive_features=g), p, atol=1e-15)
    for r in clf.thresholds_.groups:
        m = g == r.group
        assert r.tpr == pytest.approx(np.average(p[m & (y == 1)], weights=sw[m & (y == 1)]))
        assert r.fpr == pytest.approx(np.average(p[m & (y == 0)], weights=sw[m & (y == 0)]))
        assert r.selection_rate == pytest.approx(np.average(p[m], weights=sw[m]))
        assert r.n == m.sum()
        assert r.p_below <= r.p_between <= r.p_above or r.threshold_low == r.threshold_high
    hit = np.where(y == 1, p, 1 - p)
    assert clf.thresholds_.objective_value == pytest.approx(np.average(hit, weights=sw))
    assert clf.score(s, y, sensitive_features=g, sample_weight=sw) == pytest.approx(
        clf.thresholds_.objective_value
    )


def test_predictions_realise_the_probabilities(rng: np.random.Generator) -> None:
    s, y, g = _data(rng, 300, 2, levels=10)
    clf = ThresholdPostprocessor(constraint="equalized_odds").fit(s, y, sensitive_features=g)
    p = clf.positive_probability(s, sensitive_features=g)
    assert ((p > 0) & (p < 1)).any()
    draws = np.stack([clf.predict(s, sensitive_features=g, random_state=k) for k in range(400)])
    # Each row: a binomial(400, p) count; 5 standard errors (plus a little) everywhere.
    se = np.sqrt(p * (1 - p) / 400)
    assert np.all(np.abs(draws.mean(axis=0) - p) <= 5 * se + 1e-12)
    rates = [draws[:, (g == lab) & (y == 1)].mean() for lab in ("g0", "g1")]
    assert rates == pytest.approx([r.tpr for r in clf.thresholds_.groups], abs=0.01)


def test_predict_is_reproducible(rng: np.random.Generator) -> None:
    s, y, g = _data(rng, 500, 3, levels=8)
    clf = ThresholdPostprocessor().fit(s, y, sensitive_features=g)
    one = clf.predict(s, sensitive_features=g, random_state=7)
    np.testing.assert_array_equal(one, clf.predict(s, sensitive_features=g, random_state=7))
    np.testing.assert_array_equal(clf.predict(s, sensitive_features=g),
                                  clf.predict(s, sensitive_features=g, random_state=0))  # fmt: skip
    gens = [np.random.default_rng(7), np.random.default_rng(7)]
    by_gen = [clf.predict(s, sensitive_features=g, random_state=r) for r in gens]
    np.testing.assert_array_equal(by_gen[0], by_gen[1])
    assert gens[0].random() == gens[1].random()  # both advanced alike
    randomised = (clf.positive_probability(s, sensitive_features=g) % 1) > 0
    assert randomised.sum() > 20
    other = clf.predict(s, sensitive_features=g, random_state=8)
    assert (one != other).any() and (one[~randomised] == other[~randomised]).all()


def test_draws_do_not_replay_a_simulation_with_the_same_seed() -> None:
    # The groups come from default_rng(0)'s first uniforms (choice with p); an
    # unsalted default_rng(0) in predict would reuse them, and the randomised rows
    # of group 1 (uniforms in [0.55, 0.85)) would never fall below p < 0.55.
    rng = np.random.default_rng(0)
    n = 200_000
    code = rng.choice(3, size=n, p=[0.55, 0.30, 0.15])
    y = (rng.random(n) < np.array([0.3, 0.45, 0.6])[code]).astype(int)
    s = 1 / (1 + np.exp(-(rng.normal(size=n) + 1.2 * y - 0.3 * code)))
    clf = ThresholdPostprocessor(constraint="demographic_parity")
    clf.fit(s, y, sensitive_features=code)
    p = clf.positive_probability(s, sensitive_features=code)
    pred = clf.predict(s, sensitive_features=code, random_state=0)
    for k in range(3):
        m = (code == k) & (p > 0) & (p < 1)
        if m.sum() > 100:
            se = np.sqrt(np.sum(p[m] * (1 - p[m]))) / m.sum()
            assert abs(pred[m].mean() - p[m].mean()) < 5 * se


# --------------------------------------------------------------------------- #
# kernels against naive loops
# --------------------------------------------------------------------------- #


def test_group_rocs_match_counting(rng: np.random.Generator) -> None:
    s, y, g = _data(rng, 500, 3, levels=30)
    codes = np.unique(g, return_inverse=True)[1]
    rocs = group_rocs(s, y.astype(np.int8), codes, 3)
    for k, roc in enumerate(rocs):
        m = codes == k
        fpr, tpr = _naive_roc(s[m], y[m])
        np.testing.assert_allclose(roc.fpr, fpr)
        np.testing.assert_allclose(roc.tpr, tpr)
        u = np.sort(np.unique(s[m]))[::-1]
        # Each finite threshold separates two consecutive distinct scores.
        assert np.all(roc.thresholds[1:-1] <= u[:-1]) and np.all(roc.thresholds[1:-1] > u[1:])
        assert roc.thresholds[0] == np.inf and roc.thresholds[-1] == -np.inf


def _naive_hull(x: np.ndarray, y: np.ndarray) -> list[int]:
    """Andrew's monotone chain, one point at a time (Fairlearn's loop)."""
    chain: list[int] = []
    for k in range(x.size):
        while len(chain) >= 2:
            a, i = chain[-2], chain[-1]
            if (y[i] - y[a]) * (x[k] - x[a]) > (y[k] - y[a]) * (x[i] - x[a]):
                break
            chain.pop()
        chain.append(k)
    return chain


@pytest.mark.parametrize("shape", ["noisy", "ties", "concave-then-steep"])
def test_upper_hull_matches_the_monotone_chain(rng: np.random.Generator, shape: str) -> None:
    if shape == "concave-then-steep":
        # A flat concave arc and then a jump: one-at-a-time removals, the
        # vectorised passes stop early and the loop finishes.
        x = np.concatenate([np.linspace(0, 0.99, 3000), [1.0]])
        y = np.concatenate([0.2 * np.sqrt(x[:-1]), [1.0]])
    else:
        n = 5000
        levels = 50 if shape == "ties" else 0
        s, lab, _ = _data(rng, n, 1, levels=levels)
        [roc] = group_rocs(s, lab.astype(np.int8), np.zeros(n, np.intp), 1)
        x, y = roc.fp, roc.tp
    assert upper_hull(x, y).tolist() == _naive_hull(x, y)


@pytest.mark.parametrize("chunk", [1 << 20, 3])
def test_plain_search_matches_brute_force(
    rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    # chunk=3: the equalized-odds search takes its (anchor, point) pairs a few at a time.
    monkeypatch.setattr(_plain_thresholds, "_PAIR_CHUNK", chunk)
    for _ in range(60):
        n_groups = int(rng.integers(2, 4))
        n_rates = int(rng.integers(1, 3))
        rates, values = [], []
        for _ in range(n_groups):
            m = int(rng.integers(1, 7))
            rates.append(np.sort(rng.integers(0, 9, (n_rates, m)) / 8, axis=1))
            values.append(rng.normal(size=m))
        tol = float(rng.choice([0.0, 0.125, 0.3]))
        best = -np.inf
        for combo in itertools.product(*[range(v.size) for v in values]):
            r = np.stack([rt[:, j] for rt, j in zip(rates, combo, strict=True)])
            if np.all(np.ptp(r, axis=0) <= tol + 1e-12):
                best = max(best, sum(v[j] for v, j in zip(values, combo, strict=True)))
        found = best_plain_thresholds(rates, values, tol)
        if best == -np.inf:
            assert found is None
        else:
            assert found is not None and found[1] == pytest.approx(best)
        gaps = [
            np.ptp(np.stack([rt[:, j] for rt, j in zip(rates, c, strict=True)]), axis=0).max()
            for c in itertools.product(*[range(v.size) for v in values])
        ]
        assert smallest_plain_gap(rates) == pytest.approx(min(gaps), abs=1e-4)


# --------------------------------------------------------------------------- #
# deterministic mode
# --------------------------------------------------------------------------- #


def _brute_plain(s: Any, y: Any, g: Any, constraint: str, objective: str, tol: float) -> float:
    labels = sorted(set(g.tolist()))
    cands = [np.unique(s[g == lab])[1:] for lab in labels]  # inside each group's scores
    best = -np.inf
    for combo in itertools.product(*cands):
        pred = np.zeros(s.size, bool)
        for lab, t in zip(labels, combo, strict=True):
            pred[g == lab] = s[g == lab] >= t
        tpr = np.array([pred[(g == lab) & (y == 1)].mean() for lab in labels])
        fpr = np.array([pred[(g == lab) & (y == 0)].mean() for lab in labels])
        sel = np.array([pred[g == lab].mean() for lab in labels])
        rates = {"equal_opportunity": [tpr], "equalized_odds": [tpr, fpr],
                 "demographic_parity": [sel]}[constraint]  # fmt: skip
        if max(np.ptp(r) for r in rates) > tol + 1e-12:
            continue
        if objective == "accuracy":
            value = np.mean(pred == y)
        else:
            value = (pred[y == 1].mean() + 1 - pred[y == 0].mean()) / 2
        best = max(best, value)
    return best


@pytest.mark.parametrize("constraint", CONSTRAINTS)
@pytest.mark.parametrize("objective", OBJECTIVES)
def test_plain_thresholds_match_brute_force(
    rng: np.random.Generator, constraint: str, objective: str
) -> None:
    checked = 0
    for _ in range(40):
        s, y, g = _data(rng, 24, 3, levels=6)
        labels = np.unique(g)
        if labels.size < 3 or any(
            np.ptp(y[g == lab]) == 0 or np.unique(s[g == lab]).size < 2 for lab in labels
        ):
            continue
        tol = float(rng.choice([0.1, 0.25, 0.5]))
        best = _brute_plain(s, y, g, constraint, objective, tol)
        clf = ThresholdPostprocessor(constraint=constraint, objective=objective, tolerance=tol,
                                     randomized=False)  # fmt: skip
        if best == -np.inf:
            with pytest.raises(InvalidParameterError, match="no plain"):
                clf.fit(s, y, sensitive_features=g)
            continue
        clf.fit(s, y, sensitive_features=g)
        checked += 1
        assert clf.thresholds_.objective_value == pytest.approx(best, abs=1e-12)
        assert clf.thresholds_.gap <= tol + 1e-12
        for r in clf.thresholds_.groups:
            assert r.threshold_low == r.threshold_high and (r.p_below, r.p_above) == (0, 1)
        p = clf.positive_probability(s, sensitive_features=g)
        assert set(np.unique(p)) <= {0.0, 1.0}
    assert checked >= 10


def test_infeasible_tolerance_names_the_smallest_gap() -> None:
    # Thresholds inside the score ranges select, in a, 1/4, 1/2 or 3/4 of its rows
    # and, in b, 1/5 ... 4/5: the smallest gap is 1/4 - 1/5 = 3/4 - 4/5 = 0.05.
    s = np.array([0.9, 0.8, 0.5, 0.2, 0.9, 0.7, 0.6, 0.4, 0.3])
    y = np.array([1, 0, 1, 0, 1, 0, 1, 1, 0])
    g = np.array(list("aaaabbbbb"))
    clf = ThresholdPostprocessor(constraint="demographic_parity", tolerance=0.01,
                                 randomized=False)  # fmt: skip
    with pytest.raises(InvalidParameterError) as info:
        clf.fit(s, y, sensitive_features=g)
    msg = str(info.value)
    assert "constraint='demographic_parity' within tolerance=0.01" in msg
    assert "smallest gap between groups that plain thresholds reach is 0.05" in msg
    assert "randomized=True" in msg
    ok = clf.set_params(tolerance=0.05).fit(s, y, sensitive_features=g)
    assert ok.thresholds_.gap == pytest.approx(0.05)
    # randomised, any tolerance is met
    r = ThresholdPostprocessor(constraint="demographic_parity").fit(s, y, sensitive_features=g)
    assert r.thresholds_.gap == pytest.approx(0.0, abs=1e-12)


# --------------------------------------------------------------------------- #
# groups, estimators, forms
# --------------------------------------------------------------------------- #


def test_many_groups_and_intersections(rng: np.random.Generator) -> None:
    n = 3000
    sex = rng.choice(["F", "M"], n)
    race = rng.choice(["A", "B", "C"], n)
    y = (rng.random(n) < 0.4 + 0.1 * (race == "B")).astype(int)
    s = 1 / (1 + np.exp(-(rng.normal(size=n) + 1.5 * y + 0.3 * (sex == "M"))))
    sf = pd.DataFrame({"sex": sex, "race": race})
    for constraint in CONSTRAINTS:
        clf = ThresholdPostprocessor(constraint=constraint).fit(s, y, sensitive_features=sf)
        t = clf.thresholds_
        assert [r.group for r in t.groups] == [f"{a} & {b}" for a in "FM" for b in "ABC"]
        assert t.gap < 1e-9
        assert t.objective_value == pytest.approx(
            _naive_lp(s, y, np.array([f"{a} & {b}" for a, b in zip(sex, race, strict=True)]),
                      constraint, "accuracy", 0.0), abs=1e-9)  # fmt: skip


def test_shuffling_and_relabelling_leave_the_rules(rng: np.random.Generator) -> None:
    s, y, g = _data(rng, 800, 3, levels=30)
    base = ThresholdPostprocessor(constraint="equalized_odds").fit(s, y, sensitive_features=g)
    perm = rng.permutation(s.size)
    shuf = ThresholdPostprocessor(constraint="equalized_odds").fit(
        s[perm], y[perm], sensitive_features=g[perm]
    )
    renamed = np.array([v.replace("g", "group ") for v in g.tolist()])
    rel = ThresholdPostprocessor(constraint="equalized_odds").fit(s, y, sensitive_features=renamed)
    for a, b, c in zip(
        base.thresholds_.groups, shuf.thresholds_.groups, rel.thresholds_.groups, strict=True
    ):
        assert (a.tpr, a.fpr) == pytest.approx((b.tpr, b.fpr), abs=1e-9)
        assert (a.tpr, a.fpr) == pytest.approx((c.tpr, c.fpr), abs=1e-9)
        assert c.group == a.group.replace("g", "group ")
    assert base.thresholds_.objective_value == pytest.approx(shuf.thresholds_.objective_value)


def test_sample_weight_equals_repeating_rows(rng: np.random.Generator) -> None:
    s, y, g = _data(rng, 300, 2, levels=20)
    w = rng.integers(1, 4, s.size)
    wt = ThresholdPostprocessor().fit(s, y, sensitive_features=g, sample_weight=w)
    rep = ThresholdPostprocessor().fit(np.repeat(s, w), np.repeat(y, w),
                                       sensitive_features=np.repeat(g, w))  # fmt: skip
    assert wt.thresholds_.objective_value == pytest.approx(rep.thresholds_.objective_value)
    for a, b in zip(wt.thresholds_.groups, rep.thresholds_.groups, strict=True):
        assert (a.tpr, a.fpr) == pytest.approx((b.tpr, b.fpr))


def _frame(rng: np.random.Generator, n: int = 600) -> tuple[pd.DataFrame, np.ndarray]:
    sex = rng.choice(["F", "M"], n, p=[0.4, 0.6])
    x1 = rng.normal(size=n) + 0.8 * (sex == "M")
    x2 = rng.normal(size=n)
    y = (x1 + 0.5 * x2 + rng.normal(size=n) > 0.5).astype(int)
    return pd.DataFrame({"x1": x1, "sex": sex, "x2": x2}), y


def test_estimator_modes(rng: np.random.Generator) -> None:
    X, y = _frame(rng)
    lr = LogisticRegression().fit(X[["x1", "x2"]], y)
    fresh = ThresholdPostprocessor(LogisticRegression(), sensitive_column="sex").fit(X, y)
    assert fresh.estimator_ is not fresh.estimator
    np.testing.assert_allclose(fresh.estimator_.coef_, lr.coef_)
    pre = ThresholdPostprocessor(lr, prefit=True, sensitive_column="sex").fit(X, y)
    assert pre.estimator_ is lr
    # The same scores as the score itself (estimator=None).
    raw = ThresholdPostprocessor().fit(lr.predict_proba(X[["x1", "x2"]])[:, 1], y,
                                       sensitive_features=X.sex)  # fmt: skip
    assert pre.thresholds_.to_dict() == raw.thresholds_.to_dict()
    assert fresh.n_features_in_ == 3 and fresh.feature_names_in_.tolist() == ["x1", "sex", "x2"]
    # decision_function is a monotone transform of predict_proba: the same rates.
    dec = ThresholdPostprocessor(lr, prefit=True, score_method="decision_function",
                                 sensitive_column="sex").fit(X, y)  # fmt: skip
    for a, b in zip(dec.thresholds_.groups, pre.thresholds_.groups, strict=True):
        assert (a.tpr, a.fpr) == pytest.approx((b.tpr, b.fpr), abs=1e-9)
    svc = ThresholdPostprocessor(LinearSVC(), sensitive_column="sex").fit(X, y)  # auto: decision
    assert svc.predict(X).shape == (len(y),)
    # string labels: the second sorted class is positive
    ys = np.where(y == 1, "yes", "no")
    st = ThresholdPostprocessor(LogisticRegression(), sensitive_column="sex").fit(X, ys)
    assert st.classes_.tolist() == ["no", "yes"]
    assert set(st.predict(X)) <= {"no", "yes"}
    assert st.thresholds_.to_dict() == fresh.thresholds_.to_dict()


@pytest.mark.parametrize("form", sorted(COLUMN_FORMS))
def test_input_forms(rng: np.random.Generator, form: str) -> None:
    s, y, g = _data(rng, 400, 3, levels=20)
    conv = COLUMN_FORMS[form]
    ref = ThresholdPostprocessor().fit(s, y, sensitive_features=g)
    got = ThresholdPostprocessor().fit(conv(s), conv(y), sensitive_features=conv(g))
    assert got.thresholds_.to_dict() == ref.thresholds_.to_dict()
    np.testing.assert_array_equal(
        got.predict(conv(s), sensitive_features=conv(g)), ref.predict(s, sensitive_features=g)
    )


def test_json_round_trip(rng: np.random.Generator) -> None:
    s, y, g = _data(rng, 400, 3, levels=20)
    clf = ThresholdPostprocessor(constraint="equalized_odds").fit(s, y, sensitive_features=g)
    doc = json.loads(json.dumps(clf.thresholds_.to_dict(), allow_nan=False))
    assert set(doc) == {"constraint", "objective", "tolerance", "randomized",
                        "objective_value", "gap", "groups"}  # fmt: skip
    assert list(doc["groups"][0]) == [
        "group", "threshold_low", "threshold_high", "p_below", "p_between", "p_above",
        "tpr", "fpr", "selection_rate", "n",
    ]  # fmt: skip
    assert ThresholdTable.from_dict(doc) == clf.thresholds_
    frame = clf.thresholds_.to_frame()
    assert frame.shape == (3, 10) and frame.group.tolist() == ["g0", "g1", "g2"]
    # infinite thresholds survive as strings
    eo = ThresholdPostprocessor(constraint="equalized_odds").fit(
        EO_S, EO_Y, sensitive_features=EO_G
    )
    doc = json.loads(json.dumps(eo.thresholds_.to_dict(), allow_nan=False))
    assert doc["groups"][0]["threshold_low"] == "-inf"
    assert ThresholdTable.from_dict(doc) == eo.thresholds_


def test_pickle_and_clone(rng: np.random.Generator) -> None:
    X, y = _frame(rng)
    clf = ThresholdPostprocessor(LogisticRegression(), sensitive_column="sex").fit(X, y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict(X, random_state=3), clf.predict(X, random_state=3))
    assert not hasattr(clone(clf), "thresholds_")


def test_pipeline_with_metadata_routing(rng: np.random.Generator) -> None:
    X, y = _frame(rng)
    Xn, sex = X[["x1", "x2"]], X.sex
    with sklearn.config_context(enable_metadata_routing=True):
        post = (
            ThresholdPostprocessor(LogisticRegression(), constraint="equalized_odds")
            .set_fit_request(sensitive_features=True)
            .set_predict_request(sensitive_features=True, random_state=True)
        )
        pipe = Pipeline([("scale", StandardScaler()), ("post", post)])
        pipe.fit(Xn, y, sensitive_features=sex)
        routed = pipe.predict(Xn, sensitive_features=sex, random_state=5)
    direct = ThresholdPostprocessor(LogisticRegression(), constraint="equalized_odds")
    Z = StandardScaler().fit_transform(Xn)
    direct.fit(Z, y, sensitive_features=sex)
    np.testing.assert_array_equal(routed, direct.predict(Z, sensitive_features=sex, random_state=5))
    # Without routing: sensitive_column in a plain pipeline.
    plain = Pipeline(
        [("post", ThresholdPostprocessor(LogisticRegression(), sensitive_column="sex"))]
    )
    assert plain.fit(X, y).predict(X).shape == y.shape


# --------------------------------------------------------------------------- #
# bad input
# --------------------------------------------------------------------------- #

_S = [0.1, 0.9, 0.4, 0.6]
_Y = [0, 1, 0, 1]
_G = ["a", "a", "b", "b"]


@pytest.mark.parametrize(
    ("params", "X", "y", "sf", "exc", "fragment"),
    [
        ({}, ["low", "high", "mid", "top"], _Y, _G, DataValidationError,
         "X (the scores) must be numeric; got the values {'low', 'high'"),
        ({}, [0.1, np.nan, 0.4, 0.6], _Y, _G, DataValidationError,
         "X (the scores) has 1 missing value(s) (NaN), the first at row 1"),
        ({}, [0.1, np.inf, 0.4, 0.6], _Y, _G, DataValidationError,
         "X (the scores) has 1 infinite value(s), the first at row 1"),
        ({}, _S, [0, 1, 2, 1], _G, DataValidationError,
         "Only binary classification is supported. y must hold exactly two classes; got 3"),
        ({}, _S, [0, 1, 1, 1], _G, DataValidationError,
         "group 'b' has no negative rows (class 0) in y, so its false positive rate is undefined"),
        ({}, _S, [0, 1, 0, 0], _G, DataValidationError,
         "group 'b' has no positive rows (class 1) in y, so its true positive rate"),
        ({}, _S, _Y[:3], _G, DataValidationError, "X has 4 rows but y has 3"),
        ({}, _S, _Y, None, InvalidParameterError, "no protected attribute"),
        ({"constraint": "parity"}, _S, _Y, _G, InvalidParameterError,
         "The 'constraint' parameter of ThresholdPostprocessor must be one of "
         "'equal_opportunity', 'equalized_odds', 'demographic_parity'. Got 'parity' instead."),
        ({"objective": "f1"}, _S, _Y, _G, InvalidParameterError, "The 'objective' parameter"),
        ({"tolerance": 1.5}, _S, _Y, _G, InvalidParameterError,
         "The 'tolerance' parameter of ThresholdPostprocessor must be a float in [0, 1]. "
         "Got 1.5 instead."),
        ({"tolerance": "0.1"}, _S, _Y, _G, InvalidParameterError, "The 'tolerance' parameter"),
        ({"randomized": "no"}, _S, _Y, _G, InvalidParameterError,
         "The 'randomized' parameter of ThresholdPostprocessor must be a bool"),
        ({"score_method": "predict"}, _S, _Y, _G, InvalidParameterError,
         "The 'score_method' parameter"),
        ({"randomized": False}, [0.5, 0.5, 0.4, 0.6], _Y, _G, DataValidationError,
         "group 'a' has a single distinct score, so no plain threshold splits it"),
        ({}, [[0.1, 1], [0.9, 1], [0.4, 2], [0.6, 2]], _Y, _G, DataValidationError,
         "without an estimator, X is the score and must have one column"),
    ],
    ids=["text-scores", "nan-score", "inf-score", "multiclass", "no-negatives",
         "no-positives", "lengths", "no-groups", "constraint", "objective", "tolerance",
         "tolerance-type", "randomized", "score-method", "single-score", "two-columns"],
)  # fmt: skip
def test_bad_inputs(
    params: dict[str, Any], X: Any, y: Any, sf: Any, exc: type[Exception], fragment: str
) -> None:
    with pytest.raises(exc, match=re.escape(fragment)):
        ThresholdPostprocessor(**params).fit(X, y, sensitive_features=sf)


def test_bad_inputs_with_an_estimator_and_at_predict(rng: np.random.Generator) -> None:
    X, y = _frame(rng)
    with pytest.raises(NotFittedError, match="prefit=True but the estimator LogisticRegression"):
        ThresholdPostprocessor(LogisticRegression(), prefit=True, sensitive_column="sex").fit(X, y)

    class NaNScores(LogisticRegression):
        def predict_proba(self, X: Any) -> np.ndarray:
            out = super().predict_proba(X)
            out[3, 1] = np.nan
            return out

    with pytest.raises(DataValidationError, match=re.escape(
            "the scores of NaNScores.predict_proba has 1 missing value(s) (NaN), the first "
            "at row 3")):  # fmt: skip
        ThresholdPostprocessor(NaNScores(), sensitive_column="sex").fit(X, y)
    clf = ThresholdPostprocessor(LogisticRegression(), sensitive_column="sex").fit(X, y)
    with pytest.raises(DataValidationError, match=re.escape("group 'X' of the sensitive feat")):
        clf.predict(X.assign(sex="X"))
    with pytest.raises(InvalidParameterError, match=re.escape(
            "The 'random_state' parameter of ThresholdPostprocessor.predict must be an int in "
            "[0, inf). Got None instead.")):  # fmt: skip
        clf.predict(X, random_state=None)  # type: ignore[arg-type]
    with pytest.raises(NotFittedError):
        ThresholdPostprocessor().predict(_S, sensitive_features=_G)
    with pytest.raises(DataValidationError, match="sparse input is not supported"):
        clf.fit(sparse.csr_matrix(X[["x1", "x2"]].to_numpy()), y)


# --------------------------------------------------------------------------- #
# scikit-learn contract
# --------------------------------------------------------------------------- #

_PER_ROW = (
    "sensitive_column=0 makes the check's continuous column 0 the protected attribute, so "
    "nearly every row is its own group with one class, whose TPR or FPR is undefined: fit "
    "refuses it (see SignGroups below for these checks with usable groups)"
)
_REAL_FAILURES = {
    name: _PER_ROW
    for name in [
        "check_fit_score_takes_y", "check_estimators_overwrite_params",
        "check_dont_overwrite_parameters", "check_estimators_fit_returns_self",
        "check_readonly_memmap_input", "check_n_features_in_after_fitting",
        "check_positive_only_tag_during_fit", "check_estimators_dtypes",
        "check_sample_weights_pandas_series", "check_sample_weights_not_an_array",
        "check_sample_weights_list", "check_sample_weights_shape",
        "check_sample_weights_not_overwritten", "check_sample_weight_equivalence_on_dense_data",
        "check_dtype_object", "check_estimators_pickle", "check_f_contiguous_array_estimator",
        "check_classifier_data_not_an_array", "check_classifiers_classes",
        "check_classifiers_train", "check_supervised_y_2d", "check_dict_unchanged",
        "check_fit_idempotent", "check_fit_check_is_fitted", "check_n_features_in",
        "check_fit2d_predict1d",
    ]
} | {
    "check_estimators_nan_inf": "the NaN/inf it plants in X[0, 0] is a protected value (NaN "
    "is its own group '<missing>', as everywhere in Seawall), not a score or feature; the "
    "remaining per-row groups then have one class each, which fit refuses",
}  # fmt: skip


def _group_of(X: Any) -> np.ndarray:
    """A content-based, pseudo-random split of the rows: the 6th decimal of the last column."""
    if sparse.issparse(X):
        col = X.tocsc()[:, [-1]].toarray()[:, 0]
    else:
        arr = np.asarray(X)
        col = arr[:, -1] if arr.ndim == 2 and arr.shape[1] else np.zeros(arr.shape[0])
    if np.iscomplexobj(col):  # let fit's own check of the data answer
        return np.zeros(col.shape[0], dtype=bool)
    with np.errstate(invalid="ignore"):
        return np.floor(np.abs(col.astype(np.float64)) * 1e6) % 2 == 1


class SignGroups(ThresholdPostprocessor):
    """Test harness: the protected attribute is a function of each row of X.

    The checks only pass ``X`` and ``y``. This subclass derives two groups from
    the content of each row (so that both classes appear in each group) and
    passes them as ``sensitive_features``; everything else is the parent's.
    """

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SignGroups:  # type: ignore[override]
        return super().fit(X, y, sensitive_features=_group_of(X), sample_weight=sample_weight)

    def predict(self, X: Any) -> np.ndarray:  # type: ignore[override]
        return super().predict(X, sensitive_features=_group_of(X))

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:  # type: ignore[override]
        return super().score(X, y, sensitive_features=_group_of(X), sample_weight=sample_weight)


_ZERO_WEIGHTS = (
    "the check zeroes sample weights so that one harness group keeps weight on a single "
    "class only; its TPR or FPR is then undefined and fit refuses the group"
)


def _expected_failed_checks(estimator: Any) -> dict[str, str]:
    if isinstance(estimator, SignGroups):
        return {
            "check_sample_weight_equivalence_on_dense_data": _ZERO_WEIGHTS,
            "check_sample_weight_equivalence_on_sparse_data": _ZERO_WEIGHTS,
        }
    return _REAL_FAILURES


@parametrize_with_checks(
    [
        ThresholdPostprocessor(LogisticRegression(), sensitive_column=0),
        SignGroups(LogisticRegression()),
        SignGroups(LogisticRegression(), constraint="equalized_odds", randomized=False,
                   tolerance=0.5),
    ],
    expected_failed_checks=_expected_failed_checks,
)  # fmt: skip
def test_sklearn_contract(estimator: Any, check: Any) -> None:
    check(estimator)
