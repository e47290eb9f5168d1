"""A tiny environment that really terminates, registered on import ("toy_envs:Toy-v0").

Position x starts in [-0.5, 0.5]; the action (asymmetric bounds [-0.5, 1.5]) moves it by
0.1 * a; reaching x >= 1 terminates with reward +10, otherwise the reward is -0.1 per step;
the time limit truncates after 30 steps.
"""
import gymnasium as gym
import numpy as np


class ToyEnv(gym.Env):
    def __init__(self):
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (1,), np.float32)
        self.action_space = gym.spaces.Box(np.array([-0.5], np.float32),
                                           np.array([1.5], np.float32))
        self.x = 0.0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.x = float(self.np_random.uniform(-0.5, 0.5))
        return np.array([self.x], np.float32), {}

    def step(self, action):
        self.x += 0.1 * float(np.asarray(action).reshape(-1)[0])
        terminated = self.x >= 1.0
        reward = 10.0 if terminated else -0.1
        return np.array([self.x], np.float32), reward, terminated, False, {}



class UnboundedActionEnv(ToyEnv):
    """A Box action space without finite bounds: refused by DDPG."""

    def __init__(self):
        super().__init__()
        self.action_space = gym.spaces.Box(-np.inf, np.inf, (1,), np.float32)


class BadRewardEnv(ToyEnv):
    """Returns a NaN reward at its 60th step (counted over all episodes)."""

    def __init__(self):
        super().__init__()
        self.total_steps = 0

    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        self.total_steps += 1
        return obs, (float("nan") if self.total_steps == 60 else reward), terminated, truncated, info


class ExplodingRewardEnv(ToyEnv):
    """Never terminates; rewards become 1e30 after 250 steps, so TD losses overflow float32."""

    def __init__(self):
        super().__init__()
        self.total_steps = 0

    def step(self, action):
        obs, _, _, truncated, info = super().step(action)
        self.total_steps += 1
        return obs, (1e30 if self.total_steps > 250 else -0.1), False, truncated, info


class SymmetricToyEnv(ToyEnv):
    """Toy-v0's sizes with other action bounds, [-1, 1]: a Toy-v0 actor does not fit it."""

    def __init__(self):
        super().__init__()
        self.action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)


for _name, _cls in (("Toy-v0", ToyEnv), ("Unbounded-v0", UnboundedActionEnv),
                    ("BadReward-v0", BadRewardEnv), ("Exploding-v0", ExplodingRewardEnv),
                    ("SymmetricToy-v0", SymmetricToyEnv)):
    if _name not in gym.registry:
        gym.register(_name, entry_point=_cls, max_episode_steps=30)


class EndlessEnv(ToyEnv):
    """Never terminates, and is registered without a time limit: its episode never ends."""

    def step(self, action):
        obs, _, _, truncated, info = super().step(action)
        return obs, -0.1, False, truncated, info


if "Endless-v0" not in gym.registry:
    gym.register("Endless-v0", entry_point=EndlessEnv)
