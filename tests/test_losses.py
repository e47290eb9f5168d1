"""TD target, clipping, soft update and L2 penalty against hand-computed values."""
import math

import numpy as np
import mindspore as ms
import pytest

from src.collector import Collector
from src.environment import env_spec, make_env
from src.exploration import GaussianNoise
from src.losses import clip_bounds, l2_penalty, soft_update, td_target
from src.replay_buffer import ReplayBuffer


def T(x):
    return ms.Tensor(np.asarray(x, np.float32))


def test_td_target_bootstraps_unless_terminated():
    # y = 1*r + 0.9 * (1 - term) * q'
    r, term, next_q = T([1.0, 1.0, -2.0]), T([0.0, 1.0, 0.0]), T([10.0, 10.0, 5.0])
    y = td_target(r, term, next_q, 0.9, 1.0, -math.inf, math.inf).asnumpy()
    np.testing.assert_allclose(y, [1.0 + 9.0, 1.0, -2.0 + 4.5], rtol=1e-6)


def _toy_transitions(action: float, n: int) -> ReplayBuffer:
    """n transitions of toy_envs:Toy-v0 (30-step time limit) under a constant action, stored
    by the trainer's collector."""
    spec = env_spec(make_env("toy_envs:Toy-v0"), "toy_envs:Toy-v0")
    buf = ReplayBuffer(n, 1, 1)
    noise = GaussianNoise(spec.low, spec.high, 0.0, 0.0, 0, np.random.default_rng(0))
    collector = Collector("toy_envs:Toy-v0", 1, "sync", 0, spec, noise, buf, start_steps=0)
    collector.start()
    collector.collect(n, lambda obs: np.full((1, 1), action, np.float32))
    collector.close()
    return buf


def test_truncation_is_not_termination():
    # Action -0.5 moves x down: Toy-v0 never terminates and its time limit truncates step 30.
    buf = _toy_transitions(-0.5, 31)
    last = 29
    assert buf.next_obs[last, 0] == pytest.approx(buf.obs[0, 0] - 1.5, abs=1e-5)
    assert buf.obs[last + 1, 0] != buf.next_obs[last, 0]  # step 31 starts a new episode
    assert buf.terminated[last] == 0.0
    # The truncated step bootstraps from its last observation's value, like any other step.
    y = td_target(T(buf.rew[last:last + 1]), T(buf.terminated[last:last + 1]), T([3.0]), 0.99,
                  1.0, -math.inf, math.inf)
    np.testing.assert_allclose(y.asnumpy(), [-0.1 + 0.99 * 3.0], rtol=1e-6)


def test_termination_cuts_the_return():
    # Action 1.5 moves x up by 0.15 a step: x >= 1 terminates within 10 steps, reward 10.
    buf = _toy_transitions(1.5, 10)
    last = int(np.flatnonzero(buf.terminated)[0])
    assert buf.rew[last] == 10.0 and buf.next_obs[last, 0] >= 1.0
    y = td_target(T(buf.rew[last:last + 1]), T(buf.terminated[last:last + 1]), T([3.0]), 0.99,
                  1.0, -math.inf, math.inf)
    np.testing.assert_allclose(y.asnumpy(), [10.0])


def test_reward_scale_and_clipping_together():
    # y = clip(2 r + 0.9 (1 - term) q', -5, 0 or 5), worked out by hand:
    #   r=1,  q'=2,  live: 2 + 1.8 = 3.8   -> 3.8 (both), 0 with clip_pos_returns
    #   r=3,  q'=4,  live: 6 + 3.6 = 9.6   -> 5, 0
    #   r=-1, q'=-2, live: -2 - 1.8 = -3.8 -> -3.8, -3.8
    #   r=-4, q'=9,  done: -8              -> -5, -5
    r, term, next_q = T([1.0, 3.0, -1.0, -4.0]), T([0.0, 0.0, 0.0, 1.0]), T([2.0, 4.0, -2.0, 9.0])
    both = td_target(r, term, next_q, 0.9, 2.0, *clip_bounds(5.0, False)).asnumpy()
    np.testing.assert_allclose(both, [3.8, 5.0, -3.8, -5.0], rtol=1e-6)
    neg = td_target(r, term, next_q, 0.9, 2.0, *clip_bounds(5.0, True)).asnumpy()
    np.testing.assert_allclose(neg, [0.0, 0.0, -3.8, -5.0], rtol=1e-6)


def test_reward_scale_multiplies_reward_only():
    y = td_target(T([2.0]), T([0.0]), T([4.0]), 0.5, 10.0, -math.inf, math.inf).asnumpy()
    np.testing.assert_allclose(y, [10.0 * 2.0 + 0.5 * 4.0], rtol=1e-6)


def test_clip_return_both_sides():
    low, high = clip_bounds(5.0, False)
    assert (low, high) == (-5.0, 5.0)
    y = td_target(T([100.0, -100.0, 1.0]), T([1.0, 1.0, 1.0]), T([0.0, 0.0, 0.0]), 0.9, 1.0,
                  low, high).asnumpy()
    np.testing.assert_allclose(y, [5.0, -5.0, 1.0])


def test_clip_pos_returns_caps_at_zero():
    low, high = clip_bounds(50.0, True)
    assert (low, high) == (-50.0, 0.0)
    y = td_target(T([3.0, -2.0, -80.0]), T([0.0, 0.0, 1.0]), T([1.0, -1.0, 0.0]), 1.0, 1.0,
                  low, high).asnumpy()
    np.testing.assert_allclose(y, [0.0, -3.0, -50.0])


def test_soft_update_interpolates():
    out = soft_update(T([0.0, 10.0]), T([1.0, 20.0]), 0.1).asnumpy()
    np.testing.assert_allclose(out, [0.1, 11.0], rtol=1e-6)
    np.testing.assert_allclose(soft_update(T([3.0]), T([7.0]), 1.0).asnumpy(), [7.0])
    np.testing.assert_allclose(soft_update(T([3.0]), T([7.0]), 0.0).asnumpy(), [3.0])


def test_l2_penalty_hand_value():
    # 0.5 * 0.1 * (1 + 4 + 9 + 16)
    value = l2_penalty((T([[1.0, 2.0]]), T([3.0, 4.0])), 0.1)
    np.testing.assert_allclose(value.asnumpy(), 1.5, rtol=1e-6)
