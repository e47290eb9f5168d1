"""The training loop: collect with exploration noise, learn, evaluate, log, save.

An epoch is `steps_per_epoch` cycles; a cycle collects `env_steps_per_cycle` transitions and
then takes `n_train_steps` gradient steps (none before the buffer holds `min_buffer_size`).
After every epoch the deterministic policy is evaluated and one row of garage's table is
printed and appended to <output_dir>/progress.csv (see src/progress.py).
"""
import os
import sys
import time
from typing import Dict, List

import numpy as np

from src.checkpoint import (ACTOR_TARGET_CKPT, actor_policy, load_actor, save_env_spaces,
                            save_networks)
from src.collector import Collector
from src.config import algorithm_name, write_run_config
from src.environment import env_spec, make_env
from src.errors import UserError
from src.evaluation import evaluate
from src.exploration import make_noise, target_smoothing_noise
from src.learner import Learner
from src.progress import ProgressLog, epoch_row
from src.replay_buffer import ReplayBuffer
from src.runtime import worker
from src.snapshot import capture, check_resumable, restore
from src.state import agree_over_workers, ensure_writable_dir, resolve_resume, write_state
from src.tensorboard_log import TensorBoardLog, require_writer

# Worker r of a distributed run seeds its environments and generators with seed + r * this.
DATA_SEED_STRIDE = 10007


def board_scalars(row: Dict[str, float], sigma: float,
                  grad_steps_per_second: float) -> Dict[str, float]:
    """An epoch's TensorBoard scalars: its progress.csv row (but the step and time columns),
    the exploration noise scale and the gradient steps per second."""
    scalars = {k: v for k, v in row.items() if k not in ("Epoch", "TotalEnvSteps", "WallTime")}
    scalars["Exploration/Sigma"] = sigma
    scalars["GradStepsPerSecond"] = grad_steps_per_second
    return scalars


