"""Experience collection: environment copies stepped by a behaviour policy, every transition
stored in the replay buffer, and the bookkeeping of their episodes (returns, last observations,
how each episode began).
"""
from typing import Callable, Dict, List, Tuple

import numpy as np

from src.environment import EnvSpec, make_vector_env
from src.errors import UserError
from src.replay_buffer import ReplayBuffer


class Collector:
    """Steps `num_envs` copies of `env_id` in lockstep and adds their transitions to `buffer`.

    The first `start_steps` environment steps take uniformly random actions (the vector
    env's action space sampler, seeded with `seed`); later ones `noise(policy(obs), step)`.
    """

    def __init__(self, env_id: str, num_envs: int, vector_mode: str, seed: int, spec: EnvSpec,
                 noise, buffer: ReplayBuffer, start_steps: int):
        self.env_id, self.num_envs, self.seed = env_id, num_envs, seed
        self.low, self.high = spec.low, spec.high
        self.noise, self.buffer, self.start_steps = noise, buffer, start_steps
        self.envs = make_vector_env(env_id, num_envs, vector_mode, seed)
        self.obs = None
        self.env_steps = 0
        self.episode_returns = np.zeros(num_envs)  # running return of each copy
        self.episode_lengths = np.zeros(num_envs, np.int64)  # and its steps so far
        # (env step at its end, return, length) of each episode ended since last taken
        self.finished: List[Tuple[int, float, int]] = []

    def start(self) -> None:
        """Resets every environment copy i with seed + i."""
        self.obs, _ = self.envs.reset(seed=[self.seed + i for i in range(self.num_envs)])

    def collect(self, n_steps: int, policy: Callable[[np.ndarray], np.ndarray]) -> None:
        """Collects n_steps transitions (n_steps / num_envs steps of all copies)."""
        envs = self.envs
        for _ in range(n_steps // self.num_envs):
            if self.env_steps < self.start_steps:
                action = envs.action_space.sample().astype(np.float32)
            else:
                action = self.noise(policy(self.obs), self.env_steps)
            next_obs, reward, terminated, truncated, info = envs.step(
                np.clip(action, self.low, self.high))
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
            self.episode_lengths += 1
            if done.any():
                end = self.env_steps + self.num_envs
                self.finished.extend((end, float(self.episode_returns[i]),
                                      int(self.episode_lengths[i])) for i in np.flatnonzero(done))
                self.episode_returns[done] = 0.0
                self.episode_lengths[done] = 0
                self.noise.reset(done)
            self.buffer.add(self.obs, action, reward, stored_next, terminated.astype(np.float32))
            self.obs = next_obs
            self.env_steps += self.num_envs

    def take_finished(self) -> List[Tuple[int, float, int]]:
        """(env step at its end, return, length) of each episode ended since the last call
        (and forgets them)."""
        finished, self.finished = self.finished, []
        return finished

    def _check_finite(self, obs: np.ndarray, reward: np.ndarray) -> None:
        bad_obs = ~np.isfinite(obs).all(axis=1)
        bad_rew = ~np.isfinite(reward)
        if bad_obs.any() or bad_rew.any():
            what = "observation" if bad_obs.any() else "reward"
            copy = int(np.flatnonzero(bad_obs | bad_rew)[0])
            raise UserError(f"env '{self.env_id}' returned a non-finite {what} at env step "
                            f"{self.env_steps} (copy {copy}); training stopped")

    def episode_logs(self) -> List[dict]:
        """How each copy's current episode began and its actions since (see EpisodeLog)."""
        return self.envs.call("episode_log")

    def rebuild(self, logs: List[Dict]) -> np.ndarray:
        """Puts every copy back where `logs` say (after `start`); returns the observations.
        A copy whose log says "restart" begins a new episode: its return starts from 0."""
        self.envs.set_attr("restore_log", logs)
        # The env's own dtype, as `start` and `collect` keep it: MuJoCo observations are
        # float64, and a cast here would make a replayed state differ from the saved one.
        self.obs = np.stack(self.envs.call("rebuild"))
        restart = np.array([bool(log.get("restart")) for log in logs])
        # A replayed episode has taken one step per logged action (none after a restart).
        self.episode_lengths = np.array([len(log["actions"]) for log in logs], np.int64)
        if restart.any():
            self.episode_returns[restart] = 0.0
            self.noise.reset(restart)
        return self.obs

    def close(self) -> None:
        self.envs.close()
