"""Gymnasium environments: creation, validation, and the facts the learner needs.

Any registered id with a Box action space works, including `module:EnvId` ids (gymnasium
imports `module` first so that it can register the environment).
"""
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np
import gymnasium as gym

from src.errors import UserError


@dataclass(frozen=True)
class EnvSpec:
    """Shapes and bounds of an environment's observation and action spaces."""
    env_id: str
    obs_dim: int
    act_dim: int
    low: np.ndarray
    high: np.ndarray
    max_episode_steps: Optional[int]

    def actor_bounds(self, max_action: float = 0.0) -> Tuple[np.ndarray, np.ndarray]:
        """The interval the actor maps onto: the Box bounds, or [-max_action, max_action]."""
        if max_action > 0:
            return (np.full(self.act_dim, -max_action, np.float32),
                    np.full(self.act_dim, max_action, np.float32))
        return self.low, self.high


def make_env(env_id: str, render_mode: Optional[str] = None,
             max_episode_steps: Optional[int] = None) -> gym.Env:
    """gym.make with one-line errors for unknown ids and unusable spaces."""
    kwargs = {"render_mode": render_mode} if render_mode else {}
    if max_episode_steps:
        kwargs["max_episode_steps"] = max_episode_steps
    try:
        env = gym.make(env_id, **kwargs)
    except gym.error.Error as exc:
        raise UserError(f"unknown env id '{env_id}': {exc}") from None
    except ModuleNotFoundError as exc:
        raise UserError(f"cannot import the module of env id '{env_id}': {exc.msg}") from None
    try:
        env_spec(env, env_id)
    except UserError:
        env.close()
        raise
    if len(env.observation_space.shape) > 1:
        env = gym.wrappers.FlattenObservation(env)
    return env


def env_spec(env: gym.Env, env_id: str) -> EnvSpec:
    """Reads and checks the spaces: a bounded Box action space and a Box observation space."""
    act_space, obs_space = env.action_space, env.observation_space
    if not isinstance(act_space, gym.spaces.Box):
        kind = type(act_space).__name__
        raise UserError(f"env '{env_id}' has a {kind} action space; DDPG needs a continuous "
                        f"Box action space (use a DQN-family method for discrete actions)")
    if not (np.all(np.isfinite(act_space.low)) and np.all(np.isfinite(act_space.high))):
        raise UserError(f"env '{env_id}' has an unbounded action space; DDPG needs finite "
                        f"bounds (or wrap the env with gymnasium.wrappers.ClipAction)")
    if len(act_space.shape) != 1:
        raise UserError(f"env '{env_id}' has a {act_space.shape}-shaped action space; "
                        f"a flat vector is needed")
    if not isinstance(obs_space, gym.spaces.Box):
        raise UserError(f"env '{env_id}' has a {type(obs_space).__name__} observation space; "
                        f"a Box observation space is needed")
    spec = env.spec
    return EnvSpec(env_id=env_id,
                   obs_dim=int(np.prod(obs_space.shape)),
                   act_dim=int(act_space.shape[0]),
                   low=act_space.low.astype(np.float32),
                   high=act_space.high.astype(np.float32),
                   max_episode_steps=spec.max_episode_steps if spec is not None else None)


def make_vector_env(env_id: str, num_envs: int, mode: str, seed: int) -> gym.vector.VectorEnv:
    """`num_envs` copies stepped in lockstep; a finished copy resets in the same step.

    SAME_STEP autoreset puts the last observation of a finished episode in
    info["final_obs"], so every step yields a complete transition. "async" runs each copy in
    a spawned worker process (not forked: MindSpore's threads are already running).
    """
    fns = [lambda: make_env(env_id) for _ in range(num_envs)]
    same_step = gym.vector.AutoresetMode.SAME_STEP
    if mode == "async":
        env = gym.vector.AsyncVectorEnv(fns, context="spawn", autoreset_mode=same_step)
    else:
        env = gym.vector.SyncVectorEnv(fns, autoreset_mode=same_step)
    env.action_space.seed(seed)
    return env
