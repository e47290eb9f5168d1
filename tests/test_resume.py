"""Never lose a run: SIGKILL between epochs and in the middle of a save, then resume; the
resumed run must equal the run that was never stopped, figure for figure and bit for bit."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import mindspore as ms
import pytest

from conftest import ROOT, progress_rows, run_cli
from src.state import list_states

RUN = ["--n_epochs", "4", "--steps_per_epoch", "2", "--env_steps_per_cycle", "100",
       "--n_train_steps", "20", "--grad_steps_per_call", "10", "--min_buffer_size", "100",
       "--start_steps", "150", "--buffer_batch_size", "32", "--eval_episodes", "2",
       "--policy_hidden_sizes", "[32, 32]", "--qf_hidden_sizes", "[32, 32]",
       "--exploration", "ou", "--num_envs", "2", "--progress_bar", "false"]
def _final_params(out):
    path = os.path.join(list_states(str(out))[-1][1], "learner.ckpt")
    return {k: v.asnumpy() for k, v in ms.load_checkpoint(path).items()}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("uninterrupted")
    res = run_cli("train.py", "--output_dir", str(out), *RUN)
    assert res.returncode == 0, res.stderr
    return out


def _assert_same_run(out, reference):
    assert progress_rows(out) == progress_rows(reference)
    final, ref = _final_params(out), _final_params(reference)
    assert final.keys() == ref.keys()
    for name in ref:
        np.testing.assert_array_equal(final[name], ref[name], err_msg=name)
    for ckpt in ("ddpg_actortarget.ckpt", "ddpg_critic.ckpt"):
        a = ms.load_checkpoint(str(out / ckpt))
        b = ms.load_checkpoint(str(reference / ckpt))
        for name in b:
            np.testing.assert_array_equal(a[name].asnumpy(), b[name].asnumpy())


def test_killed_during_a_save_resumes_to_the_same_run(tmp_path, reference):
    env = dict(os.environ, DDPG_TEST_KILL_IN_SAVE="3")
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "train.py"), "--output_dir",
                           str(tmp_path), *RUN], cwd=ROOT, env=env, capture_output=True)
    assert proc.returncode == -signal.SIGKILL
    # The torn save is not a state; the newest complete one is epoch 2: one epoch lost.
    assert [e for e, _ in list_states(str(tmp_path))] == [1, 2]
    assert (tmp_path / "state" / "epoch_000003.tmp").is_dir()
    res = run_cli("train.py", "--output_dir", str(tmp_path), *RUN, "--resume", "auto")
    assert res.returncode == 0, res.stderr
    assert "resumed from" in res.stdout and "epoch_000002" in res.stdout
    assert not (tmp_path / "state" / "epoch_000003.tmp").exists()
    _assert_same_run(tmp_path, reference)


def test_async_envs_killed_during_a_save_resume_to_the_same_run(tmp_path, reference):
    # Environment copies in spawned worker processes: their state is rebuilt by replay as in
    # sync mode, and the whole run must equal the (sync) reference.
    run = RUN + ["--vector_mode", "async"]
    env = dict(os.environ, DDPG_TEST_KILL_IN_SAVE="3")
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "train.py"), "--output_dir",
                           str(tmp_path), *run], cwd=ROOT, env=env, capture_output=True)
    assert proc.returncode == -signal.SIGKILL
    res = run_cli("train.py", "--output_dir", str(tmp_path), *run, "--resume", "auto")
    assert res.returncode == 0, res.stderr
    assert "epoch_000002" in res.stdout
    _assert_same_run(tmp_path, reference)


def test_killed_between_epochs_resumes_to_the_same_run(tmp_path, reference):
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "train.py"), "--output_dir",
                             str(tmp_path), *RUN], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not (tmp_path / "state" / "epoch_000001").is_dir():
        assert proc.poll() is None and time.time() < deadline
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    epochs = [e for e, _ in list_states(str(tmp_path))]
    assert epochs and epochs[-1] >= 1
    res = run_cli("train.py", "--output_dir", str(tmp_path), *RUN, "--resume", "auto")
    assert res.returncode == 0, res.stderr
    _assert_same_run(tmp_path, reference)


def test_corrupted_newest_state_falls_back_and_explicit_path_is_refused(tmp_path, reference):
    import shutil
    shutil.copytree(reference, tmp_path, dirs_exist_ok=True)
    newest = list_states(str(tmp_path))[-1][1]
    with open(os.path.join(newest, "arrays.npz"), "r+b") as f:
        f.truncate(100)
    res = run_cli("train.py", "--output_dir", str(tmp_path), *RUN, "--resume", newest)
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        f"error: training state {newest} is truncated or corrupted "
        + res.stderr.split("corrupted ", 1)[1].strip()]
    res = run_cli("train.py", "--output_dir", str(tmp_path), *RUN, "--resume", "auto")
    assert res.returncode == 0, res.stderr
    assert "warning: training state" in res.stderr and "epoch_000003" in res.stdout
    _assert_same_run(tmp_path, reference)


def test_resume_refuses_changed_settings_and_unasked_overwrite(tmp_path, reference):
    import shutil
    shutil.copytree(reference, tmp_path, dirs_exist_ok=True)
    res = run_cli("train.py", "--output_dir", str(tmp_path), *RUN)
    assert res.returncode == 2 and "already holds a training state" in res.stderr
    res = run_cli("train.py", "--output_dir", str(tmp_path), *RUN, "--resume", "auto",
                  "--discount", "0.5")
    assert res.returncode == 2
    assert "setting 'discount' was 0.99 in the saved run and is 0.5 now" in res.stderr
    res = run_cli("train.py", "--output_dir", str(tmp_path), *RUN, "--resume",
                  str(tmp_path / "state" / "nope"))
    assert res.returncode == 2 and "training state not found" in res.stderr


def test_mujoco_run_resumes_to_the_same_run(tmp_path):
    # MuJoCo observations are float64 (Pendulum's are float32): the saved state keeps them in
    # that dtype, and the replayed episode (100 logged actions, mid-episode) must match it.
    run = [*RUN, "--env_id", "HalfCheetah-v5", "--num_envs", "1", "--exploration", "gaussian"]
    whole, part = tmp_path / "whole", tmp_path / "part"
    assert run_cli("train.py", "--output_dir", str(whole), *run, "--n_epochs", "2").returncode == 0
    assert run_cli("train.py", "--output_dir", str(part), *run, "--n_epochs", "1").returncode == 0
    res = run_cli("train.py", "--output_dir", str(part), *run, "--n_epochs", "2",
                  "--resume", "auto")
    assert res.returncode == 0, res.stderr
    assert "resumed from" in res.stdout
    _assert_same_run(part, whole)
