"""scripts/run_seeds_cpu.sh: several seeds at once, one pinned run per core, resumable."""
import os
import re
import time

import pytest

from conftest import ROOT, TINY, run_cli
from src.state import list_states

SCRIPT = "scripts/run_seeds_cpu.sh"
CONFIG = "default_config.yaml"
HEADER = re.compile(r"^=== (\S+ \S+) taskset -c (\d+) ")


def _sessions(log):
    """(start time, core) of every launch recorded in a seed's log, oldest first."""
    with open(log, encoding="utf-8") as f:
        found = [HEADER.match(line) for line in f]
    return [(time.mktime(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")), int(m.group(2)))
            for m in found if m]


def _last_session(log):
    with open(log, encoding="utf-8") as f:
        text = f.read()
    return text[text.rindex("\n=== ") + 1:] if "\n=== " in text else text


def _state_files(out):
    """Every file of the seed's training states with its modification time."""
    return {os.path.join(d, name): os.stat(os.path.join(d, name)).st_mtime_ns
            for _, d in list_states(str(out)) for name in os.listdir(d)}


def test_seeds_run_pinned_resume_and_finished_ones_are_not_retrained(tmp_path):
    root = tmp_path / "seeds"
    cmd = [SCRIPT, CONFIG, str(root), "0", "1", "--", *TINY]
    # First attempt: every run is killed while saving its last epoch (the fault injection of
    # src/state.py), as a crash or a reboot would; the launcher reports both failures.
    res = run_cli(*cmd, env_extra={"DDPG_TEST_KILL_IN_SAVE": "2"})
    assert res.returncode == 1, res.stdout + res.stderr
    for seed in (0, 1):
        assert re.search(rf"^seed {seed}: exit 137: failed", res.stdout, re.M), res.stdout
        assert [e for e, _ in list_states(str(root / f"seed_{seed}"))] == [1]
    assert "2 of 2 seed(s) failed" in res.stderr

    # The same command resumes each seed from its epoch 1 and finishes it.
    res = run_cli(*cmd)
    assert res.returncode == 0, res.stdout + res.stderr
    cores = set()
    for seed in (0, 1):
        out, log = root / f"seed_{seed}", root / f"seed_{seed}.log"
        assert re.search(rf"^seed {seed}: exit 0: .*avgReward: -?\d+\.\d+$", res.stdout,
                         re.M), res.stdout
        session = _last_session(log)
        assert f"resumed from {out}/state/epoch_000001" in session
        for name in ("ddpg_actortarget.ckpt", "config.yaml", "learning_curve.png"):
            assert (out / name).stat().st_size > 0, name
        with open(out / "progress.csv", encoding="utf-8") as f:
            assert len(f.read().strip().splitlines()) == 3  # header + 2 epochs
        assert len(_sessions(log)) == 2  # the log keeps the failed attempt too
        cores.add(_sessions(log)[-1][1])
    assert cores <= os.sched_getaffinity(0)
    assert len(cores) == min(2, len(os.sched_getaffinity(0)))  # one core each

    # Once more: finished seeds are not trained again; their result is printed again.
    before = {s: ((root / f"seed_{s}" / "progress.csv").read_bytes(),
                  _state_files(root / f"seed_{s}")) for s in (0, 1)}
    again = run_cli(*cmd)
    assert again.returncode == 0, again.stdout + again.stderr
    for seed in (0, 1):
        out = root / f"seed_{seed}"
        assert (out / "progress.csv").read_bytes() == before[seed][0]
        assert _state_files(out) == before[seed][1]
        assert f"resumed from {out}/state/epoch_000002" in _last_session(
            root / f"seed_{seed}.log")
    assert [ln for ln in again.stdout.splitlines() if "avgReward" in ln] == \
        [ln for ln in res.stdout.splitlines() if "avgReward" in ln]


def test_more_seeds_than_cores_wait_for_a_free_core(tmp_path):
    """Under a one-core mask the second seed starts only once the first has finished."""
    root = tmp_path / "seeds"
    core = min(os.sched_getaffinity(0))
    res = run_cli("taskset", "-c", str(core), "bash", os.path.join(ROOT, SCRIPT), CONFIG,
                  str(root), "3", "4", "--", *TINY)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "2 seed(s) on 1 core(s)" in res.stdout
    (start3, core3), = _sessions(root / "seed_3.log")
    (start4, core4), = _sessions(root / "seed_4.log")
    assert core3 == core4 == core
    # Header times are whole seconds; the first run's last file is written before it exits.
    assert start4 >= int((root / "seed_3" / "learning_curve.png").stat().st_mtime)


@pytest.mark.parametrize("args, message", [
    ([], "error: CONFIG_PATH is missing"),
    ([CONFIG, "out"], "error: no SEED given"),
    (["/no/such.yaml", "out", "0"], "error: CONFIG_PATH /no/such.yaml is not a file"),
    ([CONFIG, "out", "0", "one"], "error: SEED must be a non-negative integer, got 'one'"),
    ([CONFIG, "out", "-1"], "error: SEED must be a non-negative integer, got '-1'"),
    ([CONFIG, "out", "2", "3", "2"], "error: a SEED is given twice"),
    ([CONFIG, "out", "0", "--", "--seed", "5"],
     "error: TRAIN_OPTION --seed is set by the launcher"),
    ([CONFIG, "out", "0", "--", "--output_dir=x"],
     "error: TRAIN_OPTION --output_dir is set by the launcher"),
])
def test_bad_input_is_refused(tmp_path, args, message):
    res = run_cli(SCRIPT, *args, cwd=tmp_path)
    assert res.returncode == 2, res.stdout + res.stderr
    assert res.stderr.startswith(message), res.stderr
    assert not (tmp_path / "out").exists()  # refused before anything is written


def test_a_second_launcher_on_the_same_root_is_refused(tmp_path):
    """Two launchers on one OUTPUT_ROOT would train each seed twice into one directory."""
    import fcntl
    root = tmp_path / "seeds"
    root.mkdir()
    with open(root / ".run_seeds.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running launcher holds it
        res = run_cli(SCRIPT, CONFIG, str(root), "0", "--", *TINY)
    assert res.returncode == 2, res.stdout + res.stderr
    assert res.stderr.startswith(f"error: another launcher is running seeds in {root}")
    assert not (root / "seed_0").exists()
