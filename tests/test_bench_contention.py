"""benchmarks/bench_contention.py: every scenario runs and reaches the table (--smoke)."""
import os
import re
from importlib.util import find_spec

import pytest

from conftest import run_cli

BENCH = "benchmarks/bench_contention.py"
# The scenarios that need neither root nor a cgroup, and the table row each one prints.
ROWS = {"alone": "alone", "pinned_pair": "two at once, pinned one per core (combined)",
        "unpinned_pair": "two at once, unpinned (combined)",
        "busy": "beside a busy loop, equal priority",
        "niced_busy": "beside a busy loop, nice 19"}
JAX = find_spec("jax") is not None and find_spec("optax") is not None
NUMBER = r"\d+\.\d"


def _table(stdout):
    """{first cell: the other cells} of the Markdown table's body."""
    rows = [line.strip("|").split("|") for line in stdout.splitlines()
            if line.startswith("| ") and "---" not in line]
    return {cells[0].strip(): [c.strip() for c in cells[1:]] for cells in rows[1:]}


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="the pinned pair needs two cores")
def test_smoke_prints_every_scenario_for_both_contenders():
    res = run_cli(BENCH, "--smoke", "--scenarios", *ROWS, timeout=1200)
    assert res.returncode == 0, res.stdout + res.stderr
    out = res.stdout
    assert re.search(r"^## Contention: .+, \d+ cores, \d{4}-\d\d-\d\d$", out, re.M), out
    table = _table(out)
    assert list(table) == list(ROWS.values()), out
    n = 2 if JAX else 1
    for title, cells in table.items():
        assert all(re.fullmatch(NUMBER + r"\d*", c) for c in cells[:n]), (title, cells)
        beside = title.startswith("beside")
        assert all(bool(re.fullmatch(NUMBER + r"\d*x", c)) == beside
                   for c in cells[n:2 * n]), (title, cells)
    # Pinned one per core, the kernel runs one thread in each process.
    assert table[ROWS["pinned_pair"]][-1] == "1", out
    assert re.search(rf"^- this package \[native\]: unpinned pair / pinned pair {NUMBER}\d*x",
                     out, re.M), out
    if JAX:
        for title in (ROWS["busy"], ROWS["niced_busy"]):
            assert re.search(rf"^- {title}: this package slows down {NUMBER}\d*x, JAX", out,
                             re.M), out
    else:
        assert "JAX rows skipped: " in out


def test_a_cgroup_limited_to_one_cpu_gets_one_kernel_thread():
    """Unpinned (both cores in its affinity mask) but limited to one CPU by its cgroup, the
    native kernel must size its pool by the quota: more threads spin against it."""
    res = run_cli(BENCH, "--smoke", "--scenarios", "cgroup_1cpu", "--contenders", "ours",
                  timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    skipped = re.search(r"^round 0  cgroup_1cpu\s+skipped: (.*)$", res.stdout, re.M)
    if skipped:
        pytest.skip(f"no CPU-limited cgroup here: {skipped.group(1)}")
    row = _table(res.stdout)["cgroup limited to 1 CPU"]
    assert row[-1] == "1", res.stdout
    assert "the native kernel ran 1 thread(s)" in res.stdout


@pytest.mark.parametrize("args, message", [
    (["--rounds", "0"], "error: --rounds must be at least 1, got 0"),
    (["--scenarios", "everything"], "error: argument --scenarios: invalid choice"),
])
def test_bad_options_are_refused(args, message):
    res = run_cli(BENCH, *args)
    assert res.returncode == 2
    assert res.stderr.startswith(message), res.stderr
