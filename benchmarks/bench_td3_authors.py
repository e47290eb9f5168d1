"""The TD3 authors' own code (github.com/sfujim/TD3) on a gymnasium task, evaluated like train.py.

    git clone https://github.com/sfujim/TD3 && git -C TD3 checkout bc98e62   # the paper's code
    pip install -r requirements-bench.txt -r requirements-mujoco.txt
    python benchmarks/bench_td3_authors.py --td3_dir TD3 --loop paper --env_id Walker2d-v5 \
        --seed 0 --out DIR [--steps 300000] [--start_steps 1000]

The authors' published learning curves (TD3/learning_curves) are for MuJoCo -v1 tasks, which
gymnasium no longer builds; this driver runs their TD3.py and utils.py, imported unchanged from
--td3_dir, on today's tasks, so "the task version" and "this package's implementation" can be
told apart. Their main.py is written for gym's old API (and, at the paper's commit, Python 2),
so the loop around their classes is re-stated here:

--loop paper   (commit bc98e62, the camera-ready code behind the published curves): uniformly
               random actions for --start_steps (the paper's run_experiments.sh: 1000 on Hopper
               and Walker2d, 10000 on HalfCheetah), then the actor's action plus N(0, 0.1)
               clipped to the bounds; no gradient step during an episode: at each episode's
               end, from the first episode on, as many TD3 iterations as the episode had steps
               (batch 100, Adam 1e-3, 400-300 networks: their TD3.py's own defaults).
--loop current (their code since 2019, the presets' settings): random actions for
               --start_steps (their default 25000), then one TD3 iteration after every
               environment step (batch 256, tau 0.005, target noise 0.2 clipped at 0.5,
               policy_freq 2).

Both store done = 0 when an episode ends only by the time limit, as their loops do. Their
paper-era TD3.py was written for torch 0.3, where `volatile` kept gradients out of the target
networks; torch 2 ignores the flag, so the driver freezes the target networks' parameters
(requires_grad False), which gives the same updates (target networks change only through
their soft updates) without back-propagating through them.

Every --eval_every steps the online actor plays eval_episodes deterministic episodes from
train.py's evaluation start states (seed + 10000 + i) through src.evaluation, and DIR/progress.csv
gets a row with train.py's column names, so plot.py and bench_learning --collect read it. Torch
runs on one thread (pin the process to a core with taskset). A run is not resumable: a stopped
run starts again.
"""
import argparse
import importlib
import os
import sys
import warnings

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench_td3_peer import progress_csv  # noqa: E402
from src.evaluation import run_episodes  # noqa: E402

DEFAULT_START_STEPS = {"paper": 1000, "current": 25000}


def make_policy(td3, loop: str, obs_dim: int, act_dim: int, max_action: float):
    if loop == "paper":
        # Their main.py: max_action = int(high[0]); TD3.py's own defaults for the rest.
        policy = td3.TD3(obs_dim, act_dim, int(max_action))
        for net in (policy.actor_target, policy.critic_target):
            net.requires_grad_(False)  # torch 0.3's `volatile`, see the module docstring
        return policy
    return td3.TD3(state_dim=obs_dim, action_dim=act_dim, max_action=max_action,
                   discount=0.99, tau=0.005, policy_noise=0.2 * max_action,
                   noise_clip=0.5 * max_action, policy_freq=2)


