"""The training loop: collect with exploration noise, learn, evaluate, log, save.

An epoch is `steps_per_epoch` cycles; a cycle collects `env_steps_per_cycle` transitions and
then takes `n_train_steps` gradient steps (none before the buffer holds `min_buffer_size`).
After every epoch the deterministic policy is evaluated and one row of garage's table is
printed and appended to <output_dir>/progress.csv.
"""
import csv
import os
import sys
import time
from typing import Dict, List

import numpy as np
import yaml

from src.checkpoint import ACTOR_TARGET_CKPT, save_cell
from src.environment import env_spec, make_env, make_vector_env
from src.errors import UserError
from src.evaluation import run_episodes
from src.exploration import make_noise
from src.learner import Learner
from src.replay_buffer import ReplayBuffer

CHECKPOINTS = {"ddpg_actor.ckpt": ("actor", "actor."),
               ACTOR_TARGET_CKPT: ("actor_target", "actor_target."),
               "ddpg_critic.ckpt": ("critic", "critic."),
               "ddpg_critictarget.ckpt": ("critic_target", "critic_target.")}
COLUMNS = ["Epoch", "TotalEnvSteps", "Evaluation/AverageReturn", "Evaluation/StdReturn",
           "Evaluation/MaxReturn", "Evaluation/MinReturn", "Evaluation/AverageDiscountedReturn",
           "QFunction/AverageQ", "QFunction/MaxQ", "QFunction/AverageY",
           "QFunction/AverageQFunctionLoss", "Policy/AveragePolicyLoss",
           "Exploration/AverageReturn", "Exploration/Episodes", "EnvStepsPerSecond", "WallTime"]


def prepare_output_dir(path: str) -> None:
    """Creates `path` and proves it writable before any work starts."""
    try:
        os.makedirs(path, exist_ok=True)
        probe = os.path.join(path, ".write_test")
        with open(probe, "w", encoding="utf-8") as f:
            f.write("ok")
        os.remove(probe)
    except OSError as exc:
        raise UserError(f"output_dir '{path}' cannot be written: {exc.strerror}") from None


def _print_table(row: Dict[str, float], out) -> None:
    width = max(len(k) for k in row)
    lines = ["-" * (width + 16)]
    for k, v in row.items():
        text = f"{v:.4f}" if isinstance(v, float) else str(v)
        lines.append(f"{k:<{width}}  {text:>12}")
    lines.append("-" * (width + 16))
    out("\n".join(lines))


