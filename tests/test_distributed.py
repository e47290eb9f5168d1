"""Data-parallel training with msrun: 2 CPU workers on this machine."""
import os
import re
import signal
import subprocess
import sys
import time

from conftest import ROOT, TINY, progress_rows, run_cli


def _preset(tmp_path, **over):
    pairs = dict(zip(TINY[::2], TINY[1::2]))
    pairs.update({f"--{k}": str(v) for k, v in over.items()})
    path = tmp_path / "tiny.yaml"
    path.write_text("".join(f"{k[2:]}: {v}\n" for k, v in pairs.items()))
    return str(path)


def test_two_workers_end_identical_and_checkpoint_evaluates(tmp_path):
    out = tmp_path / "run"
    res = run_cli("scripts/run_distribute_train_cpu.sh", "2", _preset(tmp_path), str(out),
                  env_extra={"MASTER_PORT": "8131"})
    assert res.returncode == 0, res.stdout + res.stderr
    sums = re.findall(r"rank (\d): network checksum (\w+)", res.stdout)
    assert sorted(r for r, _ in sums) == ["0", "1"], res.stdout
    assert sums[0][1] == sums[1][1]
    # Both workers stepped their own environments: the table counts both.
    rows = (out / "progress.csv").read_text().strip().splitlines()
    assert rows[-1].split(",")[1] == "400"
    assert (out / "msrun_log" / "worker_1.log").is_file()
    res = run_cli("eval.py", "--output_dir", str(out), "--eval_episodes", "2")
    assert res.returncode == 0 and "avgReward:" in res.stdout


def test_a_dead_worker_stops_the_job(tmp_path):
    out = tmp_path / "run"
    env = dict(os.environ, MASTER_PORT="8132", PYTHON=sys.executable)
    proc = subprocess.Popen(["bash", os.path.join(ROOT, "scripts", "run_distribute_train_cpu.sh"),
                             "2", _preset(tmp_path, n_epochs=500), str(out)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    victim = None
    while victim is None:  # worker rank 1, once it has logged its first epoch
        assert time.time() < deadline and proc.poll() is None
        time.sleep(0.5)
        log = out / "msrun_log" / "worker_1.log"
        if not log.is_file() or "network" in log.read_text():
            continue
        for pid in os.listdir("/proc"):
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    environ = f.read().split(b"\0")
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmdline = f.read()
            except OSError:
                continue
            if b"MS_NODE_ID=1" in environ and b"train.py" in cmdline and \
                    str(out).encode() in cmdline:
                victim = int(pid)
        if victim and not (out / "progress.csv").is_file():
            victim = None  # not training yet
    os.kill(victim, signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=180)
    assert proc.returncode != 0
    assert "distributed training failed; worker logs in" in stderr


def test_killed_distributed_run_resumes_to_the_same_run(tmp_path):
    def checksums(stdout):
        return sorted(re.findall(r"rank (\d): network checksum (\w+)", stdout))

    preset = _preset(tmp_path, n_epochs=4)
    ref = run_cli("scripts/run_distribute_train_cpu.sh", "2", preset, str(tmp_path / "ref"),
                  env_extra={"MASTER_PORT": "8133"})
    assert ref.returncode == 0, ref.stdout + ref.stderr
    out = tmp_path / "run"
    # Both workers are SIGKILLed while writing their epoch-3 state: the job fails. Each job has
    # its own port, two or more from the others' (a cluster that does not start is started
    # again on the next port).
    died = run_cli("scripts/run_distribute_train_cpu.sh", "2", preset, str(out),
                   env_extra={"MASTER_PORT": "8144", "DDPG_TEST_KILL_IN_SAVE": "3"})
    assert died.returncode != 0
    assert (out / "state" / "epoch_000002").is_dir()
    assert (out / "state" / "rank_1" / "epoch_000002").is_dir()
    res = run_cli("scripts/run_distribute_train_cpu.sh", "2",
                  _preset(tmp_path, n_epochs=4, resume="auto"), str(out),
                  env_extra={"MASTER_PORT": "8155"})
    assert res.returncode == 0, res.stdout + res.stderr
    assert "resumed from" in (out / "msrun_log" / "worker_1.log").read_text()
    assert progress_rows(out) == progress_rows(tmp_path / "ref")
    assert checksums(res.stdout) == checksums(ref.stdout)


FAKE_MSRUN = """#!/bin/bash
# Stands in for msrun: records its port; fails as MindSpore's cluster start-up does when
# FAIL_AS says so (the first FAIL_TIMES calls), else writes what a finished job's worker writes.
for a in "$@"; do case $a in --master_port=*) port=${a#*=};; --log_dir=*) logs=${a#*=};; esac; done
mkdir -p "$logs"; echo "$port" >> "$CALLS"
if [ "$(wc -l < "$CALLS")" -le "$FAIL_TIMES" ]; then
  echo "[ERROR] DISTRIBUTED $FAIL_AS" > "$logs/scheduler.log"; exit 1
fi
echo "rank 0: network checksum 0123456789abcdef" > "$logs/worker_0.log"
"""


def _fake_msrun(tmp_path, fail_times, fail_as):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    (bin_dir / "msrun").write_text(FAKE_MSRUN)
    (bin_dir / "msrun").chmod(0o755)
    calls = tmp_path / "calls"
    calls.touch()
    res = run_cli("scripts/run_distribute_train_cpu.sh", "2", _preset(tmp_path),
                  str(tmp_path / "run"),
                  env_extra={"PYTHON": str(bin_dir / "python"), "MASTER_PORT": "8170",
                             "CALLS": str(calls), "FAIL_TIMES": str(fail_times),
                             "FAIL_AS": fail_as})
    return res, calls.read_text().split()


def test_a_cluster_that_did_not_start_is_started_once_more(tmp_path):
    res, ports = _fake_msrun(tmp_path, 1, "Building networking for MS_SCHED failed.")
    assert res.returncode == 0, res.stdout + res.stderr
    assert ports == ["8170", "8171"]
    assert "starting the job again on port 8171" in res.stderr
    assert "network checksum" in res.stdout


def test_a_cluster_start_is_retried_once_only(tmp_path):
    res, ports = _fake_msrun(tmp_path, 2, "Building networking for MS_SCHED failed.")
    assert res.returncode != 0 and ports == ["8170", "8171"]
    assert "distributed training failed" in res.stderr


def test_a_job_that_failed_otherwise_is_not_started_again(tmp_path):
    res, ports = _fake_msrun(tmp_path, 1, "a worker exited")
    assert res.returncode != 0 and ports == ["8170"]
    assert "distributed training failed" in res.stderr
