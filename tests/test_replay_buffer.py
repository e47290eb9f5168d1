import numpy as np

from src.replay_buffer import ReplayBuffer


def _add(buf, values):
    v = np.asarray(values, np.float32)
    buf.add(v[:, None] * np.ones((1, 2)), v[:, None], v, v[:, None] + 100 * np.ones((1, 2)),
            (v % 2 == 0).astype(np.float32))


def test_wrap_around_overwrites_oldest():
    buf = ReplayBuffer(5, obs_dim=2, act_dim=1)
    _add(buf, [0, 1, 2])
    assert (len(buf), buf.pos) == (3, 3)
    _add(buf, [3, 4, 5, 6])  # a batch that crosses the end of the ring
    assert (len(buf), buf.pos) == (5, 2)
    np.testing.assert_array_equal(buf.rew, [5, 6, 2, 3, 4])
    np.testing.assert_array_equal(buf.obs[:, 0], [5, 6, 2, 3, 4])
    np.testing.assert_array_equal(buf.next_obs[:, 1], [105, 106, 102, 103, 104])
    np.testing.assert_array_equal(buf.terminated, [0, 1, 1, 0, 1])


def test_sample_only_valid_and_consistent():
    buf = ReplayBuffer(100, obs_dim=2, act_dim=1)
    _add(buf, np.arange(10))
    obs, act, rew, next_obs, term = buf.sample(1000, np.random.default_rng(0))
    assert obs.shape == (1000, 2) and act.shape == (1000, 1) and rew.shape == (1000,)
    assert set(np.unique(rew)) == set(range(10))  # never the empty slots
    np.testing.assert_array_equal(obs[:, 0], rew)  # rows stay together
    np.testing.assert_array_equal(next_obs[:, 0], rew + 100)
    assert obs.dtype == np.float32


def test_sample_is_uniform():
    buf = ReplayBuffer(4, obs_dim=1, act_dim=1)
    buf.add(np.zeros((4, 1)), np.zeros((4, 1)), np.arange(4), np.zeros((4, 1)), np.zeros(4))
    rew = buf.sample(40000, np.random.default_rng(1))[2]
    counts = np.bincount(rew.astype(int), minlength=4) / 40000
    np.testing.assert_allclose(counts, 0.25, atol=0.01)
