"""Smoke runs of train.py, eval.py and the CPU launchers, and one-line errors for bad input."""
import csv

import pytest

from conftest import TINY, backend_available, run_cli
from src.progress import COLUMNS, ProgressLog


def test_train_writes_checkpoints_csv_and_curve(trained_dir):
    for name in ("ddpg_actortarget.ckpt", "ddpg_actor.ckpt", "ddpg_critic.ckpt",
                 "ddpg_critictarget.ckpt", "config.yaml"):
        assert (trained_dir / name).stat().st_size > 0, name
    assert (trained_dir / "learning_curve.png").read_bytes()[:4] == b"\x89PNG"
    with open(trained_dir / "progress.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == COLUMNS
    assert [int(r["TotalEnvSteps"]) for r in rows] == [100, 200]
    assert float(rows[1]["QFunction/AverageQFunctionLoss"]) >= 0
    assert not list(trained_dir.glob("*.tmp*"))


def test_train_prints_garage_table(tmp_path):
    res = run_cli("train.py", "--output_dir", str(tmp_path), *TINY, "--n_epochs", "1")
    assert res.returncode == 0, res.stderr
    for key in ("Evaluation/AverageReturn", "Evaluation/StdReturn", "Evaluation/MaxReturn",
                "Evaluation/MinReturn", "Evaluation/AverageDiscountedReturn",
                "QFunction/AverageQ", "QFunction/MaxQ", "QFunction/AverageY",
                "QFunction/AverageQFunctionLoss", "Policy/AveragePolicyLoss", "TotalEnvSteps",
                "EnvStepsPerSecond"):
        assert key in res.stdout, key


def test_eval_prints_episodes_and_avg_reward(trained_dir):
    res = run_cli("eval.py", "--output_dir", str(trained_dir), "--eval_episodes", "3")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert sum(line.startswith("episode ") for line in lines) == 3
    assert lines[-1].startswith("avgReward: ")
    float(lines[-1].split(":")[1])


def test_eval_is_deterministic(trained_dir):
    a = run_cli("eval.py", "--output_dir", str(trained_dir), "--eval_episodes", "2")
    b = run_cli("eval.py", "--output_dir", str(trained_dir), "--eval_episodes", "2")
    assert a.stdout.strip().splitlines()[-1] == b.stdout.strip().splitlines()[-1]


def test_help_lists_settings():
    res = run_cli("train.py", "--help")
    assert res.returncode == 0 and "--target_update_tau" in res.stdout


def test_cpu_scripts_train_then_eval(tmp_path):
    preset = tmp_path / "tiny.yaml"
    pairs = dict(zip(TINY[::2], TINY[1::2]))
    preset.write_text("".join(f"{k[2:]}: {v}\n" for k, v in pairs.items()))
    out = tmp_path / "run"
    res = run_cli("scripts/run_standalone_train_cpu.sh", str(preset), str(out))
    assert res.returncode == 0, res.stdout + res.stderr
    assert (out / "train.log").is_file() and (out / "ddpg_actortarget.ckpt").is_file()
    trained = res.stdout.strip().splitlines()[-1]
    # The log goes to the current directory, not into the run directory (which may be
    # read-only; root ignores the mode, so that is checked by where eval.log lands), and the
    # run's config.yaml gives the settings (no CONFIG_PATH needed).
    here = tmp_path / "here"
    here.mkdir()
    out.chmod(0o555)
    try:
        res = run_cli("scripts/run_eval_cpu.sh", str(out / "ddpg_actortarget.ckpt"), cwd=here)
    finally:
        out.chmod(0o755)
    assert res.returncode == 0, res.stdout + res.stderr
    assert (here / "eval.log").is_file() and not (out / "eval.log").exists()
    assert trained.endswith(res.stdout.strip().splitlines()[-1])  # the same avgReward
    logs = tmp_path / "logs"
    res = run_cli("scripts/run_eval_cpu.sh", "--log_dir", str(logs),
                  str(out / "ddpg_actortarget.ckpt"), str(preset), cwd=here)
    assert res.returncode == 0 and (logs / "eval.log").is_file(), res.stdout + res.stderr


@pytest.mark.parametrize("script, args, message", [
    ("scripts/run_eval_cpu.sh", [], "error: CKPT_FILE is missing"),
    ("scripts/run_eval_cpu.sh", ["/no/such.ckpt"], "error: CKPT_FILE /no/such.ckpt is not a file"),
    ("scripts/run_eval_cpu.sh", ["--log_dir"], "error: option --log_dir needs a directory"),
    ("scripts/run_eval_cpu.sh", ["--verbose", "x.ckpt"], "error: unknown option --verbose"),
    ("scripts/run_eval_cpu.sh", ["x.ckpt", "c.yaml", "one"], "error: DEVICE_ID must be an integer"),
    ("scripts/run_standalone_train_cpu.sh", ["/no/such.yaml"],
     "error: CONFIG_PATH /no/such.yaml is not a file"),
    ("scripts/run_standalone_train_cpu.sh", ["a", "b", "c", "d"], "error: too many arguments"),
    ("scripts/run_distribute_train_cpu.sh", ["two"], "error: WORKER_NUM must be a positive"),
])
def test_scripts_reject_bad_arguments(script, args, message):
    res = run_cli(script, *args)
    assert res.returncode == 2, res.stderr
    assert res.stderr.startswith(message), res.stderr


def test_scripts_print_their_usage_on_help():
    res = run_cli("scripts/run_distribute_train_cpu.sh", "--help")
    assert res.returncode == 0 and res.stdout.startswith("Usage: bash run_distribute_train_cpu.sh")
    # The eval launchers' CONFIG_PATH is a --config_path: the run's settings win over it.
    res = run_cli("scripts/run_eval_cpu.sh", "--help")
    assert res.returncode == 0 and "CONFIG_PATH only fills what" in res.stdout, res.stdout


def test_eval_script_refuses_an_unwritable_log_dir(trained_dir, tmp_path):
    a_file = tmp_path / "a_file"  # a directory under a file cannot be made, even by root
    a_file.write_text("")
    res = run_cli("scripts/run_eval_cpu.sh", "--log_dir", str(a_file / "logs"),
                  str(trained_dir / "ddpg_actortarget.ckpt"))
    assert res.returncode == 2
    assert res.stderr.startswith(f"error: log directory {a_file / 'logs'} cannot be written")


@pytest.mark.parametrize("dev, name", [
    pytest.param(dev, name, marks=pytest.mark.skipif(backend_available(name),
                                                     reason=f"{name} is available here"))
    for dev, name in (("gpu", "GPU"), ("ascend", "Ascend"))])
def test_gpu_and_ascend_scripts_refuse_clearly(trained_dir, tmp_path, dev, name):
    res = run_cli(f"scripts/run_eval_{dev}.sh", str(trained_dir / "ddpg_actortarget.ckpt"),
                  cwd=tmp_path)
    assert res.returncode == 2
    assert f"device_target {name} is not available" in res.stderr


def test_same_seed_same_table(tmp_path, trained_dir):
    """Two runs with the same seed produce the same per-epoch figures (timing aside), however
    the gradient steps are grouped into graph calls."""
    res = run_cli("train.py", "--output_dir", str(tmp_path), *TINY, "--grad_steps_per_call", "2")
    assert res.returncode == 0, res.stderr

    def figures(path):
        with open(path / "progress.csv", newline="") as f:
            return [{k: v for k, v in row.items() if k not in ("EnvStepsPerSecond", "WallTime")}
                    for row in csv.DictReader(f)]
    assert figures(tmp_path) == figures(trained_dir)


def test_plot_draws_mean_and_spread_of_runs(tmp_path, trained_dir):
    import shutil
    for seed in (0, 1):
        shutil.copytree(trained_dir, tmp_path / f"seed_{seed}")
    out = tmp_path / "curves.png"
    res = run_cli("plot.py", f"tiny={tmp_path}/seed_*", str(trained_dir / "progress.csv"),
                  "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "tiny: 2 runs" in res.stdout and out.read_bytes()[:4] == b"\x89PNG"
    res = run_cli("plot.py", str(tmp_path / "nothing_*"))
    assert res.returncode == 2 and res.stderr.startswith("error: no progress.csv found")


def test_plot_every_seed_draws_each_run(tmp_path, trained_dir):
    from src.plotting import plot_curves, read_rows
    rows = read_rows(str(trained_dir / "progress.csv"))
    other = [dict(r, **{"Evaluation/AverageReturn": r["Evaluation/AverageReturn"] + 1.0})
             for r in rows]
    groups = {"a": [rows, other], "b": [rows]}
    # Means only: one line per group; every seed: also one per run of a group of several.
    assert plot_curves(groups, str(tmp_path / "m.png"), "t") == 2
    assert plot_curves(groups, str(tmp_path / "s.png"), "t", every_seed=True) == 4


def test_resumed_progress_csv_is_whole_before_the_next_epoch(tmp_path):
    # A resumed run rewrites progress.csv from its state's rows; until its next epoch ends the
    # file must hold them all (plot.py reads it while a run trains).
    rows = [dict({c: 0.0 for c in COLUMNS}, Epoch=i, TotalEnvSteps=1000 * (i + 1))
            for i in range(300)]
    log = ProgressLog(str(tmp_path), "Pendulum-v1", "DDPG", rows, enabled=True,
                      progress_bar=False, total_steps=400_000, done_steps=300_000)
    try:
        with open(tmp_path / "progress.csv", newline="") as f:
            read = list(csv.DictReader(f))
        assert [int(float(r["Epoch"])) for r in read] == list(range(300))
    finally:
        log.close()
