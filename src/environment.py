"""Gymnasium environments: creation, validation, and the facts the learner needs.

Any registered id with a Box action space works, including `module:EnvId` ids (gymnasium
imports `module` first so that it can register the environment).
"""
import os
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np
import gymnasium as gym

from src.errors import UserError, first_line

# Headless rendering: MuJoCo through EGL (osmesa failed on these machines), pygame (classic
# control) without a display or sound card. Read when the renderers first load.
os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")


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


def make_env(env_id: str, render_mode: Optional[str] = None) -> gym.Env:
    """gym.make with one-line errors for unknown ids and unusable spaces."""
    kwargs = {"render_mode": render_mode} if render_mode else {}
    if render_mode and _is_mujoco(env_id):
        # gymnasium 1.4 renders MuJoCo tasks through a free camera unless a camera is named,
        # and HalfCheetah's and Ant's free camera does not follow the robot: it runs out of
        # the picture. The models' own "track" camera follows it (where a model has none,
        # gymnasium falls back to the free camera).
        kwargs["camera_name"] = "track"
    try:
        env = gym.make(env_id, **kwargs)
        if render_mode:  # renderers load lazily: fail now, before any work, if one is missing
            env.reset(seed=0)
            env.render()
    except gym.error.DependencyNotInstalled as exc:
        raise UserError(f"env '{env_id}' needs a package that is not installed "
                        f"({first_line(exc, 'missing dependency')}); "
                        f"for MuJoCo tasks and rendering: pip install -r "
                        f"requirements-mujoco.txt") from None
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


def _is_mujoco(env_id: str) -> bool:
    try:
        entry = gym.spec(env_id).entry_point
    except gym.error.Error:
        return False
    return isinstance(entry, str) and entry.startswith("gymnasium.envs.mujoco")


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


def rng_state(rng: np.random.Generator) -> dict:
    """A JSON-safe copy of a NumPy generator's bit-generator state."""
    def plain(v):
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, np.ndarray):
            return {"__array__": v.tolist(), "dtype": str(v.dtype)}
        return v.item() if isinstance(v, np.generic) else v
    return plain(rng.bit_generator.state)


def set_rng_state(rng: np.random.Generator, state: dict) -> None:
    def native(v):
        if isinstance(v, dict) and "__array__" in v:
            return np.asarray(v["__array__"], dtype=v["dtype"])
        if isinstance(v, dict):
            return {k: native(x) for k, x in v.items()}
        return v
    rng.bit_generator.state = native(state)


# Longest episode whose actions are kept for an exact resume. An env without a time limit
# could otherwise grow the log (and every saved state) without bound; past the cap the episode
# is restarted on resume instead of replayed.
MAX_LOGGED_ACTIONS = 100_000


class EpisodeLog(gym.Wrapper):
    """Records how the current episode began (reset seed, or the env's generator state just
    before an unseeded reset) and every action since, so that a resumed run can rebuild the
    environment exactly by replaying them: no pickling of simulator state needed.

    An episode longer than `max_actions` stops being recorded: its log then says "restart",
    and rebuilding starts a new episode from the env generator's state at the time of saving.
    """

    def __init__(self, env: gym.Env, max_actions: Optional[int] = None):
        super().__init__(env)
        self.max_actions = MAX_LOGGED_ACTIONS if max_actions is None else max_actions
        self.reset_seed, self.reset_rng, self.actions = None, None, []
        self.restore_log = None

    def reset(self, *, seed=None, options=None):
        self.reset_seed = seed
        self.reset_rng = None if seed is not None else rng_state(self.env.unwrapped.np_random)
        self.actions = []
        return self.env.reset(seed=seed, options=options)

    def step(self, action):
        if self.actions is not None:
            if len(self.actions) < self.max_actions:
                self.actions.append(np.array(action, dtype=np.float32, copy=True))
            else:
                self.actions = None  # too long to replay: free it, restart on resume
        return self.env.step(action)

    def episode_log(self) -> dict:
        if self.actions is None:
            return {"seed": None, "rng": rng_state(self.env.unwrapped.np_random),
                    "restart": True, "actions": np.zeros((0, *self.action_space.shape),
                                                         np.float32)}
        return {"seed": self.reset_seed, "rng": self.reset_rng, "restart": False,
                "actions": np.array(self.actions, np.float32).reshape(
                    len(self.actions), *self.action_space.shape)}

    def rebuild(self) -> np.ndarray:
        """Replays `restore_log` (set beforehand) and returns the observation reached."""
        log, self.restore_log = self.restore_log, None
        if log["seed"] is None:
            set_rng_state(self.env.unwrapped.np_random, log["rng"])
        obs, _ = self.reset(seed=log["seed"])
        for action in log["actions"]:
            obs = self.step(action)[0]
        return obs


def make_vector_env(env_id: str, num_envs: int, mode: str, seed: int) -> gym.vector.VectorEnv:
    """`num_envs` copies stepped in lockstep; a finished copy resets in the same step.

    SAME_STEP autoreset puts the last observation of a finished episode in
    info["final_obs"], so every step yields a complete transition. "async" runs each copy in
    a spawned worker process (not forked: MindSpore's threads are already running).
    """
    fns = [lambda: EpisodeLog(make_env(env_id)) for _ in range(num_envs)]
    same_step = gym.vector.AutoresetMode.SAME_STEP
    if mode == "async":
        env = gym.vector.AsyncVectorEnv(fns, context="spawn", autoreset_mode=same_step)
    else:
        env = gym.vector.SyncVectorEnv(fns, autoreset_mode=same_step)
    env.action_space.seed(seed)
    return env
