"""What a training state holds: captured from a running run, and put back into a new one.

src/state.py writes and reads states on disk; this module decides their contents: the
settings, counters and metric rows, the random generators, the replay buffer, the noise (its
process state and its decay schedule), and each environment copy's episode start and actions.
"""
import sys
from typing import Dict, List, Tuple

import numpy as np

from src.collector import Collector
from src.config import ADDED_SETTINGS
from src.environment import rng_state, set_rng_state
from src.errors import UserError
from src.replay_buffer import ReplayBuffer

# Settings that may differ between a saved run and its resumption; any other difference is
# refused, because the resumed run would not be the run that was saved. learner_backend may
# change: both backends hold the same state and compute the same steps.
RESUME_MAY_CHANGE = {"n_epochs", "resume", "progress_bar", "tensorboard", "save_every_epochs",
                     "keep_checkpoints", "output_dir", "device_target", "device_id", "ckpt_file",
                     "record", "file_name", "file_format", "learner_backend", "pretrained"}
_BUFFER_FIELDS = ("obs", "act", "rew", "next_obs", "terminated")


def capture(config: dict, world: int, rows: List[dict], rng: np.random.Generator,
            collector: Collector, buffer: ReplayBuffer, noise) -> Tuple[dict, Dict]:
    """(meta, arrays) of the run as it is now; see write_state for the files."""
    logs = collector.episode_logs()
    n = len(buffer)
    meta = {"config": config, "workers": world, "env_steps": collector.env_steps, "rows": rows,
            "wall_time": rows[-1]["WallTime"] if rows else 0.0,
            "rng": rng_state(rng),
            "action_space_rng": rng_state(collector.envs.action_space.np_random),
            "episode_returns": collector.episode_returns.tolist(),
            "finished_episodes": [list(e) for e in collector.finished],
            # The schedule the run started with: a resume with another n_epochs keeps it.
            "noise_decay_steps": getattr(noise, "decay_steps", 0),
            "buffer": {"pos": buffer.pos, "size": n},
            "env_starts": [{"seed": log["seed"], "rng": log["rng"],
                            "restart": log["restart"]} for log in logs]}
    arrays = {"obs": collector.obs, "noise_state": getattr(noise, "state", np.zeros(0))}
    for name in _BUFFER_FIELDS:
        arrays[f"buffer_{name}"] = getattr(buffer, name)[:n]
    for i, log in enumerate(logs):
        arrays[f"env_actions_{i}"] = log["actions"]
    return meta, arrays


def check_resumable(path: str, meta: dict, config: dict, world: int) -> None:
    """Refuses a state saved with other settings or another number of workers."""
    saved = dict(ADDED_SETTINGS, **meta["config"])  # states saved before a setting existed
    for key, value in config.items():
        if key not in RESUME_MAY_CHANGE and saved.get(key) != value:
            raise UserError(f"cannot resume {path}: setting '{key}' was {saved.get(key)!r} "
                            f"in the saved run and is {value!r} now")
    if meta.get("workers", 1) != world:
        raise UserError(f"cannot resume {path}: it was saved by a run of "
                        f"{meta.get('workers', 1)} workers, this one has {world}")


def restore(path: str, meta: dict, arrays: Dict[str, np.ndarray], rng: np.random.Generator,
            collector: Collector, buffer: ReplayBuffer, noise) -> None:
    """Puts generators, buffer, noise and environments back where the state left them
    (the learner's parameters are loaded by Learner.load_state)."""
    n = meta["buffer"]["size"]
    if arrays["buffer_obs"].shape != (n, buffer.obs.shape[1]) or \
            arrays["buffer_act"].shape != (n, buffer.act.shape[1]):
        raise UserError(f"cannot resume {path}: its replay buffer does not fit env "
                        f"'{collector.env_id}'")
    for name in _BUFFER_FIELDS:
        getattr(buffer, name)[:n] = arrays[f"buffer_{name}"]
    buffer.pos, buffer.size = meta["buffer"]["pos"], n
    set_rng_state(rng, meta["rng"])
    if arrays["noise_state"].size:
        noise.state[...] = arrays["noise_state"]
    if hasattr(noise, "decay_steps"):
        noise.decay_steps = meta.get("noise_decay_steps", noise.decay_steps)
    collector.episode_returns = np.asarray(meta["episode_returns"], np.float64)
    # States written before episode lengths were kept hold "finished_returns" only.
    collector.finished = [tuple(e) for e in meta["finished_episodes"]] \
        if "finished_episodes" in meta else [(0, r, 0) for r in meta["finished_returns"]]
    # Rebuild every environment copy: its episode start, then the actions taken since.
    collector.start()
    logs = [dict(start, actions=arrays[f"env_actions_{i}"])
            for i, start in enumerate(meta["env_starts"])]
    obs = collector.rebuild(logs)
    replayed = np.array([not log.get("restart") for log in logs])
    if not np.array_equal(obs[replayed], arrays["obs"][replayed]):
        raise UserError(f"cannot resume {path}: env '{collector.env_id}' does not replay "
                        f"deterministically, its rebuilt state differs from the saved one")
    if not replayed.all():
        print(f"warning: {int((~replayed).sum())} env copies of {path} were in an episode too "
              f"long to replay; they start a new episode (the resumed run differs from an "
              f"uninterrupted one)", file=sys.stderr)
    set_rng_state(collector.envs.action_space.np_random, meta["action_space_rng"])
    collector.env_steps = meta["env_steps"]
