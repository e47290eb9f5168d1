"""Train a DDPG agent: python train.py [--key value ...] (see default_config.yaml)."""
import os
import sys

import numpy as np

import src.runtime  # noqa: F401  (sets the MindSpore runtime environment before its import)
from src.config import load_config
from src.errors import run_cli


def main(argv) -> int:
    cfg, _ = load_config(argv)
    from src.runtime import init_mindspore
    init_mindspore(cfg.device_target, cfg.device_id, cfg.seed, cfg.distributed)
    from src.checkpoint import ACTOR_TARGET_CKPT
    from src.trainer import Trainer
    trainer = Trainer(cfg)
    try:
        rows = trainer.train()
    finally:
        trainer.close()
    print(f"rank {trainer.rank}: network checksum {trainer.learner.checksum()}")
    if not trainer.is_chief:
        return 0
    last = rows[-1]
    print(f"trained {last['TotalEnvSteps']} env steps in {last['WallTime']:.1f} s; "
          f"final Evaluation/AverageReturn (online actor) "
          f"{last['Evaluation/AverageReturn']:.2f}; checkpoints in {cfg.output_dir}")
    # Last: the checkpoint eval.py loads by default, on eval.py's episodes (the same number).
    print(f"{os.path.join(cfg.output_dir, ACTOR_TARGET_CKPT)} over {cfg.eval_episodes} "
          f"evaluation episodes, as eval.py: avgReward: {np.mean(trainer.final_returns):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main, sys.argv[1:]))
