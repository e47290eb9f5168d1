"""The native learner backend (one Custom op per K steps) against the graph backend; the
kernel's checks of its inputs, its thread pool, threads and fork."""
import ctypes
import hashlib
import os
import re
import subprocess
import sys
import threading
import time

import numpy as np
import mindspore as ms
from mindspore import Parameter, ParameterTuple
import pytest

from src.config import load_config
from src.environment import EnvSpec
from src.errors import UserError, run_cli
from src.exploration import target_smoothing_noise
from src.learner import Learner, choose_backend, native_api
from src.native import library_path

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



# ------------------------------------------------------------------ the shipped shapes, threads
F32 = np.float32
# The networks and batch the presets run, on Pendulum, an asymmetric box and a HalfCheetah-sized
# task whose half-ranges differ per dimension: products large enough for the thread pool.
SHIPPED = {
    "pendulum-400-300": (EnvSpec("pendulum", 3, 1, np.array([-2], F32), np.array([2], F32),
                                 None), "[400, 300]"),
    "box-400-300": (EnvSpec("box", 5, 3, np.array([-2, -1, 0], F32),
                            np.array([2, 3, 0.5], F32), None), "[400, 300]"),
    "cheetah-256-256": (EnvSpec("cheetah", 17, 6, np.array([-2, -1, 0, -1, -0.5, -3], F32),
                                np.array([2, 3, 0.5, 1, 0.5, -1], F32), None), "[256, 256]"),
}
TD3_ARGS = ["--twin_critics", "true", "--policy_delay", "2", "--target_policy_noise", "0.2"]
ALGORITHMS = {"ddpg": [], "td3": TD3_ARGS}
BATCH = 256


def _shipped_learner(shape: str, backend: str, algorithm: str) -> Learner:
    spec, hidden = SHIPPED[shape]
    cfg, _ = load_config(["--policy_hidden_sizes", hidden, "--qf_hidden_sizes", hidden,
                          "--learner_backend", backend] + ALGORITHMS[algorithm])
    return Learner(spec, cfg)


def _shipped_batches(shape: str, algorithm: str, k: int, seed: int):
    spec = SHIPPED[shape][0]
    sigma = 0.2 if algorithm == "td3" else 0.0
    return _batches(spec, k, BATCH, seed) + target_smoothing_noise(
        np.random.default_rng(100 + seed), sigma, (k, BATCH, spec.act_dim))


def _kernel() -> ctypes.CDLL:
    """The kernel library's C API: the instance MindSpore's op has loaded."""
    return native_api(library_path())


@pytest.fixture
def kernel():
    lib = _kernel()
    yield lib
    lib.DDPGUpdateSetThreads(0)  # back to the default pool for the tests that follow


def assert_bit_identical(a: Learner, b: Learner) -> None:
    for x, y in zip(a.update_cell.get_parameters(), b.update_cell.get_parameters()):
        np.testing.assert_array_equal(x.asnumpy(), y.asnumpy(), err_msg=x.name)


def _digest(learner: Learner) -> str:
    digest = hashlib.sha256()
    for p in learner.update_cell.get_parameters():
        digest.update(p.asnumpy().tobytes())
    return digest.hexdigest()


def assert_learners_close(graph, native, steps):
    """assert_learners_agree for the shipped shapes, where sums of 256-400 products in another
    order, then Adam's division by sqrt(v) for gradients that nearly cancel, move single
    elements by more than its tolerance: here each tensor agrees to 1e-3 of its largest
    magnitude (measured: at most 4e-5 in 24 runs), far below one step's change (~lr)."""
    for a, b in zip(graph.update_cell.get_parameters(), native.update_cell.get_parameters()):
        expected = a.asnumpy()
        scale = float(np.abs(expected).max()) if expected.size else 0.0
        np.testing.assert_allclose(b.asnumpy(), expected, rtol=2e-4, atol=1e-3 * scale + 1e-9,
                                   err_msg=a.name)
    g_stats, n_stats = graph.read_stats(), native.read_stats()
    assert n_stats["GradSteps"] == g_stats["GradSteps"] == steps
    for key, value in g_stats.items():
        np.testing.assert_allclose(n_stats[key], value, rtol=1e-4, atol=1e-6, err_msg=key)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("shape", SHIPPED)
