"""Two sets of runs at one number of environment steps: is the gap between their means noise?

    python benchmarks/compare_runs.py --step 300000 \
        "A=benchmarks/runs/authors_td3_paper_walker2d_seed*_progress.csv" \
        "B=benchmarks/runs/td3_paper_walker2d_seed*_progress.csv" [C=GLOB D=GLOB ...]

The LABEL=GLOB items are taken in pairs (first against second, third against fourth, ...); each
GLOB names progress.csv files (train.py's, or a peer driver's), one per seed, and each run gives
its Evaluation/AverageReturn at TotalEnvSteps == --step. Each pair becomes a row: both means
with 95% bootstrap intervals, the difference's interval and a two-sided permutation p, computed
as benchmarks/td3_reference.py does against the TD3 authors' published curves.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from td3_reference import compare, our_returns  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", type=int, required=True, help="TotalEnvSteps to compare at")
    parser.add_argument("groups", nargs="+", metavar="LABEL=GLOB")
    args = parser.parse_args()
    groups = [item.partition("=")[::2] for item in args.groups]
    if len(groups) % 2 or any(not label or not pattern for label, pattern in groups):
        print("error: expected pairs of LABEL=GLOB items", file=sys.stderr)
        return 2
    values = [our_returns(pattern, args.step) for _, pattern in groups]
    for (label, pattern), v in zip(groups, values):
        if len(v) < 2:
            print(f"error: {label}: fewer than 2 files matching {pattern} have an evaluation "
                  f"at step {args.step}", file=sys.stderr)
            return 2
    rng = np.random.default_rng(0)
    print(f"At {args.step} environment steps (95% bootstrap intervals):\n")
    print("| A: seeds, mean [95%] | B: seeds, mean [95%] | A - B [95%] | permutation p |")
    print("| --- | --- | --- | --- |")
    for i in range(0, len(groups), 2):
        (la, _), (lb, _), a, b = groups[i], groups[i + 1], values[i], values[i + 1]
        cells = compare(a, b, rng)
        print(f"| {la}: {cells[0]} | {lb}: {cells[1]} | {cells[2]} | {cells[3]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
