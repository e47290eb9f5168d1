"""The training loop: collect with exploration noise, learn, evaluate, log, save.

An epoch is `steps_per_epoch` cycles; a cycle collects `env_steps_per_cycle` transitions and
then takes `n_train_steps` gradient steps (none before the buffer holds `min_buffer_size`).
After every epoch the deterministic policy is evaluated and one row of garage's table is
printed and appended to <output_dir>/progress.csv.
"""
import contextlib
import csv
import os
import sys
import time
from typing import Dict, List, Optional, Tuple

import numpy as np
import yaml

from src.checkpoint import ACTOR_TARGET_CKPT, save_cell
from src.config import ADDED_SETTINGS
from src.environment import env_spec, make_env, make_vector_env, rng_state, set_rng_state
from src.errors import UserError
from src.evaluation import run_episodes
from src.exploration import make_noise, target_smoothing_noise
from src.learner import Learner
from src.plotting import plot_curves
from src.replay_buffer import ReplayBuffer
from src.runtime import sum_over_workers, worker
from src.state import ensure_writable_dir, resolve_resume, write_state

CHECKPOINTS = {"ddpg_actor.ckpt": ("actor", "actor."),
               ACTOR_TARGET_CKPT: ("actor_target", "actor_target."),
               "ddpg_critic.ckpt": ("critic", "critic."),
               "ddpg_critictarget.ckpt": ("critic_target", "critic_target."),
               "ddpg_critic2.ckpt": ("critic2", "critic2."),
               "ddpg_critic2target.ckpt": ("critic2_target", "critic2_target.")}
# Worker r of a distributed run seeds its environments and generators with seed + r * this.
DATA_SEED_STRIDE = 10007
# Settings that may differ between a saved run and its resumption; any other difference is
# refused, because the resumed run would not be the run that was saved.
RESUME_MAY_CHANGE = {"n_epochs", "resume", "progress_bar", "save_every_epochs",
                     "keep_checkpoints", "output_dir", "device_target", "device_id", "ckpt_file",
                     "record", "file_name", "file_format"}
COLUMNS = ["Epoch", "TotalEnvSteps", "Evaluation/AverageReturn", "Evaluation/StdReturn",
           "Evaluation/MaxReturn", "Evaluation/MinReturn", "Evaluation/AverageDiscountedReturn",
           "QFunction/AverageQ", "QFunction/MaxQ", "QFunction/AverageY",
           "QFunction/AverageQFunctionLoss", "Policy/AveragePolicyLoss",
           "Exploration/AverageReturn", "Exploration/Episodes", "EnvStepsPerSecond", "WallTime"]


def _print_table(row: Dict[str, float], out) -> None:
    width = max(len(k) for k in row)
    lines = ["-" * (width + 16)]
    for k, v in row.items():
        text = f"{v:.4f}" if isinstance(v, float) else str(v)
        lines.append(f"{k:<{width}}  {text:>12}")
    lines.append("-" * (width + 16))
    out("\n".join(lines))


