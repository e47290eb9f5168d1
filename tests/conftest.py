"""Shared fixtures: the repository on sys.path, MindSpore initialised once on CPU."""
import csv
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import src.runtime  # noqa: E402,F401  (before mindspore is imported anywhere)
from src.runtime import init_mindspore  # noqa: E402

import pytest  # noqa: E402

init_mindspore("CPU", 0, 0)


def backend_available(target: str) -> bool:
    """Whether MindSpore can use `target` here: the refusal tests only run where it cannot."""
    import mindspore as ms
    return ms.hal.is_available(target)


def run_cli(*args, timeout=600, cwd=ROOT, env_extra=None):
    """Runs a repository command (python script or bash script) and captures its output."""
    cmd = list(args)
    if cmd[0].endswith(".py"):
        cmd = [sys.executable, os.path.join(ROOT, cmd[0])] + cmd[1:]
    elif cmd[0].endswith(".sh"):
        cmd = ["bash", os.path.join(ROOT, cmd[0])] + cmd[1:]
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHON=sys.executable)
    env.update(env_extra or {})
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def progress_rows(out):
    """The rows of out/progress.csv without the timing columns, which differ run to run."""
    with open(os.path.join(out, "progress.csv"), newline="") as f:
        return [{k: v for k, v in r.items() if k not in ("EnvStepsPerSecond", "WallTime")}
                for r in csv.DictReader(f)]


@pytest.fixture(scope="session")
def pendulum_spec():
    from src.environment import env_spec, make_env
    env = make_env("Pendulum-v1")
    yield env_spec(env, "Pendulum-v1")
    env.close()


# Settings of a run that finishes in seconds: used by the smoke tests.
TINY = ["--n_epochs", "2", "--steps_per_epoch", "2", "--env_steps_per_cycle", "50",
        "--n_train_steps", "5", "--grad_steps_per_call", "5", "--min_buffer_size", "64", "--start_steps", "64",
        "--buffer_batch_size", "32", "--eval_episodes", "2", "--policy_hidden_sizes", "[32, 32]",
        "--qf_hidden_sizes", "[32, 32]", "--progress_bar", "false"]


@pytest.fixture(scope="session")
def trained_dir(tmp_path_factory):
    """An output_dir written by a tiny train.py run (shared by eval/export/script tests)."""
    out = tmp_path_factory.mktemp("trained")
    res = run_cli("train.py", "--output_dir", str(out), *TINY)
    assert res.returncode == 0, res.stderr
    return out
