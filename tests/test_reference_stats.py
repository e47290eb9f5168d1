"""The statistics benchmarks/td3_reference.py sets our seeds beside the TD3 authors' with."""
import importlib.util
import os

import numpy as np

_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                     "benchmarks", "td3_reference.py")
_spec = importlib.util.spec_from_file_location("td3_reference", _PATH)
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)


def test_permutation_p_of_separated_groups_is_the_exact_tail():
    # 5 zeros against 5 tens: only the 2 labellings that keep the groups apart (of C(10,5) =
    # 252) give a gap of 10, so the two-sided p is 2/252 (plus the +1 correction's share).
    a, b = np.zeros(5), np.full(5, 10.0)
    p = ref.permutation_p(a, b, np.random.default_rng(0))
    assert abs(p - 2 / 252) < 0.004


def test_permutation_p_of_one_distribution_is_one():
    a = np.array([1.0, 2.0, 3.0])
    assert ref.permutation_p(a, a.copy(), np.random.default_rng(0)) == 1.0


def test_bootstrap_intervals_hold_the_mean_and_collapse_on_constants():
    rng = np.random.default_rng(0)
    assert ref.bootstrap_interval(np.full(4, 7.0), rng) == (7.0, 7.0)
    values = np.array([355.0, 1397.1, 2651.8])
    lo, hi = ref.bootstrap_interval(values, rng)
    assert values.min() <= lo < values.mean() < hi <= values.max()
    dlo, dhi = ref.difference_interval(values, values + 1000.0, rng)
    assert dlo < -1000.0 < dhi and dhi < 1000.0


def test_our_returns_reads_the_row_at_the_step(tmp_path):
    for seed, ret in enumerate([10.0, 30.0]):
        (tmp_path / f"s{seed}.csv").write_text(
            "TotalEnvSteps,Evaluation/AverageReturn\n"
            f"100,1.0\n200,{ret}\n300,99.0\n")
    got = ref.our_returns(str(tmp_path / "s*.csv"), 200)
    assert got.tolist() == [10.0, 30.0]


def test_compare_cells_of_constant_groups():
    # Two runs at 5 against two at 3: intervals collapse onto the means; of the C(4,2) = 6
    # labellings of the pooled values only the 2 that keep 5s and 3s apart reach a gap of 2.
    cells = ref.compare(np.full(2, 5.0), np.full(2, 3.0), np.random.default_rng(0))
    assert cells[:3] == ["2, 5 [5, 5]", "2, 3 [3, 3]", "2 [2, 2]"]
    assert abs(float(cells[3]) - 2 / 6) < 0.01


def test_compare_runs_refuses_an_odd_group_and_a_missing_step(tmp_path):
    import subprocess
    import sys
    script = os.path.join(os.path.dirname(_PATH), "compare_runs.py")
    for seed in range(2):
        (tmp_path / f"a{seed}.csv").write_text(
            f"TotalEnvSteps,Evaluation/AverageReturn\n100,{seed}\n")
    odd = subprocess.run([sys.executable, script, "--step", "100", f"A={tmp_path}/a*.csv"],
                         capture_output=True, text=True)
    assert odd.returncode == 2 and "pairs of LABEL=GLOB" in odd.stderr
    late = subprocess.run([sys.executable, script, "--step", "200", f"A={tmp_path}/a*.csv",
                           f"B={tmp_path}/a*.csv"], capture_output=True, text=True)
    assert late.returncode == 2 and "at step 200" in late.stderr
    ok = subprocess.run([sys.executable, script, "--step", "100", f"A={tmp_path}/a*.csv",
                         f"B={tmp_path}/a*.csv"], capture_output=True, text=True)
    assert ok.returncode == 0 and "| A: 2, 0 [0, 1] | B: 2, 0 [0, 1] | 0 [" in ok.stdout
