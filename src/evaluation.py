"""Deterministic evaluation episodes, shared by train.py (every epoch) and eval.py."""
from typing import Callable, Dict, List

import numpy as np
import gymnasium as gym

# Evaluation episode i is reset with seed + EVAL_SEED_OFFSET + i: the same start states at
# every epoch and in eval.py, and never the training episodes' seeds.
EVAL_SEED_OFFSET = 10000


def run_episodes(policy: Callable[[np.ndarray], np.ndarray], env: gym.Env, n_episodes: int,
                 seed: int, discount: float, max_steps: int = 0,
                 on_episode: Callable[[int, float, int], None] = None,
                 recorder=None,
                 on_step: Callable[[int, dict], None] = None) -> Dict[str, List[float]]:
    """Runs `n_episodes` with `policy` (a [1, obs_dim] -> [1, act_dim] map, no noise).

    Returns per-episode "returns", "discounted_returns", "lengths" and "terminated" (the env
    ended it, not its time limit or `max_steps`). `max_steps` > 0 caps an
    episode's length on top of the env's own time limit. With a `recorder` (an env made with
    render_mode="rgb_array"), every frame is offered to it and each episode is written out.
    `on_step(i, info)` sees each step's info dict (MuJoCo tasks put their reward terms there).
    """
    low, high = env.action_space.low, env.action_space.high
    out = {"returns": [], "discounted_returns": [], "lengths": [], "terminated": []}
    for i in range(n_episodes):
        obs, _ = env.reset(seed=seed + EVAL_SEED_OFFSET + i)
        if recorder is not None:
            recorder.begin(i)
            recorder.add(env.render())
        total, disc_total, weight, t = 0.0, 0.0, 1.0, 0
        while True:
            action = np.clip(policy(obs.reshape(1, -1).astype(np.float32))[0], low, high)
            obs, reward, terminated, truncated, info = env.step(action)
            if on_step is not None:
                on_step(i, info)
            total += float(reward)
            disc_total += weight * float(reward)
            weight *= discount
            t += 1
            if recorder is not None:
                recorder.add(env.render())
            if terminated or truncated or (max_steps and t >= max_steps):
                break
        out["returns"].append(total)
        out["discounted_returns"].append(disc_total)
        out["lengths"].append(t)
        out["terminated"].append(bool(terminated))
        if recorder is not None:
            recorder.end()
        if on_episode is not None:
            on_episode(i, total, t)
    return out


def evaluate(policy: Callable[[np.ndarray], np.ndarray], env: gym.Env, cfg,
             on_episode: Callable[[int, float, int], None] = None,
             recorder=None,
             on_step: Callable[[int, dict], None] = None) -> Dict[str, List[float]]:
    """The evaluation of train.py (every epoch, and of the final checkpoint) and of eval.py:
    the same cfg.eval_episodes episodes, so equal policies get equal numbers."""
    return run_episodes(policy, env, cfg.eval_episodes, cfg.seed, cfg.discount,
                        cfg.max_episode_length_eval, on_episode, recorder, on_step)
