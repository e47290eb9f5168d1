"""Is a trained actor stuck at its action bounds? One deterministic episode per run directory.

    python benchmarks/actor_saturation.py RUN_DIR [RUN_DIR ...]

For each run of train.py (its config.yaml names the task and seed), loads RUN_DIR/ddpg_actor.ckpt,
plays the first evaluation episode (reset seed = seed + 10000, as train.py's evaluation) and
prints its length and return, the median |pre-activation| of the tanh output layer per action
dimension, the share of pre-activations beyond 3 (where tanh's slope is below 0.01, so the
critic's gradient barely moves the actor) and the share of last-hidden-layer units that are zero.
An actor with every pre-activation far beyond 3 cannot learn its way back: the TD3 paper's
settings left Hopper-v5 seed 0 there.
"""
import argparse
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from src.checkpoint import load_actor  # noqa: E402
from src.config import load_config  # noqa: E402
from src.environment import env_spec, make_env  # noqa: E402
from src.errors import UserError  # noqa: E402
from src.evaluation import EVAL_SEED_OFFSET  # noqa: E402
from src.networks import HostActor  # noqa: E402

SATURATED = 3.0  # |x| beyond which tanh'(x) = 1 - tanh(x)^2 < 0.01


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dirs", nargs="+", help="output directories of train.py")
    args = parser.parse_args()
    print("| run | episode length | return | median abs pre-activation per action dim "
          f"| share beyond {SATURATED:g} | zero hidden units |")
    print("| --- | --- | --- | --- | --- | --- |")
    for run in args.run_dirs:
        try:
            cfg = load_config(["--config_path", os.path.join(run, "config.yaml")])[0]
            env = make_env(cfg.env_id)
            actor = HostActor(load_actor(os.path.join(run, "ddpg_actor.ckpt"),
                                         env_spec(env, cfg.env_id), cfg.max_action))
        except UserError as exc:
            print(f"error: {run}: {exc}", file=sys.stderr)
            return 2
        obs, _ = env.reset(seed=cfg.seed + EVAL_SEED_OFFSET)
        pre, hidden, total, done = [], [], 0.0, False
        while not done:
            x, p = actor.forward(obs)  # what enters the tanh, and the layer before it
            hidden.append(x)
            pre.append(p)
            obs, reward, terminated, truncated, _ = env.step(actor.squash(p))
            total += float(reward)
            done = terminated or truncated
        pre, hidden = np.abs(np.array(pre)), np.array(hidden)
        print(f"| {run} | {len(pre)} | {total:.1f} | "
              f"{', '.join(f'{v:.2f}' for v in np.median(pre, axis=0))} | "
              f"{np.mean(pre > SATURATED):.2f} | {np.mean(hidden == 0):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
