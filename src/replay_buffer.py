"""A preallocated uniform replay ring buffer in NumPy (float32, no per-transition objects)."""
from typing import Tuple

import numpy as np


class ReplayBuffer:
    """Stores (obs, act, rew, next_obs, terminated); the oldest transitions are overwritten.

    Memory is allocated once: capacity * (2 * obs_dim + act_dim + 2) * 4 bytes.
    """

    def __init__(self, capacity: int, obs_dim: int, act_dim: int):
        self.capacity = int(capacity)
        self.obs = np.zeros((self.capacity, obs_dim), np.float32)
        self.act = np.zeros((self.capacity, act_dim), np.float32)
        self.rew = np.zeros(self.capacity, np.float32)
        self.next_obs = np.zeros((self.capacity, obs_dim), np.float32)
        self.terminated = np.zeros(self.capacity, np.float32)
        self.pos = 0  # next slot to write
        self.size = 0  # number of valid transitions

    def __len__(self) -> int:
        return self.size

    def add(self, obs, act, rew, next_obs, terminated) -> None:
        """Adds a batch of n transitions (leading dimension n), wrapping around the end."""
        n = len(rew)
        idx = (self.pos + np.arange(n)) % self.capacity
        self.obs[idx] = obs
        self.act[idx] = act
        self.rew[idx] = rew
        self.next_obs[idx] = next_obs
        self.terminated[idx] = terminated
        self.pos = int((self.pos + n) % self.capacity)
        self.size = min(self.size + n, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator,
               n_batches: int = 0) -> Tuple[np.ndarray, ...]:
        """A uniform sample, with replacement, as (obs, act, rew, next_obs, terminated).

        With n_batches > 0, n_batches independent batches stacked as [n_batches, batch_size, ...].
        """
        shape = (n_batches, batch_size) if n_batches else batch_size
        idx = rng.integers(0, self.size, size=shape)
        return (self.obs[idx], self.act[idx], self.rew[idx], self.next_obs[idx],
                self.terminated[idx])
