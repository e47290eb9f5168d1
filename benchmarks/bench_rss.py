"""Memory over a long run: process RSS after every epoch, once the replay buffer is full.

    python benchmarks/bench_rss.py [--steps 200000] [--buffer_size 50000] [--output_dir DIR]

Trains on Pendulum-v1 with the real trainer (evaluation, checkpoints and full training states
included, a state every 2 epochs) for `steps` env steps with a buffer that fills after
`buffer_size`; prints RSS (VmRSS) after every epoch and the growth between the first epoch with
a full buffer and the last.
"""
import argparse
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import src.runtime  # noqa: E402,F401  (before mindspore)


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200_000)
    parser.add_argument("--buffer_size", type=int, default=50_000)
    parser.add_argument("--output_dir", default="")
    args = parser.parse_args()
    from src.config import load_config
    from src.runtime import init_mindspore
    from src.trainer import Trainer
    out = args.output_dir or tempfile.mkdtemp(prefix="bench_rss_")
    epoch_steps = 10_000
    cfg, _ = load_config(["--output_dir", out, "--n_epochs", str(args.steps // epoch_steps),
                          "--steps_per_epoch", "10", "--env_steps_per_cycle", "1000",
                          "--n_train_steps", "20", "--buffer_size", str(args.buffer_size),
                          "--policy_hidden_sizes", "[64, 64]", "--qf_hidden_sizes", "[64, 64]",
                          "--eval_episodes", "1", "--save_every_epochs", "2",
                          "--progress_bar", "false"])
    init_mindspore("CPU", 0, 0)
    samples = []

    class Recording(Trainer):
        def _checked_stats(self, *a):  # called once per epoch, after its cycles
            stats = super()._checked_stats(*a)
            samples.append((self.env_steps, len(self.buffer), rss_mib()))
            return stats

    trainer = Recording(cfg)
    import contextlib
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        trainer.train()
    trainer.close()
    print("| env steps | buffer | RSS MiB |\n| --- | --- | --- |")
    for steps, size, rss in samples:
        print(f"| {steps} | {size} | {rss:.1f} |")
    full = [s for s in samples if s[1] == args.buffer_size]
    if len(full) >= 2:
        print(f"\nRSS growth from {full[0][0]} to {full[-1][0]} env steps (buffer full): "
              f"{full[-1][2] - full[0][2]:+.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