def test_native_equals_graph_at_the_shipped_shapes(shape, algorithm):
    """One step, then two more in one call, at batch 256: the products are split over the
    thread pool here, unlike at the small shapes above."""
    graph = _shipped_learner(shape, "graph", algorithm)
    native = _shipped_learner(shape, "native", algorithm)
    _copy_state(graph, native)
    for call, (k, steps) in enumerate(((1, 1), (2, 2))):
        batches = _shipped_batches(shape, algorithm, k, call)
        graph.update(batches)
        native.update(batches)
        assert_learners_close(graph, native, steps)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_native_results_do_not_depend_on_the_number_of_threads(kernel, algorithm):
    """1, 2 and 3 threads: bit-identical parameters, the products cut into blocks (counted)
    with 2 and 3 threads only."""
    learners = [_shipped_learner("cheetah-256-256", "native", algorithm) for _ in range(3)]
    for other in learners[1:]:
        _copy_state(learners[0], other)
    splits = []
    for threads, learner in zip((1, 2, 3), learners):
        assert kernel.DDPGUpdateSetThreads(threads) == threads == kernel.DDPGUpdateThreads()
        before = kernel.DDPGUpdateSplitCount()
        for call in range(2):
            learner.update(_shipped_batches("cheetah-256-256", algorithm, 2, call))
        splits.append(kernel.DDPGUpdateSplitCount() - before)
        # Every product cut into blocks went to the pool or, after a late job, to the caller
        # alone (the pool is new: its counters are this learner's).
        # Asked for more than it has, it writes its four counters; asked for fewer, no more
        # than that (the slots past n keep their sentinel).
        stats = (ctypes.c_int64 * 5)(*[-7] * 5)
        assert kernel.DDPGUpdatePoolStats(stats, 5) == 4
        jobs, late, alone, moved, untouched = stats
        assert jobs + alone == (splits[-1] if threads > 1 else 0) and late <= jobs, list(stats)
        assert 0 <= moved and untouched == -7, list(stats)
        fewer = (ctypes.c_int64 * 4)(*[-7] * 4)
        assert kernel.DDPGUpdatePoolStats(fewer, 2) == 2
        assert list(fewer) == [jobs, late, -7, -7], (list(fewer), list(stats))
    assert splits[0] == 0 and splits[1] > 0 and splits[2] > 0, splits
    for other in learners[1:]:
        assert_bit_identical(learners[0], other)