class Trainer:
    """Owns the collector, buffer, noise and learner of one training run."""

    def __init__(self, cfg):
        self.cfg = cfg
        ensure_writable_dir(cfg.output_dir, "output_dir")
        if cfg.tensorboard:
            require_writer()
        self.eval_env = make_env(cfg.env_id)
        self.spec = env_spec(self.eval_env, cfg.env_id)
        # Data-parallel workers (msrun) share the networks but not their data: each steps its
        # own environments and buffer, seeded with data_seed; rank 0 alone evaluates and writes.
        self.rank, self.world = worker()
        self.is_chief = self.rank == 0
        self.data_seed = cfg.seed + DATA_SEED_STRIDE * self.rank
        self.rng = np.random.default_rng(self.data_seed)
        self.total_steps = cfg.n_epochs * cfg.steps_per_epoch * cfg.env_steps_per_cycle
        # np.zeros pages are only backed by memory once written: an unfilled capacity is free.
        self.buffer = ReplayBuffer(cfg.buffer_size, self.spec.obs_dim, self.spec.act_dim)
        self.noise = make_noise(cfg, self.spec.low, self.spec.high, cfg.num_envs,
                                self.total_steps, self.rng)
        self.collector = Collector(cfg.env_id, cfg.num_envs, cfg.vector_mode, self.data_seed,
                                   self.spec, self.noise, self.buffer, cfg.start_steps)
        self.learner = Learner(self.spec, cfg)
        # Decided before any work, and before the learner's graphs first run (see Learner).
        self.resume_from = resolve_resume(
            cfg.output_dir, cfg.resume, self.rank,
            agree_over_workers(cfg.n_epochs, self.world) if self.world > 1 and cfg.resume
            else None)
        self.epoch = 0  # epochs completed
        self.wall_before = 0.0  # wall-clock seconds of the run before it was resumed
        self.rows: List[Dict[str, float]] = []
        self.final_returns: List[float] = []  # of the saved actor-target, see train()

    @property
    def env_steps(self) -> int:
        return self.collector.env_steps

    def start(self) -> None:
        self.collector.start()

    def collect(self, n_steps: int) -> None:
        self.collector.collect(n_steps, self.learner.act)

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

    def save_state(self) -> str:
        """Writes the full training state of the epochs completed so far (see src/state.py)."""
        meta, arrays = capture(self.cfg.to_dict(), self.world, self.rows, self.rng,
                               self.collector, self.buffer, self.noise)
        return write_state(self.cfg.output_dir, self.epoch, meta, arrays,
                           self.learner.update_cell, self.cfg.keep_checkpoints, self.rank)

    def restore(self, path: str, meta: dict, arrays: Dict[str, np.ndarray],
                params: Dict[str, np.ndarray]) -> None:
        """Puts the run back exactly where the state at `path` left it."""
        check_resumable(path, meta, self.cfg.to_dict(), self.world)
        self.learner.load_state(params, path)
        restore(path, meta, arrays, self.rng, self.collector, self.buffer, self.noise)
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
        algorithm = algorithm_name(cfg)
        if chief:  # what eval.py and export.py read back
            note = self.learner.backend_note
            if note.startswith("warning:"):  # a line of its own, like every other warning
                print(note, file=sys.stderr)
                note = ""
            print(f"{algorithm}, learner backend: {self.learner.backend}"
                  + (f" ({note})" if note else ""))
            write_run_config(cfg, cfg.output_dir)
            save_env_spaces(self.spec, cfg.output_dir, cfg.max_action)
        log = ProgressLog(cfg.output_dir, cfg.env_id, algorithm, self.rows, chief,
                          cfg.progress_bar, self.total_steps, self.env_steps)
        # Points after the state resumed from, written by the interrupted run, are dropped.
        board = TensorBoardLog(cfg.output_dir, self.env_steps * self.world
                               if self.resume_from is not None else None) \
            if chief and cfg.tensorboard else None
        start = time.perf_counter() - self.wall_before
        try:
            for epoch in range(self.epoch, cfg.n_epochs):
                epoch_start, steps_before = time.perf_counter(), self.env_steps
                for _ in range(cfg.steps_per_epoch):
                    self.cycle()
                    log.advance(cfg.env_steps_per_cycle)
                sps = (self.env_steps - steps_before) / (time.perf_counter() - epoch_start)
                stats = self._checked_stats(epoch)
                explored = self.collector.take_finished()
                epoch_seconds = time.perf_counter() - epoch_start
                self.epoch = epoch + 1
                if chief:
                    ev = evaluate(self.learner.act, self.eval_env, cfg)
                    # Workers step in lockstep (every gradient step is all-reduced): steps add.
                    row = epoch_row(epoch, self.env_steps * self.world, ev, stats,
                                    [ret for _, ret, _ in explored], sps * self.world,
                                    time.perf_counter() - start)
                    log.add(row)
                    if board is not None:
                        board.episodes(explored, self.world)
                        board.epoch(row["TotalEnvSteps"], board_scalars(
                            row, self.noise.sigma_at(self.env_steps),
                            stats["GradSteps"] / epoch_seconds))
                    save_networks(self.learner.nets, cfg.output_dir)
                # Every worker saves its own state (its buffer, environments, generators).
                if self.epoch % cfg.save_every_epochs == 0 or self.epoch == cfg.n_epochs:
                    self.save_state()
            log.draw_curve()
            if chief:
                self.final_returns = self.evaluate_saved_actor()
        finally:
            log.close()
            if board is not None:
                board.close()
        return self.rows

    def evaluate_saved_actor(self) -> List[float]:
        """Returns of the actor-target checkpoint eval.py loads by default, read back from its
        file and run as eval.py runs it, on eval.py's episodes: the number eval.py prints."""
        cfg = self.cfg
        actor = load_actor(os.path.join(cfg.output_dir, ACTOR_TARGET_CKPT), self.spec,
                           cfg.max_action)
        return evaluate(actor_policy(actor), self.eval_env, cfg)["returns"]

    def close(self) -> None:
        self.collector.close()
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