def plot_learning_curve(rows: List[Dict[str, float]], path: str, title: str) -> None:
    """Average evaluation return (+- one std) against environment steps, as a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = np.array([r["TotalEnvSteps"] for r in rows], float)
    mean = np.array([r["Evaluation/AverageReturn"] for r in rows], float)
    std = np.array([r["Evaluation/StdReturn"] for r in rows], float)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(steps, mean, marker="o")
    ax.fill_between(steps, mean - std, mean + std, alpha=0.25)
    ax.set_xlabel("environment steps")
    ax.set_ylabel("deterministic evaluation return")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


class Trainer:
    """Owns the environments, buffer, noise and learner of one training run."""

    def __init__(self, cfg):
        self.cfg = cfg
        prepare_output_dir(cfg.output_dir)
        self.eval_env = make_env(cfg.env_id)
        self.spec = env_spec(self.eval_env, cfg.env_id)
        self.num_envs = cfg.num_envs
        self.envs = make_vector_env(cfg.env_id, cfg.num_envs, cfg.vector_mode, cfg.seed)
        self.rng = np.random.default_rng(cfg.seed)
        self.total_steps = cfg.n_epochs * cfg.steps_per_epoch * cfg.env_steps_per_cycle
        # A run never stores more than total_steps transitions: allocate no more than that.
        self.buffer = ReplayBuffer(min(cfg.buffer_size, self.total_steps), self.spec.obs_dim,
                                   self.spec.act_dim)
        self.noise = make_noise(cfg, self.spec.low, self.spec.high, self.num_envs,
                                self.total_steps, self.rng)
        self.learner = Learner(self.spec, cfg)
        self.env_steps = 0
        self.episode_returns = np.zeros(self.num_envs)  # running return of each copy
        self.finished_returns: List[float] = []  # training episodes finished this epoch
        self.rows: List[Dict[str, float]] = []

    def collect(self, n_steps: int) -> None:
        """Collects n_steps transitions (n_steps / num_envs steps of all copies)."""
        envs, low, high = self.envs, self.spec.low, self.spec.high
        for _ in range(n_steps // self.num_envs):
            if self.env_steps < self.cfg.start_steps:
                action = envs.action_space.sample().astype(np.float32)
            else:
                action = self.noise(self.learner.act(self.obs), self.env_steps)
            next_obs, reward, terminated, truncated, info = envs.step(np.clip(action, low, high))
            done = terminated | truncated
            self.episode_returns += reward
            stored_next = next_obs
            if done.any():
                # SAME_STEP autoreset: next_obs already starts the new episode; the true last
                # observation is in final_obs. A truncation still bootstraps from it.
                stored_next = next_obs.copy()
                for i in np.flatnonzero(done):
                    stored_next[i] = info["final_obs"][i]
                    self.finished_returns.append(float(self.episode_returns[i]))
                self.episode_returns[done] = 0.0
                self.noise.reset(done)
            self.buffer.add(self.obs, action, reward, stored_next, terminated.astype(np.float32))
            self.obs = next_obs
            self.env_steps += self.num_envs

    def start(self) -> None:
        """Resets every environment copy i with seed + i."""
        self.obs, _ = self.envs.reset(seed=[self.cfg.seed + i for i in range(self.num_envs)])

    def cycle(self) -> None:
        """One cycle: collect env_steps_per_cycle transitions, then n_train_steps updates."""
        self.collect(self.cfg.env_steps_per_cycle)
        self.learn(self.cfg.n_train_steps)

    def learn(self, n_steps: int) -> None:
        if len(self.buffer) < self.cfg.min_buffer_size:
            return
        per_call = self.cfg.grad_steps_per_call
        for start in range(0, n_steps, per_call):
            k = min(per_call, n_steps - start)
            self.learner.update(self.buffer.sample(self.cfg.buffer_batch_size, self.rng, k))
        self.learner.sync_actor()

    def evaluate(self) -> Dict[str, List[float]]:
        return run_episodes(self.learner.act, self.eval_env, self.cfg.eval_episodes,
                            self.cfg.seed, self.cfg.discount, self.cfg.max_episode_length_eval)

    def save(self) -> None:
        for file_name, (attr, prefix) in CHECKPOINTS.items():
            save_cell(getattr(self.learner.nets, attr),
                      os.path.join(self.cfg.output_dir, file_name), strip_prefix=prefix)

    def train(self) -> List[Dict[str, float]]:
        cfg = self.cfg
        with open(os.path.join(cfg.output_dir, "config.yaml"), "w", encoding="utf-8") as f:
            yaml.safe_dump(cfg.to_dict(), f, sort_keys=False)
        self.start()
        bar = _progress(cfg.progress_bar, self.total_steps)
        write = bar.write if bar is not None else print
        csv_path = os.path.join(cfg.output_dir, "progress.csv")
        start = time.perf_counter()
        with open(csv_path, "w", newline="", encoding="utf-8") as csv_file:
            writer = csv.DictWriter(csv_file, fieldnames=COLUMNS)
            writer.writeheader()
            for epoch in range(cfg.n_epochs):
                epoch_start, steps_before = time.perf_counter(), self.env_steps
                for _ in range(cfg.steps_per_epoch):
                    self.cycle()
                    if bar is not None:
                        bar.update(cfg.env_steps_per_cycle)
                sps = (self.env_steps - steps_before) / (time.perf_counter() - epoch_start)
                row = self._epoch_row(epoch, sps, time.perf_counter() - start)
                self.rows.append(row)
                writer.writerow(row)
                csv_file.flush()
                _print_table(row, write)
                self.save()
        if bar is not None:
            bar.close()
        plot_learning_curve(self.rows, os.path.join(cfg.output_dir, "learning_curve.png"),
                            f"DDPG on {cfg.env_id}")
        return self.rows

    def close(self) -> None:
        self.envs.close()
        self.eval_env.close()

    def _epoch_row(self, epoch: int, sps: float, wall: float) -> Dict[str, float]:
        stats = self.learner.read_stats()
        explored, self.finished_returns = self.finished_returns, []
        ev = self.evaluate()
        returns = np.asarray(ev["returns"])
        for name in ("AverageQ", "AverageQFunctionLoss", "AveragePolicyLoss"):
            if stats["GradSteps"] and not np.isfinite(stats[name]):
                raise UserError(f"training diverged at epoch {epoch}: {name} is {stats[name]} "
                                f"(lower the learning rates or set clip_return)")
        return {"Epoch": epoch, "TotalEnvSteps": self.env_steps,
                "Evaluation/AverageReturn": float(returns.mean()),
                "Evaluation/StdReturn": float(returns.std()),
                "Evaluation/MaxReturn": float(returns.max()),
                "Evaluation/MinReturn": float(returns.min()),
                "Evaluation/AverageDiscountedReturn": float(np.mean(ev["discounted_returns"])),
                "QFunction/AverageQ": stats["AverageQ"], "QFunction/MaxQ": stats["MaxQ"],
                "QFunction/AverageY": stats["AverageY"],
                "QFunction/AverageQFunctionLoss": stats["AverageQFunctionLoss"],
                "Policy/AveragePolicyLoss": stats["AveragePolicyLoss"],
                "Exploration/AverageReturn": float(np.mean(explored)) if explored else np.nan,
                "Exploration/Episodes": len(explored),
                "EnvStepsPerSecond": float(sps), "WallTime": float(wall)}


def _progress(enabled: bool, total: int):
    if not enabled:
        return None
    from tqdm import tqdm
    return tqdm(total=total, unit="step", file=sys.stderr, dynamic_ncols=True)
