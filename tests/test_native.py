"""The native learner backend (one Custom op per K steps) against the graph backend."""
import numpy as np
import mindspore as ms
import pytest

from src.config import load_config
from src.environment import EnvSpec
from src.errors import UserError
from src.learner import Learner, choose_backend

SMALL = ["--policy_hidden_sizes", "[8, 6]", "--qf_hidden_sizes", "[8, 6]"]
# Every setting the kernel reads, away from its default (both decays different, so a swap
# shows), with an asymmetric action box.
NON_DEFAULT = ["--discount", "0.9", "--target_update_tau", "0.1", "--policy_lr", "0.01",
               "--qf_lr", "0.02", "--reward_scale", "2.5", "--clip_return", "0.8",
               "--clip_pos_returns", "true", "--qf_weight_decay", "0.01",
               "--policy_weight_decay", "0.05", "--qf_action_layer", "1"]


@pytest.fixture
def asym_spec():
    return EnvSpec("asym", 3, 2, np.array([-2.0, -1.0], np.float32),
                   np.array([2.0, 3.0], np.float32), None)


def _learner(spec, backend, argv=()):
    cfg, _ = load_config(SMALL + list(argv) + ["--learner_backend", backend])
    return Learner(spec, cfg)


def _copy_state(source, target):
    for a, b in zip(source.update_cell.get_parameters(), target.update_cell.get_parameters()):
        assert a.name == b.name
        b.set_data(ms.Tensor(a.asnumpy().copy()))


def _batches(spec, k, n=16, seed=0):
    rng = np.random.default_rng(seed)
    f = np.float32
    return (rng.standard_normal((k, n, spec.obs_dim)).astype(f),
            rng.uniform(spec.low, spec.high, (k, n, spec.act_dim)).astype(f),
            rng.standard_normal((k, n)).astype(f),
            rng.standard_normal((k, n, spec.obs_dim)).astype(f),
            (rng.random((k, n)) < 0.3).astype(f))


@pytest.mark.parametrize("argv", [[], NON_DEFAULT], ids=["defaults", "non-default"])
def test_native_steps_equal_graph_steps(asym_spec, argv):
    graph, native = _learner(asym_spec, "graph", argv), _learner(asym_spec, "native", argv)
    assert (graph.backend, native.backend) == ("graph", "native")
    _copy_state(graph, native)
    for call in range(3):
        batches = _batches(asym_spec, 4, seed=call)
        graph.update(batches)
        native.update(batches)
    assert_learners_agree(graph, native, 12)


def assert_learners_agree(graph, native, steps):
    """Same parameters (to float rounding) and statistics after `steps` steps on each."""
    for a, b in zip(graph.update_cell.get_parameters(), native.update_cell.get_parameters()):
        # Adam's first steps divide by sqrt(v) ~ |g|: float rounding of tiny gradients shows.
        np.testing.assert_allclose(b.asnumpy(), a.asnumpy(), rtol=2e-4, atol=1e-6,
                                   err_msg=a.name)
    g_stats, n_stats = graph.read_stats(), native.read_stats()
    assert n_stats["GradSteps"] == g_stats["GradSteps"] == steps
    for key, value in g_stats.items():
        np.testing.assert_allclose(n_stats[key], value, rtol=1e-4, err_msg=key)


def assert_steps_per_call_do_not_matter(one, many, batches):
    """`one` takes the stacked `batches` one step per call, `many` in calls of 1, 3 and 2 steps:
    bit-identical parameters (the first six steps of `batches` are used)."""
    for i in range(6):
        one.update([x[i:i + 1] for x in batches])
    for lo, hi in ((0, 1), (1, 4), (4, 6)):
        many.update([x[lo:hi] for x in batches])
    for a, b in zip(one.update_cell.get_parameters(), many.update_cell.get_parameters()):
        np.testing.assert_array_equal(a.asnumpy(), b.asnumpy(), err_msg=a.name)


def test_native_results_do_not_depend_on_steps_per_call(asym_spec):
    one, many = _learner(asym_spec, "native"), _learner(asym_spec, "native")
    _copy_state(one, many)
    batches = _batches(asym_spec, 6)
    for i in range(6):
        one.update([x[i:i + 1] for x in batches])
    many.update([x[:4] for x in batches])
    many.update([x[4:] for x in batches])
    for a, b in zip(one.update_cell.get_parameters(), many.update_cell.get_parameters()):
        np.testing.assert_array_equal(a.asnumpy(), b.asnumpy(), err_msg=a.name)


def test_native_updates_the_host_actor_and_statistics(asym_spec):
    learner = _learner(asym_spec, "native")
    obs = np.zeros((1, asym_spec.obs_dim), np.float32)
    before = learner.act(obs)
    learner.update(_batches(asym_spec, 5))
    learner.sync_actor()
    assert not np.array_equal(learner.act(obs), before)
    assert learner.read_stats()["GradSteps"] == 5
    assert learner.read_stats()["GradSteps"] == 0


def test_backend_choice():
    assert choose_backend("graph", "CPU", False) == ("graph", "", "")
    backend, library, note = choose_backend("auto", "CPU", False)
    assert backend == "native" and library.endswith(".so") and note == ""
    backend, _, note = choose_backend("auto", "GPU", False)
    assert backend == "graph" and "CPU only" in note
    backend, _, note = choose_backend("auto", "CPU", True)
    assert backend == "graph" and "data-parallel" in note
    with pytest.raises(UserError, match="CPU only"):
        choose_backend("native", "Ascend", False)
    with pytest.raises(UserError, match="data-parallel"):
        choose_backend("native", "CPU", True)


def test_native_without_compiler_is_refused_or_falls_back(monkeypatch, tmp_path):
    monkeypatch.setenv("CXX", "no-such-compiler")
    monkeypatch.setenv("DDPG_NATIVE_CACHE", str(tmp_path))  # nothing cached: must build
    with pytest.raises(UserError, match="no C\\+\\+ compiler"):
        choose_backend("native", "CPU", False)
    backend, _, note = choose_backend("auto", "CPU", False)
    assert backend == "graph" and "no C++ compiler" in note
