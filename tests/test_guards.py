"""Divergence and bad environment output stop training with one line; good states survive."""
import os
import threading

from conftest import TINY, run_cli
from src.state import ensure_writable_dir, list_states

# tests/ holds toy_envs.py; the subprocess needs it on its import path for module:EnvId ids.
TESTS_DIR = os.path.dirname(os.path.abspath(__file__))


def _run(*argv):
    path = os.pathsep.join(p for p in (TESTS_DIR, os.environ.get("PYTHONPATH")) if p)
    return run_cli("train.py", *argv, env_extra={"PYTHONPATH": path})


def test_non_finite_reward_names_env_and_step(tmp_path):
    res = _run("--output_dir", str(tmp_path), *TINY, "--env_id", "toy_envs:BadReward-v0")
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "error: env 'toy_envs:BadReward-v0' returned a non-finite reward at env step 59"), lines


def test_divergence_stops_with_epoch_and_quantity_and_keeps_last_good_state(tmp_path):
    res = _run("--output_dir", str(tmp_path), *TINY, "--n_epochs", "3",
               "--env_id", "toy_envs:Exploding-v0", "--env_steps_per_cycle", "100",
               "--start_steps", "1000")
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: training diverged in epoch 1: ")
    assert "is inf" in lines[0] or "is nan" in lines[0] or "not finite" in lines[0]
    assert [e for e, _ in list_states(str(tmp_path))] == [1]


def test_unbounded_action_space_is_refused(tmp_path):
    res = _run("--output_dir", str(tmp_path), "--env_id", "toy_envs:Unbounded-v0")
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        "error: env 'toy_envs:Unbounded-v0' has an unbounded action space; DDPG needs finite "
        "bounds (or wrap the env with gymnasium.wrappers.ClipAction)"]


def test_writability_probe_survives_workers_sharing_output_dir(tmp_path):
    # msrun workers probe the same output_dir at once; with one fixed probe name a worker
    # failed on a probe another had already deleted (seen in CI, reproduced here before the fix).
    errors = []

    def probe():
        for _ in range(300):
            try:
                ensure_writable_dir(str(tmp_path), "output_dir")
            except Exception as exc:  # pylint: disable=broad-except
                errors.append(exc)

    threads = [threading.Thread(target=probe) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert os.listdir(tmp_path) == []
