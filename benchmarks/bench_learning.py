"""Learning benchmark: one config over several seeds, a table and the curves.

    python benchmarks/bench_learning.py [--seeds 0 1 2 3 4] [--out benchmarks/results/learning]
        [-- extra train.py options]
    python benchmarks/bench_learning.py --seeds 0 1 2 --out benchmarks/results/halfcheetah \
        -- --config_path config/halfcheetah_v5.yaml          # MuJoCo (requirements-mujoco.txt)

Trains with train.py once per seed (by default the default config: Pendulum-v1, 20,000 env
steps), then prints a per-seed table of the last epoch's deterministic evaluation (and of the
mean of the last three, less noisy), the best evaluation of the run and where it came (the TD3
paper's Table 1 averages each run's best), train.py's closing eval.py avgReward from
OUT/seed_N.log, and their means and standard deviations over the seeds, then the mean over
the seeds of the evaluations in blocks of --block epochs (is a run still rising where it stops?
a last block shorter than that, or past the shortest seed's end, is left out);
writes both as Markdown to <out>/learning.md, and draws the mean +- std learning curve over the
seeds to <out>/curves.png. The wall-clock column is the training run's own WallTime (its last
progress.csv row).

    python benchmarks/bench_learning.py --seeds 0 1 2 --out DIR --collect

only tabulates and plots runs already in DIR/seed_N (for example seeds trained by separate
invocations, one per core, and moved there); eval.py's avgReward comes from DIR/seed_N.log or,
for the runs committed under benchmarks/runs, from DIR/seed_N/final.txt (the log's last lines).
"""
import argparse
import csv
import os
import subprocess
import sys
import time
from typing import NamedTuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class SeedRow(NamedTuple):
    """One seed's line of the table."""
    seed: int
    env_steps: int
    final: float       # the last epoch's evaluation (online actor)
    final_sd: float    # its std over the evaluation episodes
    last3: float       # mean of the last 3 evaluations
    eval_py: float     # train.py's closing eval.py avgReward (actor-target); NaN if not logged
    wall: float        # the run's own WallTime, seconds
    best: float        # the best evaluation of the run
    best_steps: int    # the env steps it came at


