"""eval.py and export.py take their defaults from the run they read, and train.py's last line
is the avgReward eval.py prints for that run's default checkpoint."""
import os

import numpy as np
import mindspore as ms
import pytest

from conftest import TINY, run_cli
from src.checkpoint import load_actor
from src.environment import env_spec, make_env

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
# A run nothing of which is a default: env (asymmetric bounds, module:EnvId), max_action,
# seed, evaluation episodes and their length.
RUN = [*TINY, "--env_id", "toy_envs:Toy-v0", "--max_action", "0.5", "--seed", "3",
       "--eval_episodes", "3", "--max_episode_length_eval", "20"]


def _run(*argv):
    path = os.pathsep.join(p for p in (TESTS_DIR, os.environ.get("PYTHONPATH")) if p)
    return run_cli(*argv, env_extra={"PYTHONPATH": path})


def _train(out, *argv):
    res = _run("train.py", "--output_dir", str(out), *argv)
    assert res.returncode == 0, res.stderr
    return out, res.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    return _train(tmp_path_factory.mktemp("toy_run"), *RUN)


@pytest.mark.parametrize("argv", [
    # Pendulum's returns are continuous: any other policy or episode gives another number.
    ["--seed", "3", "--eval_episodes", "3", "--max_episode_length_eval", "20",
     "--target_update_tau", "0.05"],
    RUN[len(TINY):],
], ids=["pendulum", "toy"])
def test_train_last_line_is_eval_avg_reward(tmp_path, argv):
    out, last = _train(tmp_path, *TINY, *argv)
    res = _run("eval.py", "--output_dir", str(out))
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert "for 3 episodes" in lines[0] and "config.yaml" in lines[0]
    assert all("(20 steps)" in line for line in lines[1:4])
    assert lines[-1].startswith("avgReward: ") and last.endswith(lines[-1]), (last, lines[-1])
    # The same through --ckpt_file: the run directory is the checkpoint's.
    res = _run("eval.py", "--ckpt_file", str(out / "ddpg_actortarget.ckpt"))
    assert res.returncode == 0 and res.stdout.strip().splitlines()[-1] == lines[-1]


def test_command_line_still_wins(toy_run):
    out, _ = toy_run
    res = _run("eval.py", "--output_dir", str(out), "--eval_episodes", "1")
    assert res.returncode == 0, res.stderr
    assert sum(line.startswith("episode ") for line in res.stdout.splitlines()) == 1


@pytest.mark.parametrize("env_id, fragment", [
    ("toy_envs:SymmetricToy-v0", "it was trained on env 'toy_envs:Toy-v0' with actions from "
                                 "[-0.5] to [1.5], the env's go from [-1.0] to [1.0]"),
    ("Pendulum-v1", "it maps 1-dim observations to 1-dim actions, the env has 3-dim"),
])
def test_an_env_that_does_not_fit_is_refused(toy_run, env_id, fragment, tmp_path):
    out, _ = toy_run
    # The checkpoint with its env_spaces.json but not its config.yaml (with which a contradicting
    # --env_id is refused before any checkpoint is read, see test_run_settings.py).
    for name in ("ddpg_actortarget.ckpt", "env_spaces.json"):
        (tmp_path / name).write_bytes((out / name).read_bytes())
    for script in ("eval.py", "export.py"):
        res = _run(script, "--output_dir", str(tmp_path), "--env_id", env_id,
                   "--file_name", str(tmp_path / "never"))
        lines = res.stderr.strip().splitlines()
        assert res.returncode == 2 and len(lines) == 1, (script, res.stderr)
        assert lines[0].startswith("error: checkpoint ") and fragment in lines[0], lines


def test_export_takes_the_run_env_and_max_action(toy_run, tmp_path):
    import onnxruntime as ort
    import toy_envs  # noqa: F401  (registers toy_envs:Toy-v0 in this process)
    out, _ = toy_run
    res = _run("export.py", "--output_dir", str(out), "--file_name", str(tmp_path / "pi"),
               "--file_format", "ONNX")
    assert res.returncode == 0, res.stderr
    assert "input [1, 1] float32, output [1, 1]" in res.stdout
    sess = ort.InferenceSession(str(tmp_path / "pi.onnx"), providers=["CPUExecutionProvider"])
    env = make_env("toy_envs:Toy-v0")
    actor = load_actor(str(out / "ddpg_actortarget.ckpt"), env_spec(env, "toy_envs:Toy-v0"),
                       max_action=0.5)
    obs = np.linspace(-3, 3, 7, dtype=np.float32).reshape(7, 1, 1)
    exported = np.concatenate([sess.run(None, {sess.get_inputs()[0].name: o})[0] for o in obs])
    np.testing.assert_allclose(exported, actor(ms.Tensor(obs[:, 0])).asnumpy(), rtol=1e-5,
                               atol=1e-6)
    assert np.abs(exported).max() <= 0.5  # max_action 0.5 of the run, not the bound 1.5