class Trainer:
    """Owns the environments, buffer, noise and learner of one training run."""

    def __init__(self, cfg):
        self.cfg = cfg
        ensure_writable_dir(cfg.output_dir, "output_dir")
        self.eval_env = make_env(cfg.env_id)
        self.spec = env_spec(self.eval_env, cfg.env_id)
        self.num_envs = cfg.num_envs
        # Data-parallel workers (msrun) share the networks but not their data: each steps its
        # own environments and buffer, seeded with data_seed; rank 0 alone evaluates and writes.
        self.rank, self.world = worker()
        self.is_chief = self.rank == 0
        self.data_seed = cfg.seed + DATA_SEED_STRIDE * self.rank
        self.envs = make_vector_env(cfg.env_id, cfg.num_envs, cfg.vector_mode, self.data_seed)
        self.rng = np.random.default_rng(self.data_seed)
        self.total_steps = cfg.n_epochs * cfg.steps_per_epoch * cfg.env_steps_per_cycle
        # np.zeros pages are only backed by memory once written: an unfilled capacity is free.
        self.buffer = ReplayBuffer(cfg.buffer_size, self.spec.obs_dim, self.spec.act_dim)
        self.noise = make_noise(cfg, self.spec.low, self.spec.high, self.num_envs,
                                self.total_steps, self.rng)
        self.learner = Learner(self.spec, cfg)
        # Decided before any work, and before the learner's graphs first run (see Learner).
        self.resume_from = resolve_resume(
            cfg.output_dir, cfg.resume, self.rank,
            self._common_epoch if self.world > 1 and cfg.resume else None)
        self.epoch = 0  # epochs completed
        self.wall_before = 0.0  # wall-clock seconds of the run before it was resumed
        self.env_steps = 0
        self.episode_returns = np.zeros(self.num_envs)  # running return of each copy
        self.finished_returns: List[float] = []  # training episodes finished this epoch
        self.rows: List[Dict[str, float]] = []

    def _common_epoch(self, epochs: List[int]) -> Tuple[Optional[int], bool]:
        """Distributed resume: the newest state epoch every worker holds (or None), and whether
        any worker holds a state. Slot 0 counts workers with states, slot e those with epoch e."""
        held = np.zeros(self.cfg.n_epochs + 1, np.float32)
        usable = [e for e in epochs if 1 <= e <= self.cfg.n_epochs]
        held[usable] = 1.0
        held[0] = float(bool(epochs))
        counts = np.rint(sum_over_workers(held)).astype(int)
        common = [e for e in range(1, len(counts)) if counts[e] == self.world]
        return (common[-1] if common else None), bool(counts[0])

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
            stored_next = next_obs
            if done.any():
                # SAME_STEP autoreset: next_obs already starts the new episode; the true last
                # observation is in final_obs. A truncation still bootstraps from it.
                stored_next = next_obs.copy()
                for i in np.flatnonzero(done):
                    stored_next[i] = info["final_obs"][i]
            self._check_finite(stored_next, reward)
            self.episode_returns += reward
            if done.any():
                self.finished_returns.extend(self.episode_returns[done].tolist())
                self.episode_returns[done] = 0.0
                self.noise.reset(done)
            self.buffer.add(self.obs, action, reward, stored_next, terminated.astype(np.float32))
            self.obs = next_obs
            self.env_steps += self.num_envs

    def _check_finite(self, obs: np.ndarray, reward: np.ndarray) -> None:
        bad_obs = ~np.isfinite(obs).all(axis=1)
        bad_rew = ~np.isfinite(reward)
        if bad_obs.any() or bad_rew.any():
            what = "observation" if bad_obs.any() else "reward"
            copy = int(np.flatnonzero(bad_obs | bad_rew)[0])
            raise UserError(f"env '{self.cfg.env_id}' returned a non-finite {what} at env step "
                            f"{self.env_steps} (copy {copy}); training stopped")

    def start(self) -> None:
        """Resets every environment copy i with data_seed + i."""
        self.obs, _ = self.envs.reset(seed=[self.data_seed + i for i in range(self.num_envs)])

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
            batch = self.buffer.sample(self.cfg.buffer_batch_size, self.rng, k)
            self.learner.update(batch + target_smoothing_noise(
                self.rng, self.cfg.target_policy_noise, batch[1].shape))
        self.learner.sync_actor()

    def evaluate(self) -> Dict[str, List[float]]:
        return run_episodes(self.learner.act, self.eval_env, self.cfg.eval_episodes,
                            self.cfg.seed, self.cfg.discount, self.cfg.max_episode_length_eval)

    def save(self) -> None:
        for file_name, (attr, prefix) in CHECKPOINTS.items():
            if hasattr(self.learner.nets, attr):  # critic 2 exists with twin_critics only
                save_cell(getattr(self.learner.nets, attr),
                          os.path.join(self.cfg.output_dir, file_name), strip_prefix=prefix)

    def save_state(self) -> str:
        """Writes the full training state of the epochs completed so far (see src/state.py)."""
        logs = self.envs.call("episode_log")
        buf, n = self.buffer, len(self.buffer)
        meta = {"config": self.cfg.to_dict(), "workers": self.world,
                "env_steps": self.env_steps, "rows": self.rows,
                "wall_time": self.rows[-1]["WallTime"] if self.rows else 0.0,
                "rng": rng_state(self.rng),
                "action_space_rng": rng_state(self.envs.action_space.np_random),
                "episode_returns": self.episode_returns.tolist(),
                "finished_returns": self.finished_returns,
                "buffer": {"pos": buf.pos, "size": n},
                "env_starts": [{"seed": log["seed"], "rng": log["rng"]} for log in logs]}
        arrays = {"obs": self.obs, "buffer_obs": buf.obs[:n], "buffer_act": buf.act[:n],
                  "buffer_rew": buf.rew[:n], "buffer_next_obs": buf.next_obs[:n],
                  "buffer_terminated": buf.terminated[:n],
                  "noise_state": getattr(self.noise, "state", np.zeros(0))}
        for i, log in enumerate(logs):
            arrays[f"env_actions_{i}"] = log["actions"]
        return write_state(self.cfg.output_dir, self.epoch, meta, arrays,
                           self.learner.update_cell, self.cfg.keep_checkpoints, self.rank)

    def restore(self, path: str, meta: dict, arrays: Dict[str, np.ndarray],
                params: Dict[str, np.ndarray]) -> None:
        """Puts the run back exactly where the state at `path` left it."""
        saved = dict(ADDED_SETTINGS, **meta["config"])
        for key, value in self.cfg.to_dict().items():
            if key not in RESUME_MAY_CHANGE and saved.get(key) != value:
                raise UserError(f"cannot resume {path}: setting '{key}' was {saved.get(key)!r} "
                                f"in the saved run and is {value!r} now")
        if meta.get("workers", 1) != self.world:
            raise UserError(f"cannot resume {path}: it was saved by a run of "
                            f"{meta.get('workers', 1)} workers, this one has {self.world}")
        buf = self.buffer
        n = meta["buffer"]["size"]
        if arrays["buffer_obs"].shape != (n, buf.obs.shape[1]) or \
                arrays["buffer_act"].shape != (n, buf.act.shape[1]):
            raise UserError(f"cannot resume {path}: its replay buffer does not fit env "
                            f"'{self.cfg.env_id}'")
        self.learner.load_state(params, path)
        for name in ("obs", "act", "rew", "next_obs", "terminated"):
            getattr(buf, name)[:n] = arrays[f"buffer_{name}"]
        buf.pos, buf.size = meta["buffer"]["pos"], n
        set_rng_state(self.rng, meta["rng"])
        if arrays["noise_state"].size:
            self.noise.state[...] = arrays["noise_state"]
        # Rebuild every environment copy: its episode start, then the actions taken since.
        self.start()
        logs = [dict(start, actions=arrays[f"env_actions_{i}"])
                for i, start in enumerate(meta["env_starts"])]
        self.envs.set_attr("restore_log", logs)
        self.obs = np.stack(self.envs.call("rebuild")).astype(np.float32)
        if not np.array_equal(self.obs, arrays["obs"]):
            raise UserError(f"cannot resume {path}: env '{self.cfg.env_id}' does not replay "
                            f"deterministically, its rebuilt state differs from the saved one")
        set_rng_state(self.envs.action_space.np_random, meta["action_space_rng"])
        self.env_steps = meta["env_steps"]
        self.episode_returns = np.asarray(meta["episode_returns"], np.float64)
        self.finished_returns = list(meta["finished_returns"])
        self.rows = meta["rows"]
        self.epoch = meta["epoch"]
        self.wall_before = meta["wall_time"]

    def train(self) -> List[Dict[str, float]]:
        """Runs the remaining epochs. Only the chief (rank 0) evaluates, logs and writes."""
        cfg, chief = self.cfg, self.is_chief
        if self.resume_from is not None:
            self.restore(*self.resume_from)
            print(f"resumed from {self.resume_from[0]} (epoch {self.epoch}, "
                  f"{self.env_steps} env steps)")
        else:
            self.start()
        if chief:
            with open(os.path.join(cfg.output_dir, "config.yaml"), "w", encoding="utf-8") as f:
                yaml.safe_dump(cfg.to_dict(), f, sort_keys=False)
        bar = _progress(cfg.progress_bar and chief, self.total_steps, self.env_steps)
        write = bar.write if bar is not None else print
        start = time.perf_counter() - self.wall_before
        with contextlib.ExitStack() as stack:
            writer = csv_file = None
            if chief:  # rewritten from the state's rows: rows after the state are dropped
                csv_file = stack.enter_context(open(os.path.join(cfg.output_dir, "progress.csv"),
                                                    "w", newline="", encoding="utf-8"))
                writer = csv.DictWriter(csv_file, fieldnames=COLUMNS)
                writer.writeheader()
                writer.writerows(self.rows)
            for epoch in range(self.epoch, cfg.n_epochs):
                epoch_start, steps_before = time.perf_counter(), self.env_steps
                for _ in range(cfg.steps_per_epoch):
                    self.cycle()
                    if bar is not None:
                        bar.update(cfg.env_steps_per_cycle)
                sps = (self.env_steps - steps_before) / (time.perf_counter() - epoch_start)
                stats = self._checked_stats(epoch)
                self.epoch = epoch + 1
                if chief:
                    row = self._epoch_row(epoch, stats, sps, time.perf_counter() - start)
                    self.rows.append(row)
                    writer.writerow(row)
                    csv_file.flush()
                    _print_table(row, write)
                    self.save()
                # Every worker saves its own state (its buffer, environments, generators).
                if self.epoch % cfg.save_every_epochs == 0 or self.epoch == cfg.n_epochs:
                    self.save_state()
        if bar is not None:
            bar.close()
        if chief:
            plot_curves({cfg.env_id: [self.rows]},
                        os.path.join(cfg.output_dir, "learning_curve.png"), f"DDPG on {cfg.env_id}")
        return self.rows

    def close(self) -> None:
        self.envs.close()
        self.eval_env.close()

    def _checked_stats(self, epoch: int) -> Dict[str, float]:
        """The epoch's learner statistics; stops the run if a loss, Q, y or weight is not
        finite (before anything of the epoch is saved)."""
        stats = self.learner.read_stats()
        bad = [f"{name} is {stats[name]}" for name in
               ("AverageQ", "MaxQ", "AverageY", "AverageQFunctionLoss", "AveragePolicyLoss")
               if stats["GradSteps"] and not np.isfinite(stats[name])]
        bad_param = self.learner.first_non_finite_parameter()
        if bad or bad_param:
            what = bad[0] if bad else f"parameter {bad_param} is not finite"
            raise UserError(f"training diverged in epoch {epoch}: {what}; stopped before saving "
                            f"it, the last good state stays in {self.cfg.output_dir}/state "
                            f"(lower the learning rates, or set clip_return)")
        return stats

    def _epoch_row(self, epoch: int, stats: Dict[str, float], sps: float,
                   wall: float) -> Dict[str, float]:
        explored, self.finished_returns = self.finished_returns, []
        ev = self.evaluate()
        returns = np.asarray(ev["returns"])
        # Workers step in lockstep (every gradient step is all-reduced): steps add up.
        return {"Epoch": epoch, "TotalEnvSteps": self.env_steps * self.world,
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
                "EnvStepsPerSecond": float(sps) * self.world, "WallTime": float(wall)}


def _progress(enabled: bool, total: int, done: int):
    if not enabled:
        return None
    from tqdm import tqdm
    return tqdm(total=total, initial=done, unit="step", file=sys.stderr, dynamic_ncols=True)
