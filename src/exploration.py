"""Exploration noise added to the deterministic policy's actions while collecting data, and
the draws of TD3's target policy smoothing noise that go with each batch.

Noise scales are fractions of the action half-range (high - low) / 2, so one setting means
the same on every task; noisy actions are clipped to the environment's bounds.
"""
from typing import Sequence, Tuple

import numpy as np


class GaussianNoise:
    """a + N(0, sigma^2), sigma decaying linearly from `sigma` to `sigma_min` over
    `decay_steps` environment steps (garage's AddGaussianNoise schedule); 0 keeps it constant.
    """

    def __init__(self, low, high, sigma: float, sigma_min: float, decay_steps: int,
                 rng: np.random.Generator):
        self.low, self.high = np.asarray(low, np.float32), np.asarray(high, np.float32)
        self.scale = (self.high - self.low) / 2.0
        self.sigma_max, self.sigma_min, self.decay_steps = sigma, sigma_min, decay_steps
        self.rng = rng

    def sigma(self, step: int) -> float:
        """The noise scale at environment step `step` (logged as Exploration/Sigma)."""
        if self.decay_steps <= 0:
            return self.sigma_max
        frac = min(1.0, step / self.decay_steps)
        return self.sigma_max - (self.sigma_max - self.sigma_min) * frac

    sigma_at = sigma  # the name both noises share

    def reset(self, done_mask: np.ndarray) -> None:
        """Gaussian noise has no state."""

    def __call__(self, action: np.ndarray, step: int) -> np.ndarray:
        noise = self.rng.standard_normal(action.shape) * self.sigma(step) * self.scale
        return np.clip(action + noise, self.low, self.high).astype(np.float32)


class OUNoise:
    """Ornstein-Uhlenbeck noise x <- x + theta * (0 - x) * dt + sigma * sqrt(dt) * N(0, 1),
    one process per parallel environment, reset to 0 when that environment starts an episode.
    """

    def __init__(self, low, high, num_envs: int, sigma: float, theta: float, dt: float,
                 rng: np.random.Generator):
        self.low, self.high = np.asarray(low, np.float32), np.asarray(high, np.float32)
        self.scale = (self.high - self.low) / 2.0
        self.sigma, self.theta, self.dt = sigma, theta, dt
        self.rng = rng
        self.state = np.zeros((num_envs, self.low.shape[0]), np.float64)

    def reset(self, done_mask: np.ndarray) -> None:
        """Zeroes the processes of the environments that start a new episode."""
        self.state[np.asarray(done_mask, bool)] = 0.0

    def sigma_at(self, step: int) -> float:
        """The noise scale: constant (logged as Exploration/Sigma)."""
        return self.sigma

    def step(self) -> np.ndarray:
        """Advances every process one step and returns the new state (unscaled)."""
        self.state += (-self.theta * self.state * self.dt
                       + self.sigma * np.sqrt(self.dt)
                       * self.rng.standard_normal(self.state.shape))
        return self.state

    def __call__(self, action: np.ndarray, step: int) -> np.ndarray:
        noisy = action + self.step() * self.scale
        return np.clip(noisy, self.low, self.high).astype(np.float32)


def target_smoothing_noise(rng: np.random.Generator, sigma: float,
                           shape: Sequence[int]) -> Tuple[np.ndarray, ...]:
    """The learner's noise input for a [K, B, act_dim] `shape` of batches: standard normal
    float32 draws from `rng` (the learner scales and clips them by sigma), or () when sigma is 0,
    so that nothing is drawn and the generator's stream stays DDPG's."""
    if sigma <= 0:
        return ()
    return (rng.standard_normal(tuple(shape), np.float32),)


def make_noise(cfg, low, high, num_envs: int, total_steps: int, rng: np.random.Generator):
    """The exploration noise named by cfg.exploration."""
    if cfg.exploration == "ou":
        return OUNoise(low, high, num_envs, cfg.noise_sigma, cfg.ou_theta, cfg.ou_dt, rng)
    decay_steps = int(cfg.noise_decay_ratio * total_steps)
    return GaussianNoise(low, high, cfg.noise_sigma, cfg.noise_sigma_min, decay_steps, rng)
