"""Evaluate an actor checkpoint: python eval.py [--output_dir DIR | --ckpt_file FILE] [--key value ...].

The run's DIR/config.yaml (written by train.py) gives the settings: a --config_path file only
fills what it lacks, flags override its evaluation settings, and a flag contradicting its env or
actor is refused (src/config.py load_config). The first line says which settings are the run's.
Prints one line per deterministic episode and a last line `avgReward: <mean return>`: for a
run's actor-target, the number train.py printed last.
"""
import sys

import numpy as np

import src.runtime  # noqa: F401  (sets the MindSpore runtime environment before its import)
from src.config import load_config, run_settings_note
from src.errors import run_cli


def main(argv) -> int:
    cfg, _ = load_config(argv, from_run=True)
    from src.runtime import init_mindspore
    init_mindspore(cfg.device_target, cfg.device_id, cfg.seed)
    from src.checkpoint import actor_ckpt_path, actor_policy, load_actor
    from src.environment import env_spec, make_env
    from src.evaluation import evaluate

    recorder = None
    if cfg.record:
        from src.recording import GifRecorder
        from src.state import ensure_writable_dir
        ensure_writable_dir(cfg.record, "record")
    env = make_env(cfg.env_id, render_mode="rgb_array" if cfg.record else None)
    spec = env_spec(env, cfg.env_id)
    path = actor_ckpt_path(cfg)
    actor = load_actor(path, spec, cfg.max_action)
    if cfg.record:
        recorder = GifRecorder(cfg.record, cfg.env_id, env.metadata.get("render_fps", 30),
                               cfg.max_episode_length_eval or spec.max_episode_steps)
    note = run_settings_note(cfg)
    print(f"evaluating {path} on {cfg.env_id} for {cfg.eval_episodes} episodes"
          + (f" ({note})" if note else ""))

    def report(i, ret, length):
        print(f"episode {i}: return {ret:.4f} ({length} steps)")

    result = evaluate(actor_policy(actor), env, cfg, report, recorder)
    if recorder is not None:
        print(f"recorded {len(recorder.written)} episodes to {cfg.record}")
    print(f"avgReward: {np.mean(result['returns']):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main, sys.argv[1:]))
