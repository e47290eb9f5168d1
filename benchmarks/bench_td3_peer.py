"""The peer of a TD3/DDPG preset: Stable-Baselines3 with the preset's settings, on the same task.

    pip install -r requirements-bench.txt -r requirements-mujoco.txt
    python benchmarks/bench_td3_peer.py --config_path config/td3_walker2d_v5.yaml --seed 0 \
        --out DIR [--train_freq 1] [--key value ...]

Reads the preset through this package's config loader (so the numbers are the ones train.py
would use; further --key value pairs override it as on train.py's command line): env, total
steps (n_epochs * steps_per_epoch * env_steps_per_cycle), hidden sizes, learning rates, batch,
tau, discount, random start steps, exploration noise and TD3's three switches (SB3's TD3 with
policy_delay 1 and no target noise is its DDPG). Every steps_per_epoch * env_steps_per_cycle
steps it evaluates the deterministic policy through train.py's own evaluation
(src.evaluation.evaluate: eval_episodes episodes reset with seed + 10000 + i), and writes
DIR/progress.csv with train.py's column names (Epoch, TotalEnvSteps, Evaluation/AverageReturn,
Evaluation/StdReturn, WallTime), so plot.py draws both on one figure.

--train_freq 1 (the default) is SB3's own schedule: one gradient step after every environment
step. --train_freq N collects N steps, then takes N gradient steps, as this package's cycles
do with env_steps_per_cycle = n_train_steps = N: the control for "does the schedule matter".
"""
import argparse
import contextlib
import csv
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from src.evaluation import evaluate  # noqa: E402

COLUMNS = ["Epoch", "TotalEnvSteps", "Evaluation/AverageReturn", "Evaluation/StdReturn",
           "WallTime"]


@contextlib.contextmanager
def progress_csv(out_dir: str):
    """Opens OUT_DIR/progress.csv with train.py's columns and yields write(epoch, env_steps,
    returns), which adds a row of one evaluation's returns (wall-clock from the opening) and
    prints it."""
    os.makedirs(out_dir, exist_ok=True)
    start = time.perf_counter()
    with open(os.path.join(out_dir, "progress.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()

        def write(epoch: int, env_steps: int, returns: np.ndarray) -> None:
            row = {"Epoch": epoch, "TotalEnvSteps": env_steps,
                   "Evaluation/AverageReturn": float(returns.mean()),
                   "Evaluation/StdReturn": float(returns.std()),
                   "WallTime": time.perf_counter() - start}
            writer.writerow(row)
            f.flush()
            print(f"epoch {epoch}: {env_steps} env steps, return "
                  f"{row['Evaluation/AverageReturn']:.1f} +- {row['Evaluation/StdReturn']:.1f}, "
                  f"{row['WallTime']:.0f} s", flush=True)

        yield write


def sb3_policy(model):
    """An SB3 model's deterministic actions as src.evaluation.run_episodes takes a policy."""
    return lambda obs: model.predict(obs, deterministic=True)[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config_path", required=True, help="a preset of config/")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="directory for progress.csv")
    parser.add_argument("--train_freq", type=int, default=1,
                        help="env steps between training phases of as many gradient steps")
    args, overrides = parser.parse_known_args()  # the rest: train.py settings, --key value
    from src.config import algorithm_name, load_config
    from src.errors import UserError
    try:
        cfg = load_config(["--config_path", args.config_path, "--seed", str(args.seed),
                           *overrides])[0]
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if cfg.exploration != "gaussian" or cfg.noise_decay_ratio > 0 or cfg.num_envs != 1:
        print("error: the peer runs constant Gaussian exploration with one env only",
              file=sys.stderr)
        return 2
    if cfg.policy_hidden_sizes != cfg.qf_hidden_sizes or cfg.qf_action_layer != 0 \
            or cfg.policy_lr != cfg.qf_lr or cfg.reward_scale != 1.0:
        print("error: SB3's TD3 takes one net_arch, one learning rate, the action at the "
              "critic's input and unscaled rewards; the preset differs", file=sys.stderr)
        return 2
    import gymnasium as gym
    import torch
    from stable_baselines3 import TD3
    from stable_baselines3.common.noise import NormalActionNoise

    torch.set_num_threads(1)  # one core per run, like train.py pinned with taskset
    env, eval_env = gym.make(cfg.env_id), gym.make(cfg.env_id)
    half = (env.action_space.high - env.action_space.low) / 2.0
    model = TD3(
        "MlpPolicy", env, learning_rate=cfg.policy_lr, buffer_size=cfg.buffer_size,
        learning_starts=max(cfg.start_steps, cfg.min_buffer_size),
        batch_size=cfg.buffer_batch_size, tau=cfg.target_update_tau, gamma=cfg.discount,
        train_freq=args.train_freq, gradient_steps=args.train_freq,
        action_noise=NormalActionNoise(np.zeros_like(half), cfg.noise_sigma * half),
        policy_delay=cfg.policy_delay, target_policy_noise=cfg.target_policy_noise,
        target_noise_clip=cfg.target_noise_clip,
        policy_kwargs={"net_arch": list(cfg.policy_hidden_sizes),
                       "n_critics": 2 if cfg.twin_critics else 1},
        seed=cfg.seed, verbose=0, device="cpu")
    epoch_steps = cfg.steps_per_epoch * cfg.env_steps_per_cycle
    print(f"SB3 TD3 class as {algorithm_name(cfg)} on {cfg.env_id}, seed {cfg.seed}, "
          f"train_freq {args.train_freq}", flush=True)
    with progress_csv(args.out) as write:
        for epoch in range(cfg.n_epochs):
            model.learn(total_timesteps=epoch_steps, reset_num_timesteps=False)
            write(epoch, model.num_timesteps,
                  np.asarray(evaluate(sb3_policy(model), eval_env, cfg)["returns"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
