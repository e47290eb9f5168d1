"""What the TD3 authors' published learning curves give at a number of environment steps, and
how far this package's runs are from them.

    git clone https://github.com/sfujim/TD3 /tmp/TD3
    python benchmarks/td3_reference.py /tmp/TD3/learning_curves [--steps 100000 200000 300000]
    python benchmarks/td3_reference.py /tmp/TD3/learning_curves --steps 300000 \
        --ours "Hopper=benchmarks/runs/td3_hopper_seed*_progress.csv" ...

The repository's learning_curves/<Task>/TD3_<Task>-v1_<seed>.npy files (the TD3 paper's runs:
MuJoCo -v1 tasks, 10 seeds) hold the deterministic evaluation return every 5,000 environment
steps, index 0 being before training. Prints, per task and step, the mean over the seeds and
every seed. With --ours TASK=GLOB (TASK as the authors' folder names it: HalfCheetah, Hopper,
Walker), it also sets this package's evaluations at the first of --steps (the progress.csv row
at that TotalEnvSteps, one file per seed) beside the authors', with 95% bootstrap intervals of
both means and of their difference, and a two-sided permutation test of "same mean": with 3
to 10 seeds of returns spread over thousands, only a difference outside the noise is evidence.
"""
import argparse
import csv
import glob
import os
import re
import sys

import numpy as np

EVAL_EVERY = 5000
RESAMPLES = 20000  # bootstrap and permutation draws: the intervals move by a few units at most


def bootstrap_interval(values: np.ndarray, rng: np.random.Generator) -> tuple:
    """The 2.5 and 97.5 percentiles of the mean over resamples of `values` with replacement."""
    means = rng.choice(values, size=(RESAMPLES, len(values))).mean(axis=1)
    return tuple(np.percentile(means, [2.5, 97.5]))


def difference_interval(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> tuple:
    """The 95% bootstrap interval of mean(a) - mean(b), each resampled on its own."""
    diff = (rng.choice(a, size=(RESAMPLES, len(a))).mean(axis=1)
            - rng.choice(b, size=(RESAMPLES, len(b))).mean(axis=1))
    return tuple(np.percentile(diff, [2.5, 97.5]))


def permutation_p(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> float:
    """Two-sided p-value of |mean(a) - mean(b)| when the labels of the pooled values are
    shuffled (the chance of a gap this large if both came from one distribution)."""
    pooled = np.concatenate([a, b])
    observed = abs(a.mean() - b.mean())
    shuffled = np.array([rng.permutation(pooled) for _ in range(RESAMPLES)])
    gaps = np.abs(shuffled[:, :len(a)].mean(axis=1) - shuffled[:, len(a):].mean(axis=1))
    return float((np.sum(gaps >= observed - 1e-9) + 1) / (RESAMPLES + 1))


def compare(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> list:
    """The cells of a comparison row: "seeds, mean [95%]" of a and of b, the difference
    a - b with its 95% interval, and the permutation p."""
    lo, hi = bootstrap_interval(a, rng)
    blo, bhi = bootstrap_interval(b, rng)
    dlo, dhi = difference_interval(a, b, rng)
    return [f"{len(a)}, {a.mean():.0f} [{lo:.0f}, {hi:.0f}]",
            f"{len(b)}, {b.mean():.0f} [{blo:.0f}, {bhi:.0f}]",
            f"{a.mean() - b.mean():.0f} [{dlo:.0f}, {dhi:.0f}]",
            f"{permutation_p(a, b, rng):.3f}"]


def at_step(curves, step: int) -> np.ndarray:
    """The authors' evaluations at `step`, one per seed whose curve reaches it."""
    k = step // EVAL_EVERY
    return np.array([float(c[k]) for c in curves if len(c) > k])


def our_returns(pattern: str, step: int) -> np.ndarray:
    """Evaluation/AverageReturn at TotalEnvSteps == step of each progress.csv matching pattern."""
    values = []
    for path in sorted(glob.glob(pattern)):
        with open(path, newline="") as f:
            rows = [r for r in csv.DictReader(f) if int(float(r["TotalEnvSteps"])) == step]
        if rows:
            values.append(float(rows[0]["Evaluation/AverageReturn"]))
    return np.array(values)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("curves_dir", help="learning_curves/ of github.com/sfujim/TD3")
    parser.add_argument("--steps", type=int, nargs="+", default=[100000, 200000, 300000])
    parser.add_argument("--ours", nargs="*", default=[], metavar="TASK=GLOB",
                        help="this package's progress.csv files of one task (one per seed)")
    parser.add_argument("--label", default="this package",
                        help="what the --ours runs are, for the table's header")
    args = parser.parse_args()
    files = sorted(glob.glob(os.path.join(args.curves_dir, "*", "TD3_*_*.npy")))
    if not files:
        print(f"error: no TD3_<task>_<seed>.npy files under {args.curves_dir}", file=sys.stderr)
        return 2
    tasks = {}
    for path in files:
        match = re.match(r"TD3_(.+)_(\d+)\.npy$", os.path.basename(path))
        if match:
            folder = os.path.basename(os.path.dirname(path))
            tasks.setdefault(folder, (match.group(1), []))[1].append(np.load(path))
    ours_args = [item.partition("=")[::2] for item in args.ours]  # (TASK, GLOB) pairs
    for (folder, pattern), item in zip(ours_args, args.ours):  # checked before any output
        if folder not in tasks or not pattern:
            print(f"error: --ours {item!r}: expected TASK=GLOB with TASK one of "
                  f"{', '.join(sorted(tasks))}", file=sys.stderr)
            return 2
    print("| task | env steps | seeds | mean | per seed |")
    print("| --- | --- | --- | --- | --- |")
    for folder, (task, curves) in sorted(tasks.items()):
        for step in args.steps:
            values = at_step(curves, step)
            if len(values):
                print(f"| {task} | {step} | {len(values)} | {np.mean(values):.0f} | "
                      f"{', '.join(f'{v:.0f}' for v in values)} |")
    if not args.ours:
        return 0
    step = args.steps[0]
    rng = np.random.default_rng(0)
    print(f"\nAt {step} environment steps (95% bootstrap intervals):\n")
    print(f"| task | {args.label}: seeds, mean [95%] | TD3 authors: seeds, mean [95%] "
          "| difference [95%] | permutation p |")
    print("| --- | --- | --- | --- | --- |")
    for (folder, pattern), item in zip(ours_args, args.ours):
        ours, theirs = our_returns(pattern, step), at_step(tasks[folder][1], step)
        if len(ours) < 2 or len(theirs) < 2:
            print(f"error: --ours {item!r}: fewer than 2 runs (ours or the authors') have an "
                  f"evaluation at step {step}", file=sys.stderr)
            return 2
        print(f"| {folder} | {' | '.join(compare(ours, theirs, rng))} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
