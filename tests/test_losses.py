"""TD target, clipping, soft update and L2 penalty against hand-computed values."""
import math

import numpy as np
import mindspore as ms

from src.losses import clip_bounds, l2_penalty, soft_update, td_target


def T(x):
    return ms.Tensor(np.asarray(x, np.float32))


def test_td_target_bootstraps_unless_terminated():
    # y = 1*r + 0.9 * (1 - term) * q'
    r, term, next_q = T([1.0, 1.0, -2.0]), T([0.0, 1.0, 0.0]), T([10.0, 10.0, 5.0])
    y = td_target(r, term, next_q, 0.9, 1.0, -math.inf, math.inf).asnumpy()
    np.testing.assert_allclose(y, [1.0 + 9.0, 1.0, -2.0 + 4.5], rtol=1e-6)


def test_truncation_is_not_termination():
    # A time-limit truncation is stored with terminated = 0, so it bootstraps exactly like a
    # mid-episode step: only `terminated` enters the target.
    y_trunc = td_target(T([0.5]), T([0.0]), T([3.0]), 0.99, 1.0, -math.inf, math.inf)
    np.testing.assert_allclose(y_trunc.asnumpy(), [0.5 + 0.99 * 3.0], rtol=1e-6)


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