def run(env, eval_env, td3, utils, loop: str, seed: int, steps: int, start_steps: int,
        eval_every: int, eval_episodes: int, on_eval) -> None:
    """Trains their TD3 for `steps` environment steps, calling on_eval(t, returns) every
    `eval_every` steps. The caller seeds torch (their networks' initialisation) first."""
    obs_dim, act_dim = env.observation_space.shape[0], env.action_space.shape[0]
    low, high = env.action_space.low, env.action_space.high
    max_action = float(high[0])
    np.random.seed(seed)
    env.action_space.seed(seed)
    policy = make_policy(td3, loop, obs_dim, act_dim, max_action)
    replay_buffer = utils.ReplayBuffer() if loop == "paper" else utils.ReplayBuffer(obs_dim, act_dim)
    obs, _ = env.reset(seed=seed)
    expl_std = 0.1 * (1.0 if loop == "paper" else max_action)
    episode_steps = 0
    for t in range(steps):
        if t < start_steps:
            action = env.action_space.sample()
        else:
            action = (policy.select_action(np.array(obs))
                      + np.random.normal(0, expl_std, size=act_dim)).clip(low, high)
        next_obs, reward, terminated, truncated, _ = env.step(action)
        done = float(terminated)  # both loops store an end by the time limit as not done
        if loop == "paper":
            replay_buffer.add((obs, next_obs, action, reward, done))
        else:
            replay_buffer.add(obs, action, next_obs, reward, done)
            if t >= start_steps:  # current: one iteration after every step once learning
                policy.train(replay_buffer, 256)
        obs, episode_steps = next_obs, episode_steps + 1
        if terminated or truncated:
            if loop == "paper":
                # paper: at each episode's end, as many iterations as it had steps; their run
                # used TD3.train's defaults for everything after `iterations`
                policy.train(replay_buffer, episode_steps)
            obs, _ = env.reset()
            episode_steps = 0
        if (t + 1) % eval_every == 0:
            result = run_episodes(lambda o: policy.select_action(o[0])[None], eval_env,
                                  eval_episodes, seed, 0.99)
            on_eval(t + 1, np.asarray(result["returns"]))


def import_authors(td3_dir: str, loop: str):
    """Their TD3 and utils modules from a checkout, or a one-line reason it does not fit."""
    for name in ("TD3.py", "utils.py"):
        if not os.path.isfile(os.path.join(td3_dir, name)):
            raise SystemExit(f"error: {td3_dir} has no {name}: pass a checkout of "
                             "github.com/sfujim/TD3")
    sys.path.insert(0, os.path.abspath(td3_dir))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        td3, utils = importlib.import_module("TD3"), importlib.import_module("utils")
    paper_api = utils.ReplayBuffer.__init__.__code__.co_argcount == 1
    if paper_api != (loop == "paper"):
        raise SystemExit(f"error: the code in {td3_dir} is not the {loop} loop's "
                         f"(its ReplayBuffer {'takes no' if paper_api else 'takes the'} dimensions); "
                         f"use --loop {'paper' if paper_api else 'current'}")
    return td3, utils


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--td3_dir", required=True, help="a checkout of github.com/sfujim/TD3")
    parser.add_argument("--loop", choices=tuple(DEFAULT_START_STEPS), required=True)
    parser.add_argument("--env_id", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=300000)
    parser.add_argument("--start_steps", type=int, default=None,
                        help="random steps first (paper 1000, current 25000)")
    parser.add_argument("--eval_every", type=int, default=10000)
    parser.add_argument("--eval_episodes", type=int, default=10)
    parser.add_argument("--out", required=True, help="directory for progress.csv")
    args = parser.parse_args()
    start_steps = DEFAULT_START_STEPS[args.loop] if args.start_steps is None else args.start_steps
    if min(args.steps, args.eval_every, args.eval_episodes) < 1 or start_steps < 0:
        print("error: --steps, --eval_every and --eval_episodes must be positive, "
              "--start_steps not negative", file=sys.stderr)
        return 2
    td3, utils = import_authors(args.td3_dir, args.loop)
    import gymnasium as gym
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)  # before their networks are made, as their main.py does
    try:
        env, eval_env = gym.make(args.env_id), gym.make(args.env_id)
    except gym.error.Error as exc:
        print(f"error: cannot make {args.env_id}: {exc}", file=sys.stderr)
        return 2
    print(f"TD3 authors' code ({args.loop} loop) on {args.env_id}, seed {args.seed}, "
          f"{args.steps} steps, {start_steps} random", flush=True)
    with progress_csv(args.out) as write, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's notices about the paper code's old API
        run(env, eval_env, td3, utils, args.loop, args.seed, args.steps, start_steps,
            args.eval_every, args.eval_episodes,
            lambda t, returns: write(t // args.eval_every - 1, t, returns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
