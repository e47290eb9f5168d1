"""Ship a pretrained agent: the median seed of finished runs as pretrained/NAME.

    python benchmarks/make_pretrained.py --name ddpg_pendulum_v1 \\
        --runs runs/pendulum/seed_0 runs/pendulum/seed_1 runs/pendulum/seed_2

Each run's actor-target is evaluated with eval.py (its own settings: eval_episodes episodes from
the reset seeds seed + 10000 + i, deterministic); the run whose avgReward is the median of them
is copied to pretrained/NAME: its actor-target checkpoint, config.yaml and env_spaces.json
only (no replay buffer, no training state). Then `eval.py --pretrained NAME` is run on the copy
and its per-episode returns and avgReward go into pretrained/NAME/manifest.yaml with the
checkpoint's sha256, so that tests/test_pretrained.py and check_pretrained.py can tell whether
the shipped agent still gives them.
"""
import argparse
import csv
import datetime
import os
import re
import shutil
import subprocess
import sys
from typing import List, Tuple

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_learner import cpu_model  # noqa: E402
from src.checkpoint import ACTOR_TARGET_CKPT, ENV_SPACES, MANIFEST, file_sha256  # noqa: E402
from src.config import PRETRAINED_ROOT, RUN_CONFIG  # noqa: E402

_EPISODE = re.compile(r"^episode (\d+): return (\S+) ")
_AVG = re.compile(r"^avgReward: (\S+)$")


def run_eval(args: List[str]) -> Tuple[List[float], float]:
    """Per-episode returns and avgReward printed by `eval.py ARGS`."""
    done = subprocess.run([sys.executable, os.path.join(ROOT, "eval.py"), *args], cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"error: eval.py {' '.join(args)} failed: {done.stderr.strip()}")
    lines = done.stdout.splitlines()
    returns = [float(m.group(2)) for line in lines if (m := _EPISODE.match(line))]
    avg = [float(m.group(1)) for line in lines if (m := _AVG.match(line))]
    return returns, avg[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True, help="pretrained/NAME to write")
    parser.add_argument("--runs", nargs="+", required=True, help="finished run directories")
    args = parser.parse_args()
    scored = []
    for run in args.runs:
        _, avg = run_eval(["--output_dir", run])
        with open(os.path.join(run, "progress.csv"), newline="") as f:
            steps = int(list(csv.DictReader(f))[-1]["TotalEnvSteps"])
        with open(os.path.join(run, RUN_CONFIG), encoding="utf-8") as f:
            config = yaml.safe_load(f)
        scored.append((avg, run, steps, config))
        print(f"{run}: seed {config['seed']}, {steps} env steps, eval.py avgReward {avg:.4f}")
    scored.sort(key=lambda s: s[0])
    avg, run, steps, config = scored[(len(scored) - 1) // 2]  # the median (the lower of two)
    out = os.path.join(PRETRAINED_ROOT, args.name)
    os.makedirs(out, exist_ok=True)
    for name in (ACTOR_TARGET_CKPT, RUN_CONFIG, ENV_SPACES):
        shutil.copyfile(os.path.join(run, name), os.path.join(out, name))
    # The manifest must exist for eval.py --pretrained to find the agent; its hash first.
    manifest = {"sha256": file_sha256(os.path.join(out, ACTOR_TARGET_CKPT))}
    with open(os.path.join(out, MANIFEST), "w", encoding="utf-8") as f:
        yaml.safe_dump(manifest, f)
    returns, shipped_avg = run_eval(["--pretrained", args.name])
    import mindspore
    from src.config import Config, algorithm_name
    manifest = {
        "name": args.name,
        "env_id": config["env_id"],
        "algorithm": algorithm_name(Config(config, {})),
        "env_steps": steps,
        "seed": config["seed"],
        "chosen": f"the median of {len(scored)} seeds by eval.py avgReward",
        "seeds": {s[3]["seed"]: round(s[0], 4) for s in sorted(scored, key=lambda s: s[3]["seed"])},
        "eval_episodes": config["eval_episodes"],
        "eval_seed": config["seed"],
        "eval_start_states": f"reset seeds {config['seed'] + 10000} to "
                             f"{config['seed'] + 10000 + config['eval_episodes'] - 1}",
        "avgReward": round(shipped_avg, 4),
        "returns": [round(r, 4) for r in returns],
        "sha256": manifest["sha256"],
        "made": f"{datetime.date.today().isoformat()}, MindSpore {mindspore.__version__}, "
                f"{cpu_model()}",
    }
    with open(os.path.join(out, MANIFEST), "w", encoding="utf-8") as f:
        yaml.safe_dump(manifest, f, sort_keys=False)
    print(f"wrote {out}: seed {config['seed']}, eval.py avgReward {shipped_avg:.4f} "
          f"(the run's own: {avg:.4f})")
    return 0 if abs(shipped_avg - avg) <= 1e-3 * max(1.0, abs(avg)) else 1


if __name__ == "__main__":
    sys.exit(main())
