"""Export an actor checkpoint: python export.py --ckpt_file F --file_name N --file_format F.

As in eval.py, the run's config.yaml beside the checkpoint (or in --output_dir) gives the
settings, over any --config_path: the env (its observation size and action bounds) and
max_action, which a flag may not contradict. MINDIR and ONNX work on every backend; AIR needs
Ascend and is refused elsewhere.
"""
import os
import sys

import numpy as np

import src.runtime  # noqa: F401  (sets the MindSpore runtime environment before its import)
from src.config import load_config
from src.errors import UserError, run_cli

EXTENSIONS = {"MINDIR": ".mindir", "ONNX": ".onnx", "AIR": ".air"}


def main(argv) -> int:
    cfg, _ = load_config(argv, from_run=True)
    if cfg.file_format == "AIR" and cfg.device_target != "Ascend":
        raise UserError(f"file_format AIR needs an Ascend backend (device_target is "
                        f"{cfg.device_target}); use MINDIR or ONNX here")
    from src.runtime import init_mindspore
    init_mindspore(cfg.device_target, cfg.device_id, cfg.seed)
    import mindspore as ms
    from src.checkpoint import actor_ckpt_path, load_actor
    from src.environment import env_spec, make_env

    env = make_env(cfg.env_id)
    spec = env_spec(env, cfg.env_id)
    actor = load_actor(actor_ckpt_path(cfg), spec, cfg.max_action)
    ext = EXTENSIONS[cfg.file_format]
    # mindspore.export appends the extension; accept a file_name that already has it.
    base = cfg.file_name[:-len(ext)] if cfg.file_name.lower().endswith(ext) else cfg.file_name
    if os.path.dirname(base):
        os.makedirs(os.path.dirname(base), exist_ok=True)
    example = ms.Tensor(np.zeros((1, spec.obs_dim), np.float32))
    ms.export(actor, example, file_name=base, file_format=cfg.file_format)
    print(f"exported {base + ext} ({cfg.file_format}, input [1, {spec.obs_dim}] float32, "
          f"output [1, {spec.act_dim}])")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main, sys.argv[1:]))
