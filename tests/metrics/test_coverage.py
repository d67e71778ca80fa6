"""Coverage of the 95% intervals: a reduced version of ``benchmarks/interval_coverage.py``.

Requirement: nominal 95% intervals cover the true value in 93.5-96.5% of draws,
for groups as small as 30 rows. The data model, the truths and the scenarios
are those of the benchmark (imported from it, so there is one definition):
two groups A (reference) and B of ``n`` rows each, binormal latent scores, a
threshold decision, known TPR / FPR / selection rate / precision / AUC.

Two kinds of check:

* ``test_interval_kernel_exact_coverage``: the exact coverage of Seawall's
  Wilson / Newcombe / Katz kernels, summed over the binomial (mixture)
  distribution of the counts. No Monte Carlo error, so the band is exactly
  [93.5%, 96.5%]. Known misses are strict xfails with the measured value.
* ``test_group_metrics_coverage``: end to end through ``group_metrics`` on
  simulated draws, closed-form intervals at n = 30 and 100 and the bootstrap
  AUC and ECE at n = 100. The band allows for Monte Carlo error (see ``_band``).
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from scipy import stats

ROOT = Path(__file__).resolve().parents[2]


def _load_benchmark() -> ModuleType:
    # Loaded by path: benchmarks/ is not a package.
    name = "seawall_benchmark_coverage"
    if name in sys.modules:
        return sys.modules[name]
    path = ROOT / "benchmarks" / "interval_coverage.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


bench = _load_benchmark()

LOW, HIGH = bench.BAND
SEED = 20240611
SIZES = (30, 100)
DRAWS = 800  # closed-form intervals, per size
AUC_DRAWS = 400  # bootstrap AUC and ECE at n = 100
AUC_BOOTSTRAP = 200  # replicates per draw (the benchmark uses 1000)
AUC_SIZE = 100

# ------------------------------------------------------------------ exact coverage
# (kind, metric, scenario, design, n) -> reason, for the known misses.
EXACT_KNOWN_MISSES = {
    ("katz", "tpr", "gap", "rows", 30): "92.83%: few events in B (~3.8 TP of ~7.5 positives)",
    ("katz", "precision", "gap", "rows", 30): "91.06%: ~6 predicted positives in B",
    ("katz", "fpr", "gap", "rows", 30): "99.30%: ~2.6 FP in B, log-scale Katz is conservative",
    ("katz", "selection_rate", "gap", "rows", 30): "96.74%: conservative with ~6 selected in B",
    ("katz", "fpr", "gap", "ystrat", 30): "98.60%: ~3.5 FP in B",
    ("katz", "fpr", "null", "rows", 30): "99.31%: ~2.9 FP per group",
    ("newcombe", "tpr", "null", "rows", 30): "96.99%: Newcombe is conservative at p1 = p2",
    ("wilson", "fpr[B]", "gap", "ystrat", 30): (
        "92.43%: lattice effect, FPR 0.1151 sits just above Wilson's upper limit at x=0 (0.1135)"
    ),
}


def _exact_cases() -> list[Any]:
    cases = []
    for n in SIZES:
        for metric in bench.PROPORTIONS:
            for g in ("A", "B"):
                cases.append(("wilson", f"{metric}[{g}]", "gap", "rows", n))
            if n == 30:  # the rows-design mixture at n = 100 takes ~1 s per case
                for kind in ("newcombe", "katz"):
                    cases.append((kind, metric, "gap", "rows", n))
                    cases.append((kind, metric, "null", "rows", n))
        for metric in ("tpr", "fpr"):
            for g in ("A", "B"):
                cases.append(("wilson", f"{metric}[{g}]", "gap", "ystrat", n))
            for kind in ("newcombe", "katz"):
                cases.append((kind, metric, "gap", "ystrat", n))
    out = []
    for case in cases:
        reason = EXACT_KNOWN_MISSES.get(case)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(*case, marks=marks, id="-".join(map(str, case))))
    return out


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "metric", "scenario", "design", "n"), _exact_cases())
def test_interval_kernel_exact_coverage(
    kind: str, metric: str, scenario: str, design: str, n: int
) -> None:
    if kind == "wilson":
        name, group = metric[:-3], metric[-2]
        model = bench.A if group == "A" else bench.B
        coverage = bench.exact_wilson(name, model, n, design)
    else:
        g = bench.B if scenario == "gap" else bench.A
        form = "difference" if kind == "newcombe" else "ratio"
        coverage = bench.exact_pair(metric, form, g, bench.A, n, design)
    assert LOW <= coverage <= HIGH, f"exact coverage {100 * coverage:.2f}%"


# ------------------------------------------------------------- end to end (Monte Carlo)
# Each check compares an observed coverage c_hat over D draws with the band. If the
# true coverage c is inside [93.5%, 96.5%], c_hat ~ Binomial(D, c) / D has standard
# error at most sqrt(c (1 - c) / D) at the band's edge, so c_hat falls below
# 93.5% - z * SE(93.5%) (or above 96.5% + z * SE(96.5%)) with probability
# <= 1 - Phi(z). z is Bonferroni over every check so that the whole test module
# fails by chance with probability <= 1%. At D = 800 that is about [90.3%, 98.9%]:
# the test catches gross failures; the benchmark (2000 draws) and the exact checks
# above resolve the band itself.
GAP = next(s for s in bench.build_scenarios() if s.name == "gap")
# Conservative by design (simultaneous constructions): only the lower edge is asserted.
LOWER_ONLY = {"eo", "spread", "spread-ratio", "eo-spread"}
# Conservative too: A's true ECE is 0, a boundary an equal-tailed interval covers
# at least 97.5% of the time, and the ECE difference is the box of two intervals.
LOWER_ONLY_LABELS = {"boot ece [A]", "boot ece B-A"}
# Katz at n = 30 misses the band (exact, above); 800 draws cannot resolve that.
SKIP_MC = {("katz", 30)}


def _mc_checks() -> list[tuple[str, int]]:
    checks = []
    for n in SIZES:
        for q in GAP.quantities:
            if q.family == "bootstrap" or (q.family, n) in SKIP_MC:
                continue
            checks.append((q.label, n))
    checks += [(f"boot {m} {g}", AUC_SIZE) for m in ("auc", "ece") for g in ("[A]", "[B]", "B-A")]
    return checks


MC_CHECKS = _mc_checks()
Z_BAND = float(stats.norm.ppf(1.0 - 0.01 / (2 * len(MC_CHECKS))))


def _band(draws: int) -> tuple[float, float]:
    lo = LOW - Z_BAND * math.sqrt(LOW * (1 - LOW) / draws)
    hi = HIGH + Z_BAND * math.sqrt(HIGH * (1 - HIGH) / draws)
    return lo, hi


@pytest.fixture(scope="module")
def mc_coverage() -> dict[tuple[str, int], tuple[float, int]]:
    labels = [q.label for q in GAP.quantities]
    out: dict[tuple[str, int], tuple[float, int]] = {}
    # Closed-form intervals: with n_bootstrap=0 no score is passed (bootstrap rows unused).
    codes = bench.simulate_chunk((SEED, range(DRAWS), SIZES, 0, ["gap"]))
    for n in SIZES:
        for i, label in enumerate(labels):
            col = codes[("gap", n)][:, i]
            out[(label, n)] = (float(np.mean(col == bench.COVERED)), DRAWS)
    codes = bench.simulate_chunk((SEED + 1, range(AUC_DRAWS), [AUC_SIZE], AUC_BOOTSTRAP, ["gap"]))
    for i, label in enumerate(labels):
        if label.startswith(("boot auc", "boot ece")):
            col = codes[("gap", AUC_SIZE)][:, i]
            out[(label, AUC_SIZE)] = (float(np.mean(col == bench.COVERED)), AUC_DRAWS)
    return out


@pytest.mark.slow
def test_group_metrics_coverage(mc_coverage: dict[tuple[str, int], tuple[float, int]]) -> None:
    family = {q.label: q.family for q in GAP.quantities}
    failures = []
    for label, n in MC_CHECKS:
        cov, draws = mc_coverage[(label, n)]
        lo, hi = _band(draws)
        if family[label] in LOWER_ONLY or label in LOWER_ONLY_LABELS:
            hi = 1.0
        if not lo <= cov <= hi:
            failures.append(
                f"{label} n={n}: {100 * cov:.2f}% not in [{100 * lo:.2f}, {100 * hi:.2f}]"
            )
    assert not failures, "\n".join(failures)
