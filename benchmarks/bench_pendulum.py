"""End to end on Pendulum-v1: this package vs Stable-Baselines3 DDPG, same recipe, same run.

    pip install -r requirements-bench.txt
    python benchmarks/bench_pendulum.py [--seeds 0 1 2 3 4]

The recipe is rl-baselines3-zoo's DDPG for Pendulum-v1 (config/pendulum_rl_zoo.yaml): 20,000
env steps, gamma 0.98, buffer 200k, 10k random steps before learning, Gaussian noise 0.1,
lr 1e-3, [400, 300], batch 256, one gradient step per env step. For every seed the two
contenders run one after the other (who goes first alternates), each in a fresh process that
trains, then evaluates. "train s" is the training loop alone (SB3's model.learn; this
package's collect/learn cycles, no evaluation in between); "process s" is the whole process:
imports, graph compilation, training and the evaluation. The return is the mean over 20
deterministic episodes after training, on the same start states for both contenders and every
seed: episode i is reset with seed 11000 + i.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRESET = os.path.join(ROOT, "config", "pendulum_rl_zoo.yaml")
# Reset seeds EVAL_START + i, i < EVAL_EPISODES: one set of start states for every run.
EVAL_EPISODES, EVAL_START = 20, 11000


def run_ours(seed: int) -> dict:
    sys.path.insert(0, ROOT)
    import src.runtime  # noqa: F401
    import gymnasium as gym
    from src.config import load_config
    from src.evaluation import EVAL_SEED_OFFSET, run_episodes
    from src.runtime import init_mindspore
    with tempfile.TemporaryDirectory() as out:
        cfg, _ = load_config(["--config_path", PRESET, "--seed", str(seed), "--output_dir", out,
                              "--progress_bar", "false", "--eval_episodes", str(EVAL_EPISODES)])
        init_mindspore(cfg.device_target, cfg.device_id, cfg.seed)
        from src.trainer import Trainer
        trainer = Trainer(cfg)
        start = time.perf_counter()
        trainer.start()
        for _ in range(cfg.n_epochs * cfg.steps_per_epoch):
            trainer.cycle()
        train_s = time.perf_counter() - start
        returns = run_episodes(trainer.learner.act, gym.make("Pendulum-v1"), EVAL_EPISODES,
                               EVAL_START - EVAL_SEED_OFFSET, cfg.discount)["returns"]
        backend = trainer.learner.backend
        trainer.close()
    return {"train_s": train_s, "return": sum(returns) / len(returns), "backend": backend}


def run_sb3(seed: int) -> dict:
    import gymnasium as gym
    import numpy as np
    from stable_baselines3 import DDPG
    from stable_baselines3.common.noise import NormalActionNoise
    env = gym.make("Pendulum-v1")
    model = DDPG("MlpPolicy", env, gamma=0.98, buffer_size=200_000, learning_starts=10_000,
                 action_noise=NormalActionNoise(np.zeros(1), 0.1 * np.ones(1)),
                 learning_rate=1e-3, batch_size=256, train_freq=1, gradient_steps=1,
                 policy_kwargs={"net_arch": [400, 300]}, seed=seed, verbose=0, device="cpu")
    start = time.perf_counter()
    model.learn(total_timesteps=20_000)
    train_s = time.perf_counter() - start
    from bench_td3_peer import sb3_policy
    from src.evaluation import EVAL_SEED_OFFSET, run_episodes
    returns = np.asarray(run_episodes(sb3_policy(model), gym.make("Pendulum-v1"), EVAL_EPISODES,
                                      EVAL_START - EVAL_SEED_OFFSET, 0.98)["returns"])
    return {"train_s": train_s, "return": float(returns.mean())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--worker", choices=["ours", "sb3"], help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        result = (run_ours if args.worker == "ours" else run_sb3)(args.seed)
        print("RESULT " + json.dumps(result))
        return 0

    results = {"ours": [], "sb3": []}
    for seed in args.seeds:
        order = ("ours", "sb3") if seed % 2 == 0 else ("sb3", "ours")  # alternate who goes first
        for who in order:
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, __file__, "--worker", who, "--seed", str(seed)],
                                  capture_output=True, text=True, cwd=ROOT)
            if proc.returncode != 0:
                print(proc.stderr[-2000:], file=sys.stderr)
                return 1
            line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")][-1]
            res = json.loads(line[len("RESULT "):])
            res["process_s"] = time.perf_counter() - start
            results[who].append(res)
            print(f"seed {seed} {who:5s} train {res['train_s']:6.1f} s  process "
                  f"{res['process_s']:6.1f} s  return {res['return']:8.1f}", flush=True)
    names = {"ours": "this package (MindSpore)", "sb3": "Stable-Baselines3 DDPG"}
    print("\n| contender | mean train s | mean process s | mean return | per-seed returns |")
    print("| --- | --- | --- | --- | --- |")
    for who in ("ours", "sb3"):
        r = results[who]
        print(f"| {names[who]} | {statistics.mean(x['train_s'] for x in r):.1f} | "
              f"{statistics.mean(x['process_s'] for x in r):.1f} | "
              f"{statistics.mean(x['return'] for x in r):.1f} | "
              f"{', '.join('%.1f' % x['return'] for x in r)} |")
    for what in ("process_s", "train_s"):
        ratio = (statistics.mean(x[what] for x in results["ours"])
                 / statistics.mean(x[what] for x in results["sb3"]))
        print(f"{what[:-2]}-time ratio this package / SB3: {ratio:.2f}")
    gap = (statistics.mean(x["return"] for x in results["ours"])
           - statistics.mean(x["return"] for x in results["sb3"]))
    print(f"mean return this package - SB3: {gap:+.1f}; learner backend: "
          f"{results['ours'][0].get('backend')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
