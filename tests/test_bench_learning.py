"""The seed table benchmarks/bench_learning.py --collect prints and writes, on hand-made runs."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = "Epoch,TotalEnvSteps,Evaluation/AverageReturn,Evaluation/StdReturn,WallTime\n"


def _run(out, seed, returns, avg_reward):
    run = out / f"seed_{seed}"
    run.mkdir(parents=True)
    rows = "".join(f"{i},{(i + 1) * 1000},{r},{i + 0.5},{(i + 1) * 10.0}\n"
                   for i, r in enumerate(returns))
    (run / "progress.csv").write_text(HEADER + rows)
    (run / "final.txt").write_text(f"as eval.py: avgReward: {avg_reward}\n")


def _collect(out, *args):
    return subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "bench_learning.py"),
                           "--out", str(out), "--collect", *args],
                          capture_output=True, text=True, cwd=ROOT)


def test_collect_tabulates_final_last3_best_and_eval_py(tmp_path):
    # Seed 0 peaks mid-run (50 at 2,000 steps) and ends at 20; seed 1 ties its best (40) at
    # 2,000 and 4,000 steps, and the first is reported.
    _run(tmp_path, 0, [10.0, 50.0, 30.0, 20.0], 25.0)
    _run(tmp_path, 1, [0.0, 40.0, 20.0, 40.0], 35.0)
    done = _collect(tmp_path, "--seeds", "0", "1", "--block", "2")
    assert done.returncode == 0, done.stderr
    table = (tmp_path / "learning.md").read_text()
    assert "| 0 | 4000 | 20.0 | 3.5 | 33.3 | 50.0 (2000) | 25.0 | 40 |" in table
    assert "| 1 | 4000 | 40.0 | 3.5 | 33.3 | 40.0 (2000) | 35.0 | 40 |" in table
    # means over the two seeds, population sd: final (20, 40), last 3 (33.3, 33.3),
    # best (50, 40), eval.py (25, 35)
    assert ("| mean over seeds | | 30.0 (sd 10.0) | | 33.3 (sd 0.0) | 45.0 (sd 5.0) "
            "| 30.0 (sd 5.0) | 40 |") in table
    # blocks of 2 epochs, each seed's mean: seed 0 (30, 25), seed 1 (20, 30)
    assert "| 1000-2000 | 25.0 (sd 5.0) |\n| 3000-4000 | 27.5 (sd 2.5) |" in table
    assert table.split("\n", 2)[2].strip() in done.stdout  # printed as written, less the command


def test_block_means_cover_the_seeds_common_epochs_only(tmp_path):
    # seed 1 stopped after 2 epochs: one block of 2 (both seeds), none from seed 0's last two
    _run(tmp_path, 0, [10.0, 50.0, 30.0, 20.0], 25.0)
    _run(tmp_path, 1, [0.0, 40.0], 35.0)
    done = _collect(tmp_path, "--seeds", "0", "1", "--block", "2")
    assert done.returncode == 0, done.stderr
    assert "| 1000-2000 | 25.0 (sd 5.0) |" in done.stdout and "| 3000-4000 |" not in done.stdout


def test_collect_without_a_run_is_one_error_line(tmp_path):
    done = _collect(tmp_path, "--seeds", "3")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "seed_3" in done.stderr


def test_a_block_of_no_epochs_is_one_error_line(tmp_path):
    _run(tmp_path, 0, [10.0], 25.0)
    done = _collect(tmp_path, "--seeds", "0", "--block", "0")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "--block" in done.stderr
