"""Evaluation episodes: returns and discounted returns against hand-computed values."""
import gymnasium as gym
import numpy as np

from src.evaluation import EVAL_SEED_OFFSET, run_episodes


class _Scripted(gym.Env):
    """Rewards 1, 2, 3, then terminates; records the seeds it is reset with."""
    observation_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
    action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)

    def __init__(self):
        self.t, self.seeds, self.actions = 0, [], []

    def reset(self, *, seed=None, options=None):
        self.t = 0
        self.seeds.append(seed)
        return np.zeros(1, np.float32), {}

    def step(self, action):
        self.actions.append(float(action[0]))
        self.t += 1
        return np.zeros(1, np.float32), float(self.t), self.t == 3, False, {}


def test_returns_and_discounted_returns_by_hand():
    env = _Scripted()
    out = run_episodes(lambda obs: np.full((1, 1), 5.0), env, 2, seed=7, discount=0.5)
    # 1 + 2 + 3 = 6; 1 + 0.5 * 2 + 0.25 * 3 = 2.75
    assert out["returns"] == [6.0, 6.0] and out["lengths"] == [3, 3]
    assert out["terminated"] == [True, True]  # the env ended both, at t = 3
    assert out["discounted_returns"] == [2.75, 2.75]
    assert env.seeds == [7 + EVAL_SEED_OFFSET, 8 + EVAL_SEED_OFFSET]
    assert set(env.actions) == {1.0}  # the policy's 5.0, clipped to the action bounds


def test_max_steps_cuts_episodes():
    out = run_episodes(lambda obs: np.zeros((1, 1)), _Scripted(), 1, seed=0, discount=0.5,
                       max_steps=2)
    assert out["returns"] == [3.0] and out["discounted_returns"] == [2.0]
    assert out["lengths"] == [2]
    assert out["terminated"] == [False]  # cut by max_steps, not ended by the env


class _Terms(_Scripted):
    """_Scripted, with reward terms in its info dict as MuJoCo tasks report them."""

    def step(self, action):
        obs, reward, terminated, truncated, _ = super().step(action)
        return obs, reward, terminated, truncated, {"reward_run": reward + 1.0,
                                                    "reward_ctrl": -1.0}


def test_on_step_sees_every_step_of_every_episode():
    seen = []
    out = run_episodes(lambda obs: np.zeros((1, 1)), _Terms(), 2, seed=0, discount=0.5,
                       on_step=lambda i, info: seen.append((i, info["reward_run"])))
    assert seen == [(0, 2.0), (0, 3.0), (0, 4.0), (1, 2.0), (1, 3.0), (1, 4.0)]
    assert out["returns"] == [6.0, 6.0]
