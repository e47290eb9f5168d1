"""Where does an agent's return come from? eval.py's episodes, split into the task's reward terms.

    python benchmarks/reward_terms.py AGENT [AGENT ...] [--episodes N]

AGENT is a run directory of train.py or a shipped agent's NAME (pretrained/NAME). Each is loaded
and played exactly as `python eval.py --output_dir RUN` (or `--pretrained NAME`) plays it: the
actor-target, the run's evaluation episodes and start states, so the returns are eval.py's. For
every episode it prints its length, how it ended (the time limit, or the env terminating it,
with the torso's height against the task's healthy range where the task has one), its return
and the sum of every `reward_*` term the MuJoCo task reports (forward progress, control cost,
contact cost, the healthy reward), then their means. `--episodes N` plays the first N of them.
"""
import argparse
import os
import sys
from typing import Dict, List

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import src.runtime  # noqa: E402,F401  (the MindSpore runtime environment, before its import)
from src.checkpoint import actor_ckpt_path, actor_policy, load_actor  # noqa: E402
from src.config import load_config  # noqa: E402
from src.environment import env_spec, make_env  # noqa: E402
from src.errors import UserError  # noqa: E402
from src.evaluation import evaluate  # noqa: E402
from src.runtime import init_mindspore  # noqa: E402


def ending(env, terminated: bool) -> str:
    """'time limit', or 'terminated' with the torso's height where the task checks one; `env`
    is still at the episode's last state."""
    if not terminated:
        return "time limit"
    u = env.unwrapped
    z_range = getattr(u, "_healthy_z_range", None)
    if z_range is None:
        return "terminated"
    z = float(u.data.body("torso").xpos[2])
    return f"terminated, torso at {z:.3f} (healthy {z_range[0]:g} to {z_range[1]:g})"


def agent_table(argv: List[str]) -> List[str]:
    cfg, _ = load_config(argv, from_run=True)
    init_mindspore(cfg.device_target, cfg.device_id, cfg.seed)
    env = make_env(cfg.env_id)
    spec = env_spec(env, cfg.env_id)
    path = actor_ckpt_path(cfg)
    policy = actor_policy(load_actor(path, spec, cfg.max_action))
    terms: List[Dict[str, float]] = []
    at_end: List[str] = []  # read in each episode's last state, before the next reset

    def on_step(i: int, info: dict) -> None:
        if i == len(terms):
            terms.append({})
        for key, value in info.items():
            if key.startswith("reward_"):
                terms[i][key] = terms[i].get(key, 0.0) + float(value)

    out = evaluate(policy, env, cfg, on_step=on_step,
                   on_episode=lambda i, ret, length: at_end.append(ending(env, True)))
    ends = [e if term else "time limit" for e, term in zip(at_end, out["terminated"])]
    keys = sorted({k for t in terms for k in t})

    def row(cells: List[str]) -> str:
        return "| " + " | ".join(cells) + " |"

    lines = [f"{path} on {cfg.env_id}, {cfg.eval_episodes} episodes (as eval.py)", "",
             row(["episode", "steps", "ended", "return", *keys]), row(["---"] * (4 + len(keys)))]
    for i, (ret, length) in enumerate(zip(out["returns"], out["lengths"])):
        lines.append(row([str(i), str(length), ends[i], f"{ret:.1f}",
                          *(f"{terms[i].get(k, 0.0):.1f}" for k in keys)]))
    early = sum(e != "time limit" for e in ends)
    lines.append(row(["mean", f"{np.mean(out['lengths']):.1f}",
                      f"{early} of {len(ends)} before the time limit",
                      f"{np.mean(out['returns']):.1f}",
                      *(f"{np.mean([t.get(k, 0.0) for t in terms]):.1f}" for k in keys)]))
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("agents", nargs="+", help="run directories or shipped agents' names")
    parser.add_argument("--episodes", type=int, default=0,
                        help="play only the first N evaluation episodes (default: all)")
    args = parser.parse_args()
    if args.episodes < 0:
        print(f"error: --episodes must be >= 0, got {args.episodes}", file=sys.stderr)
        return 2
    for agent in args.agents:
        argv = ["--output_dir", agent] if os.path.isdir(agent) else ["--pretrained", agent]
        if args.episodes:
            argv += ["--eval_episodes", str(args.episodes)]
        try:
            lines = agent_table(argv)
        except UserError as exc:
            print(f"error: {agent}: {exc}", file=sys.stderr)
            return 2
        print("\n".join(lines) + "\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
