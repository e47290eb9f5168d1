"""benchmarks/reward_terms.py: a shipped agent's eval.py episodes split into reward terms."""
import os
import subprocess
import sys

from src.checkpoint import read_manifest
from src.config import pretrained_dir

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _reward_terms(*args):
    return subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "reward_terms.py"),
                           *args], capture_output=True, text=True, cwd=ROOT)


def test_terms_add_up_to_eval_py_returns():
    done = _reward_terms("td3_hopper_v5", "--episodes", "2")
    assert done.returncode == 0, done.stderr
    rows = [line.strip("|").split(" | ") for line in done.stdout.splitlines()
            if line.startswith("| ") and line[2].isdigit()]
    assert len(rows) == 2
    header = next(line for line in done.stdout.splitlines() if line.startswith("| episode"))
    assert header.strip("| ").split(" | ")[4:] == ["reward_ctrl", "reward_forward",
                                                     "reward_survive"]
    manifest = read_manifest(pretrained_dir("td3_hopper_v5"))
    for i, row in enumerate(rows):
        steps, ended, ret = int(row[1]), row[2].strip(), float(row[3])
        terms = [float(v) for v in row[4:]]
        assert abs(ret - manifest["returns"][i]) <= 0.05 + 1e-3 * abs(ret)  # eval.py's episode
        assert abs(sum(terms) - ret) <= 0.16  # three terms and the return, each rounded to 0.1
        assert terms[2] == float(steps)  # the healthy reward: 1 a step, every step healthy
        assert ended == "time limit" and steps == 1000


def test_bad_input_is_one_error_line():
    for args in (["no_such_agent"], ["td3_hopper_v5", "--episodes", "-1"]):
        done = _reward_terms(*args)
        assert done.returncode == 2
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:"), done.stderr


def test_an_early_end_names_the_torso_height_and_the_healthy_range():
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    from reward_terms import ending
    from src.environment import make_env
    env = make_env("Hopper-v5")
    env.reset(seed=0)
    u = env.unwrapped
    qpos = u.init_qpos.copy()
    qpos[1] = 0.5  # rootz: the torso below Hopper's healthy range (0.7, inf)
    u.set_state(qpos, u.init_qvel)
    assert ending(env, True) == "terminated, torso at 0.500 (healthy 0.7 to inf)"
    assert ending(env, False) == "time limit"
