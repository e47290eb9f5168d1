"""The loops benchmarks/bench_td3_authors.py wraps around the TD3 authors' classes.

Their code is not a dependency, so stand-ins with the same interfaces record what the loops ask
of it: when and how much each loop trains, what goes into the replay buffer, which start states
the evaluations use.
"""
import importlib.util
import os
import sys
import types

import gymnasium as gym
import numpy as np
import pytest

_BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks")
sys.path.insert(0, _BENCH)  # the driver imports its CSV columns from bench_td3_peer
_spec = importlib.util.spec_from_file_location("bench_td3_authors",
                                               os.path.join(_BENCH, "bench_td3_authors.py"))
authors = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(authors)


class _Net:
    def requires_grad_(self, flag):
        self.frozen = not flag


class _Policy:
    def __init__(self, *args, **kwargs):
        self.args, self.kwargs, self.train_calls = args, kwargs, []
        self.actor_target, self.critic_target = _Net(), _Net()

    def select_action(self, state):
        assert state.ndim == 1
        return np.zeros(1)

    def train(self, replay_buffer, n):
        self.train_calls.append((len(replay_buffer.rows), n))


def _fakes(loop):
    made, buffers = [], []

    def make(*args, **kwargs):
        made.append(_Policy(*args, **kwargs))
        return made[-1]

    class PaperBuffer:
        def __init__(self):
            self.rows = []
            buffers.append(self)

        def add(self, data):
            self.rows.append(data)

    class CurrentBuffer:
        def __init__(self, state_dim, action_dim):
            self.rows = []
            buffers.append(self)

        def add(self, *data):
            self.rows.append(data)

    td3 = types.SimpleNamespace(TD3=make)
    utils = types.SimpleNamespace(ReplayBuffer=PaperBuffer if loop == "paper" else CurrentBuffer,
                                  buffers=buffers)
    return td3, utils, made


def _run(loop, steps, start_steps, eval_every=500):
    td3, utils, made = _fakes(loop)
    evals = []
    authors.run(gym.make("Pendulum-v1"), gym.make("Pendulum-v1"), td3, utils, loop, seed=3,
                steps=steps, start_steps=start_steps, eval_every=eval_every, eval_episodes=2,
                on_eval=lambda t, r: evals.append((t, r)))
    return made[0], evals


def test_paper_loop_trains_at_each_episode_end_from_the_first_episode():
    # Pendulum's episodes end by the time limit after 200 steps: five episodes in 1000 steps,
    # each followed by 200 iterations, including the first (all random: start_steps 300).
    policy, _ = _run("paper", steps=1000, start_steps=300)
    assert policy.train_calls == [(200, 200), (400, 200), (600, 200), (800, 200), (1000, 200)]
    # The paper's TD3(state_dim, action_dim, int(max_action)) and the targets frozen.
    assert policy.args == (3, 1, 2)
    assert policy.actor_target.frozen and policy.critic_target.frozen


def test_paper_loop_stores_time_limit_ends_as_not_done():
    # Toy-v0 terminates on reaching x >= 1 (reward +10) and is truncated after 30 steps; with
    # random actions both happen. done is 1 exactly on the terminal steps, and each episode's
    # training (as many iterations as its steps) follows it.
    import toy_envs  # noqa: F401  (registers Toy-v0)
    td3, utils, made = _fakes("paper")
    authors.run(gym.make("Toy-v0"), gym.make("Toy-v0"), td3, utils, "paper", seed=0,
                steps=600, start_steps=600, eval_every=600, eval_episodes=1,
                on_eval=lambda t, r: None)
    rows = utils.buffers[0].rows
    assert [row[4] for row in rows] == [float(row[3] == 10.0) for row in rows]
    lengths = [n for _, n in made[0].train_calls]
    ends = np.cumsum(lengths)
    assert [n for n, _ in made[0].train_calls] == list(ends)
    terminal = {i + 1 for i, row in enumerate(rows) if row[4] == 1.0}
    truncated = [end for end, n in zip(ends, lengths) if end not in terminal]
    assert truncated and all(n == 30 for end, n in zip(ends, lengths) if end in truncated)
    assert len(terminal) >= 1 and terminal <= set(ends)