def test_two_learners_on_two_threads_equal_each_alone():
    """Two learners of different shapes (one TD3) updating from two Python threads at the same
    time (their graphs compiled there too) end as each does alone, and do not hang."""
    cases = [("cheetah-256-256", "ddpg"), ("box-400-300", "td3")]
    alone = [_shipped_learner(shape, "native", algorithm) for shape, algorithm in cases]
    paired = [_shipped_learner(shape, "native", algorithm) for shape, algorithm in cases]
    for a, b in zip(alone, paired):
        _copy_state(a, b)
    calls = {case: [_shipped_batches(*case, 2, seed) for seed in range(4)] for case in cases}
    for learner, case in zip(alone, cases):
        for batches in calls[case]:
            learner.update(batches)
    errors = []

    def run(learner, case):
        try:
            for batches in calls[case]:
                learner.update(batches)
        except Exception as exc:  # reported below: an exception in a thread fails nothing
            errors.append(exc)

    threads = [threading.Thread(target=run, args=args) for args in zip(paired, cases)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors and not any(t.is_alive() for t in threads), errors
    for a, b in zip(alone, paired):
        assert_bit_identical(a, b)


def _kernel_inputs(learner: Learner, batches) -> list:
    """NumPy copies of the op's tensors for `batches`, in NativeMultiStepUpdate's order: inputs
    (batches, hyper, noise, Parameters), then the output."""
    op = learner.multi_step
    arrays = [np.ascontiguousarray(x) for x in batches]
    return (arrays[:5] + [op.hyper.asnumpy()] + arrays[5:] +
            [p.asnumpy().copy() for p in op.params] + [np.zeros(1, np.float32)])


def _call_kernel(lib: ctypes.CDLL, arrays: list) -> int:
    """The op's entry point called as MindSpore calls it, on `arrays` (updated in place)."""
    n = len(arrays)
    dims = [(ctypes.c_int64 * max(a.ndim, 1))(*a.shape) for a in arrays]
    return lib.DDPGUpdate(
        n, (ctypes.c_void_p * n)(*[a.ctypes.data for a in arrays]),
        (ctypes.c_int * n)(*[a.ndim for a in arrays]),
        (ctypes.POINTER(ctypes.c_int64) * n)(
            *[ctypes.cast(d, ctypes.POINTER(ctypes.c_int64)) for d in dims]),
        (ctypes.c_char_p * n)(*[str(a.dtype).encode() for a in arrays]), None, None)


def _array_digest(arrays) -> str:
    digest = hashlib.sha256()
    for a in arrays:
        digest.update(a.tobytes())
    return digest.hexdigest()


def _fork_and_update(lib: ctypes.CDLL, arrays) -> str:
    """Forks; the child updates `arrays` through the kernel on 2 threads and reports their
    digest, or "hung" after 60 s."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            os.close(read)
            mine = [a.copy() for a in arrays]
            if _call_kernel(lib, mine) == 0 and lib.DDPGUpdateThreads() == 2:
                os.write(write, _array_digest(mine).encode())
                code = 0
        finally:
            os._exit(code)
    os.close(write)
    deadline = time.monotonic() + 60
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if not done:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    with os.fdopen(read) as f:
        report = f.read()
    if not done:
        return "hung"
    return report if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 else "failed"


def test_a_forked_child_updates(kernel):
    """A child forked after updates, or while another thread is inside the op, updates on a
    pool of its own and gets the parent's result. The child calls the kernel as MindSpore
    does, not through MindSpore: measured with 2.10, a graph run in a forked child can hang in
    MindSpore's own scheduler (GraphScheduler::Run), graph backend included."""
    learner = _shipped_learner("cheetah-256-256", "native", "td3")
    kernel.DDPGUpdateSetThreads(2)
    learner.update(_shipped_batches("cheetah-256-256", "td3", 2, 0))  # the pool is running
    arrays = _kernel_inputs(learner, _shipped_batches("cheetah-256-256", "td3", 2, 1))
    expected = [a.copy() for a in arrays]
    assert _call_kernel(kernel, expected) == 0
    assert _fork_and_update(kernel, arrays) == _array_digest(expected), "after updates"
    # Now with the op running on another thread (ctypes releases the GIL) while forking.
    stop = threading.Event()

    def busy():
        scratch = [a.copy() for a in arrays]
        while not stop.is_set():
            _call_kernel(kernel, scratch)

    thread = threading.Thread(target=busy)
    thread.start()
    try:
        reports = [_fork_and_update(kernel, arrays) for _ in range(3)]
    finally:
        stop.set()
        thread.join()
    assert reports == [_array_digest(expected)] * 3, reports


def test_two_threads_calling_the_kernel_at_once_equal_each_alone(kernel):
    """The op called from two threads at once (as MindSpore may, outside Learner's lock), for
    two learners of different shapes on a pool of 2: each result as alone."""
    cases = [("cheetah-256-256", "ddpg"), ("box-400-300", "td3")]
    inputs = []
    for shape, algorithm in cases:
        learner = _shipped_learner(shape, "native", algorithm)
        inputs.append(_kernel_inputs(learner, _shipped_batches(shape, algorithm, 2, 0)))
    kernel.DDPGUpdateSetThreads(2)
    alone = []
    for arrays in inputs:
        mine = [a.copy() for a in arrays]
        for _ in range(3):
            assert _call_kernel(kernel, mine) == 0
        alone.append(_array_digest(mine))
    together = [None, None]

    def run(i):
        mine = [a.copy() for a in inputs[i]]
        codes = [_call_kernel(kernel, mine) for _ in range(3)]
        together[i] = _array_digest(mine) if codes == [0, 0, 0] else codes

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert together == alone


def test_the_kernel_checks_its_entry_arguments(kernel):
    """Called without its arrays or with too few tensors, the kernel returns 1 and says why."""
    assert kernel.DDPGUpdate(3, None, None, None, None, None, None) == 1
    assert kernel.DDPGUpdateLastError() == (b"native kernel: called without the arrays of "
                                            b"tensors, shapes and dtypes")
    assert _call_kernel(kernel, [np.zeros((1, 1, 1), np.float32)] * 3) == 1
    assert kernel.DDPGUpdateLastError() == (b"native kernel: got 3 tensors (inputs and output), "
                                            b"expected at least 7")


def test_a_process_with_a_pool_exits_cleanly():
    """The pool's threads stop at exit: the process ends, with status 0, without a hang."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = ("import sys; sys.path.insert(0, 'tests')\n"
            "from conftest import ROOT\n"
            "from test_native import _kernel, _shipped_batches, _shipped_learner\n"
            "learner = _shipped_learner('box-400-300', 'native', 'ddpg')\n"
            "_kernel().DDPGUpdateSetThreads(2)\n"
            "learner.update(_shipped_batches('box-400-300', 'ddpg', 2, 0))\n"
            "print('updated', flush=True)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("updated")


# ----------------------------------------------------------------------- what the kernel checks
def _index(op, name: str) -> int:
    return next(i for i, p in enumerate(op.params) if p.name == name)


def _replace(op, name: str, new) -> None:
    params = list(op.params)
    params[_index(op, name)] = new
    op.params = ParameterTuple(params)


def _swap_moments(op, batches):
    params = list(op.params)
    i = _index(op, "moment1.actor.a_fc1.weight")
    j = _index(op, "moment1.actor.a_fc2.weight")
    params[i], params[j] = params[j], params[i]
    op.params = ParameterTuple(params)
    return batches


def _set_hyper(index: int, value: float):
    def mutate(op, batches):
        hyper = op.hyper.asnumpy().copy()
        hyper[index] = value if value is not None else hyper[index] + 1
        op.hyper = ms.Tensor(hyper)
        return batches
    return mutate


def _short_hyper(op, batches):
    op.hyper = ms.Tensor(op.hyper.asnumpy()[:-1])
    return batches


def _float_counter(name: str):
    def mutate(op, batches):
        _replace(op, name, Parameter(ms.Tensor(np.zeros(op.params[_index(op, name)].shape,
                                                        np.float32)), name="float_" + name))
        return batches
    return mutate


def _short_stats(op, batches):
    _replace(op, "stats.sum", Parameter(ms.Tensor(np.zeros(4, np.float32)), name="short_sum"))
    return batches


def _drop_last_parameter(op, batches):
    op.params = ParameterTuple(list(op.params)[:-1])
    return batches


def _wide_noise(op, batches):
    k, b, a = batches[5].shape
    return batches[:5] + (np.zeros((k, b, a + 1), np.float32),)


def _no_noise(op, batches):
    return batches[:5]


def _rew_with_a_third_axis(op, batches):
    return batches[:2] + (batches[2][..., None],) + batches[3:]


TD3_SMALL = ["--twin_critics", "true", "--policy_delay", "2", "--target_policy_noise", "0.2"]
# (settings, how the op's inputs are broken, what the error says). Inputs: obs, act, rew,
# next_obs, terminated, hyper, [noise], then the Parameters (SMALL networks: obs 3, act 2).
MISMATCHES = {
    "swapped-moments": ([], _swap_moments,
                        r"input 30 \(moment1 of actor layer 0 weight\) has shape \[6, 8\], "
                        r"expected \[8, 3\]"),
    "hyper-length": ([], _short_hyper, r"input 5 \(hyper\) has 22 values, expected 23"),
    "layout-version": ([], _set_hyper(0, None), r"layout version .* is 3, this kernel reads "
                                                r"layout 2"),
    "layer-chain": ([], _set_hyper(11, 1.0),  # the action said to join the critic later
                    r"input 18 \(critic layer 0 weight\) has shape \[8, 5\], expected \[\*, 3\]"),
    "twin-flag": ([], _set_hyper(15, 2.0), r"hyper\[15\] \(twin_critics\) is 2, expected an "
                                           r"integer in \[0, 1\]"),
    "parameter-count": ([], _drop_last_parameter, r"got 63 inputs, expected 64 for 3 actor "
                                                  r"layers, 3 critic layers"),
    "global-step-dtype": ([], _float_counter("actor_opt.global_step"),
                          r"input 44 \(actor_opt.global_step\) has dtype float32, expected "
                          r"int32"),
    "statistics-shape": ([], _short_stats, r"\(stats.sum\) has shape \[4\], expected \[5\]"),
    "batch-shape": ([], _rew_with_a_third_axis,
                    r"input 2 \(rew\) has shape \[2, 16, 1\], expected \[2, 16\]"),
    "noise-shape": (TD3_SMALL, _wide_noise,
                    r"input 6 \(noise\) has shape \[2, 16, 3\], expected \[2, 16, 2\]"),
    "noise-missing": (TD3_SMALL, _no_noise, r"got \d+ inputs, expected \d+ .*, with target "
                                            r"noise"),
    "critic-steps-dtype": (TD3_SMALL, _float_counter("schedule.critic_steps"),
                           r"\(schedule.critic_steps\) has dtype float32, expected int32"),
}


@pytest.mark.parametrize("case", MISMATCHES)
def test_a_layout_mismatch_is_one_error_line(asym_spec, capsys, case):
    """The kernel refuses inputs that do not match its layout before it writes anything, and the
    user sees its reason on one `error:` line."""
    argv, mutate, expected = MISMATCHES[case]
    learner = _learner(asym_spec, "native", argv)
    batches = _batches(asym_spec, 2)
    if "--target_policy_noise" in argv:
        batches += target_smoothing_noise(np.random.default_rng(0), 0.2, (2, 16, 2))
    batches = mutate(learner.multi_step, batches)
    before = _digest(learner)
    assert run_cli(lambda argv: learner.update(batches), []) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: native kernel: "), lines
    assert re.search(expected, lines[0]), lines[0]
    assert _digest(learner) == before  # nothing written


def test_an_op_that_updates_copies_is_an_error(asym_spec):
    """If MindSpore ever passed the op copies of the Parameters (here: clones, as an upgrade
    breaking the in-place aliasing would), the learner would learn nothing: an error instead."""
    learner = _learner(asym_spec, "native")
    op = learner.multi_step
    op.params = ParameterTuple([p.clone() for p in op.params])
    with pytest.raises(UserError, match=r"critic_opt.global_step went from 0 to 0 in a call of "
                                        r"2 steps: the op did not update the learner's "
                                        r"Parameters in place"):
        learner.update(_batches(asym_spec, 2))
