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


if "Toy-v0" not in gym.registry:
    gym.register("Toy-v0", entry_point=ToyEnv, max_episode_steps=30)
