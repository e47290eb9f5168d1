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
