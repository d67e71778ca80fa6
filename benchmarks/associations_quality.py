"""Do investigations find what was planted, and nothing on data with no effect?

On ``seawall.datasets.make_slices`` data (ten categorical context attributes and
a numeric one; planted: a large mild weak slice, ~4% of rows, +0.15 error; a
small strong one, ~0.5% of rows, +0.30; an error disparity for group B in one
context; an output association for group B in another; and an association of
the output with group over the whole population that qualification explains),
with the library's defaults (depth 3, alpha 0.05, Holm):

* **recall**: the share of seeds in which every planted effect is shown as a
  finding with exactly its context (and group);
* **unrelated findings**: findings whose rows lie mostly (more than half)
  outside every planted context, per report;
* **explained**: with ``qualification`` as explanatory attribute, the
  whole-population association is listed as explained and not as a finding;
* **null twins** (same features, no effect): the share of seeds whose reports
  show no finding at all (target: at least 95 of 100).

Run::

    PYTHONPATH=src python benchmarks/associations_quality.py --null-seeds 100 \\
        --planted-seeds 10 --rows 100000 --large-rows 1000000 --large-seeds 3
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from seawall.associations import Investigation, find_associations, profile_errors
from seawall.datasets import PlantedData, make_slices


def _context_text(effect: Any) -> str:
    return " and ".join(f"{c} = {v}" for c, v in effect.context) or "everyone"


def _mask(frame: Any, context_text: str) -> np.ndarray[Any, Any]:
    mask = np.ones(len(frame), dtype=bool)
    if context_text == "everyone":
        return mask
    for cond in context_text.split(" and "):
        col, _, value = cond.partition(" = ")
        mask &= frame[col].astype(str).to_numpy() == value
    return mask


def _unrelated(data: PlantedData, res: Investigation) -> int:
    frame = data.frame
    planted = [_mask(frame, _context_text(e)) for e in data.effects if e.context]
    count = 0
    for ctx in res.findings.context:
        rows = _mask(frame, ctx)
        inside = max((float((rows & p).sum()) / max(rows.sum(), 1)) for p in planted)
        count += inside <= 0.5 and ctx != "everyone"
    return count


def _run(data: PlantedData, seed: int) -> dict[str, Any]:
    f = data.frame
    ctx = f[list(data.context_columns)]
    t0 = time.perf_counter()
    errors = profile_errors(
        f["y_true"], f["y_pred"], context=ctx, sensitive_features=f["group"], random_state=seed
    )
    t1 = time.perf_counter()
    output = find_associations(
        f["y_pred"], sensitive_features=f["group"], context=ctx, random_state=seed
    )
    t2 = time.perf_counter()
    explained = find_associations(
        f["y_pred"],
        sensitive_features=f["group"],
        context=ctx,
        explanatory=f["qualification"],
        random_state=seed,
    )
    t3 = time.perf_counter()
    e_find, o_find = errors.findings, output.findings
    shown_errors = set(zip(e_find.kind, e_find.context, e_find.group, strict=True))
    shown_output = set(zip(o_find.context, o_find.group, strict=True))
    found: dict[str, bool] = {}
    for e in data.effects:
        text = _context_text(e)
        if e.kind == "weak_slice":
            found[f"weak slice {text}"] = ("weak_slice", text, "") in shown_errors
        elif e.kind == "error_disparity":
            found[f"error disparity {text}"] = ("error_disparity", text, e.group) in shown_errors
        elif e.kind == "output_association":
            found[f"output association {text}"] = (text, e.group) in shown_output
        elif e.kind == "explained_association":
            found["explained association (found without strata)"] = (text, e.group) in shown_output
            found["explained association (explained with strata)"] = (
                text in explained.explained.context and text not in explained.findings.context
            )
    return {
        "found": found,
        "n_findings": [len(errors.findings), len(output.findings), len(explained.findings)],
        "unrelated": [
            _unrelated(data, errors),
            _unrelated(data, output),
            _unrelated(data, explained),
        ],
        "seconds": [t1 - t0, t2 - t1, t3 - t2],
    }


def planted_job(args: tuple[int, int]) -> dict[str, Any]:
    rows, seed = args
    return {"rows": rows, "seed": seed, **_run(make_slices(rows, random_state=seed), seed)}


def null_job(args: tuple[int, int]) -> dict[str, Any]:
    rows, seed = args
    data = make_slices(rows, effects="null", random_state=seed)
    out = _run(data, seed)
    return {"rows": rows, "seed": seed, "n_findings": out["n_findings"], "seconds": out["seconds"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--null-seeds", type=int, default=100)
    parser.add_argument("--planted-seeds", type=int, default=10)
    parser.add_argument("--large-rows", type=int, default=1_000_000)
    parser.add_argument("--large-seeds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    jobs = [(args.rows, s) for s in range(args.planted_seeds)]
    jobs += [(args.large_rows, s) for s in range(args.large_seeds)]
    start = time.perf_counter()
    with mp.get_context("spawn").Pool(args.workers) as pool:
        planted = pool.map(planted_job, jobs)
        null = pool.map(null_job, [(args.rows, s) for s in range(args.null_seeds)])
    print(
        "planted data (library defaults: depth 3, alpha 0.05, Holm); "
        f"{time.perf_counter() - start:.0f} s"
    )
    for rows in sorted({r["rows"] for r in planted}):
        runs = [r for r in planted if r["rows"] == rows]
        print(f"\n{rows:,} rows, {len(runs)} seeds")
        for name in runs[0]["found"]:
            hits = sum(r["found"][name] for r in runs)
            print(f"  {name:60s} found in {hits}/{len(runs)}")
        unrelated = np.array([r["unrelated"] for r in runs])
        print(
            "  unrelated findings per report (errors / output / output+explanatory): "
            f"max {unrelated.max(axis=0).tolist()}, total {unrelated.sum(axis=0).tolist()}"
        )
        secs = np.array([r["seconds"] for r in runs])
        print(
            "  median seconds (errors / output / output+explanatory): "
            f"{np.median(secs, axis=0).round(2).tolist()}"
        )
    clean = [all(n == 0 for n in r["n_findings"]) for r in null]
    per_report = np.array([r["n_findings"] for r in null])
    print(
        f"\nnull twins, {args.rows:,} rows: {sum(clean)}/{len(null)} seeds show no finding "
        "in any of the three reports"
    )
    print(
        "  seeds with a finding per report (errors / output / output+explanatory): "
        f"{(per_report > 0).sum(axis=0).tolist()}"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps({"planted": planted, "null": null}, indent=1, default=float)
        )


if __name__ == "__main__":
    main()
