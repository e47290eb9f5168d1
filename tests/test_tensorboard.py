"""TensorBoard logs (--tensorboard true): what is written, and one curve per scalar after a run
is killed and resumed - steps strictly increasing, none twice, the same points as a run that
was never stopped."""
import os
import signal
import subprocess
import sys

import pytest

pytest.importorskip("tensorboardX")

from conftest import ROOT, run_cli  # noqa: E402
from src.tensorboard_log import SUBDIR, drop_after, event_files, read_scalars  # noqa: E402
from test_resume import RUN  # noqa: E402

BOARD = RUN + ["--tensorboard", "true"]
# Timing scalars differ from run to run; every other scalar is a function of the run's seed.
TIMED = {"EnvStepsPerSecond", "GradStepsPerSecond"}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("board")
    res = run_cli("train.py", "--output_dir", str(out), *BOARD)
    assert res.returncode == 0, res.stderr
    return out


def _assert_one_curve_each(scalars):
    for tag, points in scalars.items():
        steps = [s for s, _ in points]
        assert all(a < b for a, b in zip(steps, steps[1:])), (tag, steps)


def test_run_writes_every_scalar_at_env_steps(uninterrupted):
    scalars = read_scalars(str(uninterrupted / SUBDIR))
    epoch_steps = [200, 400, 600, 800]  # 4 epochs of 2 cycles of 100 env steps
    for tag in ("Evaluation/AverageReturn", "Evaluation/StdReturn", "Exploration/Sigma",
                "EnvStepsPerSecond", "GradStepsPerSecond"):
        assert [s for s, _ in scalars[tag]] == epoch_steps, tag
    # Learning starts in the first epoch's second cycle (min_buffer_size 100): losses, Q and
    # target statistics from the first epoch on.
    for tag in ("QFunction/AverageQFunctionLoss", "Policy/AveragePolicyLoss",
                "QFunction/AverageQ", "QFunction/MaxQ", "QFunction/AverageY"):
        assert [s for s, _ in scalars[tag]] == epoch_steps, tag
    # Two Pendulum copies (200-step episodes, 2 x 100 env steps per cycle) end episodes
    # together at env steps 400 and 800: one point each, the mean of the two, length 200.
    assert scalars["Episode/Length"] == [(400, 200.0), (800, 200.0)]
    assert [s for s, _ in scalars["Episode/Return"]] == [400, 800]
    assert scalars["Exploration/Sigma"][0][1] == pytest.approx(0.1)  # OU sigma, constant
    with open(uninterrupted / "progress.csv") as f:
        last = f.read().splitlines()[-1].split(",")
    assert scalars["Evaluation/AverageReturn"][-1][1] == pytest.approx(float(last[2]), rel=1e-6)
    _assert_one_curve_each(scalars)


def test_killed_and_resumed_run_shows_one_curve_per_scalar(tmp_path, uninterrupted):
    env = dict(os.environ, DDPG_TEST_KILL_IN_SAVE="3")
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "train.py"), "--output_dir",
                           str(tmp_path), *BOARD], cwd=ROOT, env=env, capture_output=True)
    assert proc.returncode == -signal.SIGKILL
    # Killed while saving epoch 3, after its points were written: the resume from epoch 2
    # must drop them, or TensorBoard would draw epoch 3 twice.
    before = read_scalars(str(tmp_path / SUBDIR))
    assert before["Evaluation/AverageReturn"][-1][0] == 600
    res = run_cli("train.py", "--output_dir", str(tmp_path), *BOARD, "--resume", "auto")
    assert res.returncode == 0, res.stderr
    resumed = read_scalars(str(tmp_path / SUBDIR))
    _assert_one_curve_each(resumed)
    reference = read_scalars(str(uninterrupted / SUBDIR))
    assert resumed.keys() == reference.keys()
    for tag in reference:
        if tag in TIMED:
            assert [s for s, _ in resumed[tag]] == [s for s, _ in reference[tag]], tag
        else:
            assert resumed[tag] == reference[tag], tag
    assert len(event_files(str(tmp_path / SUBDIR))) == 2  # the killed run's, then the resumed


def test_tensorboard_can_be_turned_on_at_resume(tmp_path):
    first = run_cli("train.py", "--output_dir", str(tmp_path), *RUN[:1], "2", *RUN[2:])
    assert first.returncode == 0, first.stderr
    res = run_cli("train.py", "--output_dir", str(tmp_path), *BOARD, "--resume", "auto")
    assert res.returncode == 0, res.stderr
    scalars = read_scalars(str(tmp_path / SUBDIR))
    assert [s for s, _ in scalars["Evaluation/AverageReturn"]] == [600, 800]


def test_drop_after_cuts_points_and_a_torn_record(tmp_path):
    from tensorboardX import SummaryWriter
    with SummaryWriter(str(tmp_path)) as writer:
        for step in (10, 20, 30):
            writer.add_scalar("a", step / 10, step)
    (path,) = event_files(str(tmp_path))
    with open(path, "ab") as f:
        f.write(b"\x20\x00\x00")  # a record cut short by a kill
    assert read_scalars(str(tmp_path)) == {"a": [(10, 1.0), (20, 2.0), (30, 3.0)]}
    drop_after(str(tmp_path), 20)
    assert read_scalars(str(tmp_path)) == {"a": [(10, 1.0), (20, 2.0)]}
    drop_after(str(tmp_path), -1)
    assert event_files(str(tmp_path)) == []


def test_missing_writer_is_one_error_line(tmp_path):
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "tensorboardX.py").write_text("raise ImportError('not installed')\n")
    res = run_cli("train.py", "--output_dir", str(tmp_path / "out"), *BOARD,
                  env_extra={"PYTHONPATH": str(fake)})
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert lines == ["error: setting 'tensorboard' needs tensorboardX: "
                     "pip install -r requirements-tensorboard.txt"]
    assert not (tmp_path / "out" / "progress.csv").exists()