def train(seed: int, run_dir: str, out: str, extra) -> None:
    cmd = [sys.executable, os.path.join(ROOT, "train.py"), "--seed", str(seed),
           "--output_dir", run_dir, "--progress_bar", "false"] + extra
    os.makedirs(out, exist_ok=True)
    start = time.perf_counter()
    with open(os.path.join(out, f"seed_{seed}.log"), "w") as log:
        subprocess.run(cmd, check=True, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    print(f"seed {seed}: process {time.perf_counter() - start:.0f} s", flush=True)


def final_avg_reward(*log_paths: str) -> float:
    """The eval.py avgReward that train.py prints last, from the first of `log_paths` that has
    one (a run's whole log, or the final.txt kept beside a committed run); NaN if none has."""
    for log_path in log_paths:
        try:
            with open(log_path, encoding="utf-8", errors="replace") as f:
                found = [line for line in f if "as eval.py: avgReward:" in line]
        except OSError:
            continue
        if found:
            return float(found[-1].rsplit(":", 1)[1])
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results", "learning"))
    parser.add_argument("--collect", action="store_true",
                        help="do not train: tabulate the runs already in OUT/seed_N")
    parser.add_argument("--block", type=int, default=10,
                        help="epochs per block in the table of block means")
    parser.add_argument("extra", nargs=argparse.REMAINDER,
                        help="options passed on to train.py (after --)")
    args = parser.parse_args()
    extra = [a for a in args.extra if a != "--"]
    if args.block < 1:
        print(f"error: --block must be at least 1, got {args.block}", file=sys.stderr)
        return 2
    rows, curves = [], []
    for seed in args.seeds:
        run_dir = os.path.join(args.out, f"seed_{seed}")
        if not args.collect:
            train(seed, run_dir, args.out, extra)
        csv_path = os.path.join(run_dir, "progress.csv")
        if not os.path.isfile(csv_path):
            print(f"error: no {csv_path}: train seed {seed} first (without --collect)",
                  file=sys.stderr)
            return 2
        with open(csv_path, newline="") as f:
            table = list(csv.DictReader(f))
        last = table[-1]
        returns = [float(r["Evaluation/AverageReturn"]) for r in table]
        curves.append([(int(r["TotalEnvSteps"]), v) for r, v in zip(table, returns)])
        best = max(range(len(table)), key=returns.__getitem__)  # the first if tied
        row = SeedRow(seed, int(last["TotalEnvSteps"]), returns[-1],
                      float(last["Evaluation/StdReturn"]), sum(returns[-3:]) / len(returns[-3:]),
                      final_avg_reward(os.path.join(args.out, f"seed_{seed}.log"),
                                       os.path.join(run_dir, "final.txt")),
                      float(last["WallTime"]), returns[best], int(table[best]["TotalEnvSteps"]))
        rows.append(row)
        print(f"seed {seed}: {row.env_steps} env steps, return {row.final:.1f} +- "
              f"{row.final_sd:.1f}, {row.wall:.0f} s", flush=True)

    def mean_sd(values):
        values = [v for v in values if v == v]  # drop NaN (no eval.py number in the log)
        if not values:
            return "-"
        m = sum(values) / len(values)
        sd = (sum((v - m) ** 2 for v in values) / len(values)) ** 0.5
        return f"{m:.1f} (sd {sd:.1f})" if len(values) > 1 else f"{m:.1f}"

    lines = ["| seed | env steps | final evaluation (online actor) | std over its episodes "
             "| mean of the last 3 evaluations | best evaluation (at env steps) "
             "| eval.py avgReward (actor-target) | training wall-clock (s) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r.seed} | {r.env_steps} | {r.final:.1f} | {r.final_sd:.1f} | {r.last3:.1f} "
              f"| {r.best:.1f} ({r.best_steps}) | "
              f"{'-' if r.eval_py != r.eval_py else f'{r.eval_py:.1f}'} | {r.wall:.0f} |"
              for r in rows]
    lines.append(f"| mean over seeds | | {mean_sd([r.final for r in rows])} | "
                 f"| {mean_sd([r.last3 for r in rows])} | {mean_sd([r.best for r in rows])} "
                 f"| {mean_sd([r.eval_py for r in rows])} "
                 f"| {sum(r.wall for r in rows) / len(rows):.0f} |")
    lines += ["", f"Evaluations in blocks of {args.block} epochs, each seed's mean over the block, "
              "then the mean over the seeds:", "",
              "| env steps | mean over seeds (sd) |", "| --- | --- |"]
    shortest = min(len(c) for c in curves)  # seeds stopped at other epochs: their common part
    for start in range(0, shortest - args.block + 1, args.block):
        block = [c[start:start + args.block] for c in curves]
        lines.append(f"| {block[0][0][0]}-{block[0][-1][0]} "
                     f"| {mean_sd([sum(v for _, v in b) / len(b) for b in block])} |")
    table = "\n".join(lines)
    print(table)
    with open(os.path.join(args.out, "learning.md"), "w") as f:
        f.write(f"command: python benchmarks/bench_learning.py {' '.join(sys.argv[1:])}\n\n")
        f.write(table + "\n")
    sys.path.insert(0, ROOT)
    from src.config import algorithm_name, load_config
    from src.plotting import plot_curves, read_rows
    first = os.path.join(args.out, f"seed_{args.seeds[0]}", "config.yaml")
    if os.path.isfile(first):  # the run's own settings name the algorithm and the task
        run_cfg = load_config(["--config_path", first])[0]
        title = f"{algorithm_name(run_cfg)} on {run_cfg.env_id}"
    else:
        title = "DDPG " + " ".join(extra)
    runs = [read_rows(os.path.join(args.out, f"seed_{seed}", "progress.csv"))
            for seed in args.seeds]
    plot_curves({f"seeds {', '.join(map(str, args.seeds))}": runs},
                os.path.join(args.out, "curves.png"), title)
    print(f"wrote {os.path.join(args.out, 'learning.md')} and curves.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
