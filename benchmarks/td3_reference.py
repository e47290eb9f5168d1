"""What the TD3 authors' published learning curves give at a number of environment steps.

    git clone https://github.com/sfujim/TD3 /tmp/TD3
    python benchmarks/td3_reference.py /tmp/TD3/learning_curves [--steps 100000 200000 300000]

The repository's learning_curves/<Task>/TD3_<Task>-v1_<seed>.npy files (the TD3 paper's runs:
MuJoCo -v1 tasks, 10 seeds) hold the deterministic evaluation return every 5,000 environment
steps, index 0 being before training. Prints, per task and step, the mean over the seeds and
every seed, to set this package's 300k-step results beside them.
"""
import argparse
import glob
import os
import re
import sys

import numpy as np

EVAL_EVERY = 5000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("curves_dir", help="learning_curves/ of github.com/sfujim/TD3")
    parser.add_argument("--steps", type=int, nargs="+", default=[100000, 200000, 300000])
    args = parser.parse_args()
    files = sorted(glob.glob(os.path.join(args.curves_dir, "*", "TD3_*_*.npy")))
    if not files:
        print(f"error: no TD3_<task>_<seed>.npy files under {args.curves_dir}", file=sys.stderr)
        return 2
    tasks = {}
    for path in files:
        match = re.match(r"TD3_(.+)_(\d+)\.npy$", os.path.basename(path))
        if match:
            tasks.setdefault(match.group(1), []).append(np.load(path))
    print("| task | env steps | seeds | mean | per seed |")
    print("| --- | --- | --- | --- | --- |")
    for task, curves in sorted(tasks.items()):
        for step in args.steps:
            k = step // EVAL_EVERY
            values = [float(c[k]) for c in curves if len(c) > k]
            if values:
                print(f"| {task} | {step} | {len(values)} | {np.mean(values):.0f} | "
                      f"{', '.join(f'{v:.0f}' for v in values)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
