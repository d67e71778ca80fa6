"""Time ``discover_labels`` end to end on 1M tagged items x 10^4 labels.

The DESIGN target: label x group discovery over 1,000,000 items and 10,000 labels
for the whole population in at most 5 s (FairTest, the peer, is Python 2 and does
not scale to this; there is nothing to run it against). The data come from
``seawall.datasets.make_tagging`` (planted: a rare offensive tag for one group in
one context, an association explained by region, a benign one), the time covers
the split, the sparse counts, Tarone's bound, the tests, the confirmation and the
result. ``--depth 1`` adds the contexts of one condition over region, device,
topic and time of day.

Run::

    PYTHONPATH=src python benchmarks/bench_discover.py --items 1000000 --labels 10000
"""

from __future__ import annotations

import argparse
import os
import resource
import time

from seawall.associations import discover_labels
from seawall.datasets import make_tagging


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--labels", type=int, default=10_000)
    parser.add_argument("--depth", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} at start")
    for effects in ("planted", "null"):
        t0 = time.perf_counter()
        d = make_tagging(args.items, args.labels, effects=effects, random_state=args.seed)
        gen = time.perf_counter() - t0
        context = d.frame[list(d.context_columns)] if args.depth else None
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            res = discover_labels(
                d.tags,
                sensitive_features=d.frame["user_group"],
                context=context,
                max_depth=args.depth,
                label_names=d.tag_names,
                sensitive_labels=d.sensitive_tags,
                random_state=args.seed,
            )
            times.append(time.perf_counter() - t0)
        found = list(zip(res.findings.label, res.findings.context, res.findings.group, strict=True))
        print(
            f"{effects:8s} {args.items:,} items x {args.labels:,} labels, depth {args.depth}: "
            f"best {min(times):.2f} s of {args.repeat} (data generated in {gen:.2f} s); "
            f"{res.parameters['hypotheses_tested']:,} of {res.parameters['hypotheses_counted']:,} "
            f"hypotheses tested; findings {found}"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MiB (data included); load average {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
