"""On data with no planted effect reports stay empty (see benchmarks/associations_quality.py)."""

from __future__ import annotations

import pytest

from seawall.associations import find_associations, profile_errors
from seawall.datasets import make_slices

SEEDS = range(20)


@pytest.mark.slow
def test_null_twins_show_no_finding() -> None:
    with_findings = []
    for seed in SEEDS:
        d = make_slices(50_000, effects="null", random_state=100 + seed)
        f = d.frame
        ctx = f[list(d.context_columns)]
        errors = profile_errors(
            f["y_true"], f["y_pred"], context=ctx, sensitive_features=f["group"], random_state=seed
        )
        output = find_associations(
            f["y_pred"], sensitive_features=f["group"], context=ctx, random_state=seed
        )
        if len(errors.findings) or len(output.findings):
            with_findings.append(seed)
    # A false finding needs a false positive in the search (Bonferroni over every
    # context, at alpha) and then in the confirmation (at alpha): about alpha^2 =
    # 0.25% per report at most, and far less as Bonferroni over correlated contexts
    # is conservative. benchmarks/associations_quality.py runs 100 seeds.
    assert with_findings == []