def test_current_loop_trains_once_per_step_after_the_random_steps():
    policy, _ = _run("current", steps=700, start_steps=400)
    assert len(policy.train_calls) == 300
    assert policy.train_calls[0] == (401, 256) and policy.train_calls[-1] == (700, 256)
    assert policy.kwargs["policy_noise"] == pytest.approx(0.4)  # 0.2 of Pendulum's bound 2
    assert policy.kwargs["noise_clip"] == pytest.approx(1.0)


def test_evaluations_use_train_py_start_states():
    _, evals = _run("current", steps=1000, start_steps=1000, eval_every=500)
    assert [t for t, _ in evals] == [500, 1000]
    # The stand-in actor always outputs 0, so each evaluation replays the same two episodes:
    # the returns of zero torque from reset(seed=3 + 10000 + i).
    env = gym.make("Pendulum-v1")
    expected = []
    for i in range(2):
        env.reset(seed=3 + 10000 + i)
        total, done = 0.0, False
        while not done:
            _, r, term, trunc, _ = env.step(np.zeros(1, dtype=np.float32))
            total, done = total + r, term or trunc
        expected.append(total)
    for _, returns in evals:
        np.testing.assert_allclose(returns, expected, rtol=1e-6)


def test_a_checkout_of_the_other_era_is_refused(tmp_path):
    (tmp_path / "TD3.py").write_text("")
    (tmp_path / "utils.py").write_text(
        "class ReplayBuffer:\n    def __init__(self, state_dim, action_dim):\n        pass\n")
    with pytest.raises(SystemExit, match="use --loop current"):
        authors.import_authors(str(tmp_path), "paper")


def _check():
    import check_td3_authors_step
    return check_td3_authors_step


def _adam_steps(grads, lr, eps_of_step, torch_form):
    """Adam's parameter after each gradient in `grads` (beta1 0.9, beta2 0.999), in torch's
    form (eps after the bias correction of v) or nn.Adam's (eps before it)."""
    b1, b2, m, v, w, out = 0.9, 0.999, 0.0, 0.0, 0.0, []
    for t, g in enumerate(grads, 1):
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        eps = eps_of_step(t)
        if torch_form:
            w -= lr / (1 - b1 ** t) * m / (np.sqrt(v / (1 - b2 ** t)) + eps)
        else:
            w -= lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(v) + eps)
        out.append(w)
    return np.array(out)


def test_adam_eps_shim_gives_torch_adam_mindspores_steps():
    """With the eps the shim sets before each step, torch's Adam formula takes nn.Adam's steps;
    with torch's own constant eps it does not, for gradients near eps."""
    check = _check()
    eps_seen = []

    class Optimizer:
        param_groups = [{"eps": 1e-8}]

        def step(self):
            eps_seen.append(self.param_groups[0]["eps"])
    opt = Optimizer()
    check.adam_eps_as_mindspore(opt)
    for _ in range(3):
        opt.step()
    expected = [1e-8 / np.sqrt(1 - 0.999 ** t) for t in (1, 2, 3)]
    np.testing.assert_allclose(eps_seen, expected, rtol=1e-12)
    grads = [3e-8, -1e-8, 2e-8]  # near eps: where the two conventions part
    mindspore_steps = _adam_steps(grads, 1e-3, lambda t: 1e-8, torch_form=False)
    shimmed = _adam_steps(grads, 1e-3, lambda t: 1e-8 / np.sqrt(1 - 0.999 ** t), True)
    plain = _adam_steps(grads, 1e-3, lambda t: 1e-8, True)
    np.testing.assert_allclose(shimmed, mindspore_steps, rtol=1e-9)
    assert np.abs(plain - mindspore_steps).max() > 0.3 * 1e-3


def test_worst_is_the_rms_gap_over_the_rms_change():
    check = _check()
    start = [np.zeros(2), np.zeros(3)]
    theirs = [np.array([1.0, 3.0]), np.array([2.0, 2.0, 2.0])]
    ours = [np.array([1.0, 1.0]), np.array([2.0, 2.0, 2.2])]
    rel, where = check.worst(ours, theirs, start)
    # rms gap / rms change: tensor 1 sqrt(2) / sqrt(5) = 0.63, tensor 2 sqrt(0.04 / 3) / 2 = 0.06
    assert where == "layer 1 weight"
    np.testing.assert_allclose(rel, np.sqrt(2 / 5), rtol=1e-12)
    rel, where = check.worst(ours[1:] + ours[:1], theirs[1:] + theirs[:1],
                             start[1:] + start[:1])
    assert where == "layer 1 bias"
