"""Normalised mutual information of group and a categorical output: kernel and investigation."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import mutual_info_score

from seawall.associations import Investigation, find_associations
from seawall.associations._information import N_DRAWS, information_effect
from seawall.exceptions import DataValidationError, InvalidParameterError


def _nmi_by_hand(table: np.ndarray) -> float:
    """I(side; class) / min(H(side), H(class)) of one 2 x K table, in nats."""
    mi = mutual_info_score(None, None, contingency=table)
    h_side = stats.entropy(table.sum(axis=1))
    h_class = stats.entropy(table.sum(axis=0))
    return float(mi / min(h_side, h_class))


def test_nmi_g_and_p_match_sklearn_and_scipy() -> None:
    rng = np.random.default_rng(0)
    tables = rng.integers(8, 200, size=(40, 2, 4)).astype(float)
    e = information_effect(tables[:, None, 0], tables[:, None, 1])
    for i, t in enumerate(tables):
        assert e.difference[i] == pytest.approx(_nmi_by_hand(t), rel=1e-10)
        ref = stats.chi2_contingency(t, correction=False, lambda_="log-likelihood")
        assert e.p_value[i] == pytest.approx(ref.pvalue, rel=1e-8)
        rates = t / t.sum(axis=1, keepdims=True)
        k = int(np.argmax(np.abs(rates[0] - rates[1])))
        assert e.category[i] == k
        assert (e.first[i], e.second[i]) == pytest.approx((rates[0, k], rates[1, k]))
    assert not e.exact.any()
    assert (e.difference_lower <= e.difference).all() and (e.difference <= e.difference_upper).all()


def test_stratified_information_is_conditional() -> None:
    """I(G; Y | E) = sum_e P(e) I(G; Y | E=e); the G statistics and df add up over strata."""
    rng = np.random.default_rng(1)
    t = rng.integers(10, 120, size=(3, 2, 3)).astype(float)  # strata x side x class
    e = information_effect(t[None, :, 0], t[None, :, 1])
    weights = t.sum(axis=(1, 2)) / t.sum()
    mi = sum(
        w * mutual_info_score(None, None, contingency=s) for w, s in zip(weights, t, strict=True)
    )
    h_side = sum(w * stats.entropy(s.sum(axis=1)) for w, s in zip(weights, t, strict=True))
    h_class = sum(w * stats.entropy(s.sum(axis=0)) for w, s in zip(weights, t, strict=True))
    assert e.difference[0] == pytest.approx(mi / min(h_side, h_class), rel=1e-10)
    g = sum(
        stats.chi2_contingency(s, correction=False, lambda_="log-likelihood").statistic for s in t
    )
    assert e.p_value[0] == pytest.approx(stats.chi2.sf(g, 3 * 2), rel=1e-8)


def _exact_p(row: np.ndarray, col: np.ndarray, g_obs: float) -> float:
    """Exact conditional P(G >= g_obs) by enumerating every 2 x K table with these margins."""
    total = 0.0
    for first in itertools.product(*(range(int(c) + 1) for c in col)):
        if sum(first) != row[0]:
            continue
        a = np.array(first, dtype=float)
        table = np.stack([a, col - a])
        prob = stats.multivariate_hypergeom.pmf(a.astype(int), col.astype(int), int(row[0]))
        if _g(table) >= g_obs - 1e-9:
            total += prob
    return total


def _g(table: np.ndarray) -> float:
    if (table.sum(axis=1) == 0).any():
        return 0.0
    live = table[:, table.sum(axis=0) > 0]
    return float(stats.chi2_contingency(live, correction=False, lambda_="log-likelihood").statistic)


def test_small_tables_get_a_monte_carlo_exact_test() -> None:
    tables = np.array([[[5, 1, 0], [2, 6, 3]], [[3, 3, 1], [4, 2, 5]], [[0, 4, 2], [6, 1, 1]]])
    e = information_effect(tables[:, None, 0], tables[:, None, 1], random_state=3)
    assert e.exact.all()
    for i, t in enumerate(tables.astype(float)):
        exact = _exact_p(t.sum(axis=1), t.sum(axis=0), _g(t))
        se = np.sqrt(exact * (1 - exact) / N_DRAWS)
        assert abs(e.p_value[i] - exact) < 4 * se + 1 / N_DRAWS
        asymptotic = stats.chi2.sf(_g(t), 2)
        assert e.p_value[i] != pytest.approx(asymptotic, abs=1e-6)
    again = information_effect(tables[:, None, 0], tables[:, None, 1], random_state=3)
    np.testing.assert_array_equal(e.p_value, again.p_value)


def _population_nmi(p_side: float, py1: list[float], py2: list[float]) -> float:
    joint = np.array([p_side * np.array(py1), (1 - p_side) * np.array(py2)])
    mi = float((joint * np.log(joint / np.outer(joint.sum(1), joint.sum(0)))).sum())
    return mi / min(stats.entropy(joint.sum(1)), stats.entropy(joint.sum(0)))


@pytest.mark.parametrize(
    ("n", "py1", "py2"),
    [(2000, [0.4, 0.4, 0.2], [0.6, 0.3, 0.1]), (500, [0.4, 0.4, 0.2], [0.6, 0.3, 0.1])],
)
def test_interval_covers_the_population_value(n: int, py1: list[float], py2: list[float]) -> None:
    rng = np.random.default_rng(5)
    truth = _population_nmi(0.2, py1, py2)
    draws = 3000
    sizes = rng.binomial(n, 0.2, draws)
    c1 = np.array([rng.multinomial(k, py1) for k in sizes])[:, None]
    c2 = np.array([rng.multinomial(n - k, py2) for k in sizes])[:, None]
    e = information_effect(c1, c2)
    covered = (e.difference_lower <= truth) & (truth <= e.difference_upper)
    assert 0.93 <= covered.mean() <= 0.985


def test_interval_starts_at_zero_without_an_association() -> None:
    rng = np.random.default_rng(6)
    draws, n = 3000, 1000
    sizes = rng.binomial(n, 0.3, draws)
    py = [0.5, 0.3, 0.2]
    c1 = np.array([rng.multinomial(k, py) for k in sizes])[:, None]
    c2 = np.array([rng.multinomial(n - k, py) for k in sizes])[:, None]
    e = information_effect(c1, c2)
    # The lower bound leaves 0 exactly when the test rejects at the interval's level.
    np.testing.assert_array_equal(e.difference_lower > 0, e.p_value < 0.025)
    assert (e.difference_lower > 0).mean() < 0.035


def _decisions(n: int, seed: int, effect: bool) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    group = rng.choice(["A", "B"], n, p=[0.7, 0.3])
    city = rng.choice(["x", "y", "z", "w"], n)
    device = rng.choice(["phone", "laptop", "tablet"], n)
    base = np.array([0.55, 0.75, 1.0])  # approve 0.55, review 0.2, decline 0.25
    planted = np.array([0.35, 0.75, 1.0])  # approve 0.35, review 0.4
    where = effect & (city == "z") & (group == "B")
    cumulative = np.where(where[:, None], planted, base)
    pick = (rng.random(n)[:, None] > cumulative).sum(axis=1)
    decision = np.array(["approve", "review", "decline"])[pick]
    return {"group": group, "city": city, "device": device, "decision": decision}


def _investigate(d: dict[str, np.ndarray]) -> Investigation:
    return find_associations(
        d["decision"],
        sensitive_features=d["group"],
        context={"city": d["city"], "device": d["device"]},
        max_depth=2,
    )


def test_find_associations_with_a_categorical_output() -> None:
    res = _investigate(_decisions(30_000, 0, effect=True))
    assert res.parameters["outcome"] == "categorical"
    assert res.parameters["classes"] == ["approve", "decline", "review"]
    assert res.findings.context == ("city = z",)
    assert res.findings.group == ("B",)  # two groups: one test, of the smaller group
    assert res.findings.measure == ("nmi",)
    assert res.findings.label in (("approve",), ("review",))
    assert res.findings.difference_lower[0] > 0
    assert set(res.hypotheses.measure) == {"nmi"}
    record = res.to_dict()["findings"][0]
    assert record["measure"] == "nmi" and record["label"] == res.findings.label[0]


def test_categorical_null_twin_shows_nothing() -> None:
    assert len(_investigate(_decisions(30_000, 1, effect=False)).findings) == 0


def test_categorical_association_explained_by_a_stratum() -> None:
    """Group B lives mostly in city z, where everyone is sent to review more often."""
    rng = np.random.default_rng(3)
    n = 30_000
    group = rng.choice(["A", "B"], n, p=[0.7, 0.3])
    city = np.where(rng.random(n) < np.where(group == "B", 0.7, 0.2), "z", "x")
    device = rng.choice(["phone", "laptop"], n)
    cumulative = np.where((city == "z")[:, None], [0.35, 0.75, 1.0], [0.55, 0.75, 1.0])
    pick = (rng.random(n)[:, None] > cumulative).sum(axis=1)
    decision = np.array(["approve", "review", "decline"])[pick]
    crude = find_associations(decision, sensitive_features=group, context={"device": device})
    assert crude.findings.context[0] == "everyone"
    explained = find_associations(
        decision, sensitive_features=group, context={"device": device}, explanatory=city
    )
    assert len(explained.findings) == 0
    assert "everyone" in explained.explained.context


def test_categorical_output_bad_input() -> None:
    rng = np.random.default_rng(0)
    n = 400
    group = rng.choice(["A", "B"], n)
    ctx = {"c": rng.choice(["x", "y"], n)}
    with pytest.raises(DataValidationError, match="single class"):
        find_associations(np.array(["a"] * n), sensitive_features=group, context=ctx)
    many = np.array([f"class{i}" for i in rng.integers(0, 80, n)])
    with pytest.raises(InvalidParameterError, match="at most 50 classes"):
        find_associations(many, sensitive_features=group, context=ctx)


def test_numeric_classes_forced_categorical() -> None:
    d = _decisions(30_000, 0, effect=True)
    codes = np.unique(d["decision"], return_inverse=True)[1] + 1  # 1, 2, 3
    forced = find_associations(
        codes,
        sensitive_features=d["group"],
        context={"city": d["city"]},
        outcome="categorical",
        max_depth=1,
    )
    assert forced.findings.context == ("city = z",)
    assert forced.parameters["classes"] == ["1", "2", "3"]
