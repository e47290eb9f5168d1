import numpy as np

from src.exploration import GaussianNoise, OUNoise


def test_ou_stationary_statistics():
    # Euler-discretised OU: x' = (1 - theta dt) x + sigma sqrt(dt) eps has stationary variance
    # sigma^2 dt / (1 - (1 - theta dt)^2) and lag-1 autocorrelation 1 - theta dt.
    sigma, theta, dt = 0.3, 1.0, 0.1
    low, high = np.array([-1e9]), np.array([1e9])
    noise = OUNoise(low, high, 4000, sigma, theta, dt, np.random.default_rng(0))
    for _ in range(200):  # burn-in: 0.9^200 ~ 7e-10
        noise.step()
    xs = []
    for _ in range(100):
        xs.append(noise.step().copy())
    xs = np.array(xs)[:, :, 0]
    var = sigma ** 2 * dt / (1 - (1 - theta * dt) ** 2)
    assert abs(xs.mean()) < 0.01
    np.testing.assert_allclose(xs.var(), var, rtol=0.05)
    lag1 = np.mean(xs[1:] * xs[:-1]) / xs.var()
    np.testing.assert_allclose(lag1, 1 - theta * dt, atol=0.02)


def test_ou_reset_zeroes_only_finished_envs():
    noise = OUNoise(np.array([-1.0]), np.array([1.0]), 3, 0.5, 0.15, 0.01,
                    np.random.default_rng(0))
    for _ in range(10):
        noise.step()
    before = noise.state.copy()
    noise.reset(np.array([False, True, False]))
    assert noise.state[1, 0] == 0.0
    np.testing.assert_array_equal(noise.state[[0, 2]], before[[0, 2]])


def test_ou_noise_scaled_to_half_range_and_clipped():
    # Box [0, 4]: half-range 2, so a state of 0.5 moves the action by 1.0.
    noise = OUNoise(np.array([0.0]), np.array([4.0]), 1, 0.0, 0.0, 0.01,
                    np.random.default_rng(0))
    noise.state[:] = 0.5
    np.testing.assert_allclose(noise(np.array([[2.0]]), 0), [[3.0]])
    np.testing.assert_allclose(noise(np.array([[3.9]]), 0), [[4.0]])  # clipped to high


def test_gaussian_sigma_decays_linearly():
    g = GaussianNoise(np.array([-2.0]), np.array([2.0]), 1.0, 0.1, 1000,
                      np.random.default_rng(0))
    assert g.sigma(0) == 1.0
    np.testing.assert_allclose(g.sigma(500), 0.55)
    np.testing.assert_allclose([g.sigma(1000), g.sigma(5000)], [0.1, 0.1])
    assert GaussianNoise(np.array([-1.0]), np.array([1.0]), 0.3, 0.0, 0,
                         np.random.default_rng(0)).sigma(10 ** 6) == 0.3


def test_gaussian_noise_std_and_bounds():
    low, high = np.array([-2.0, 0.0]), np.array([2.0, 10.0])
    g = GaussianNoise(low, high, 0.1, 0.1, 0, np.random.default_rng(0))
    centre = np.tile([[0.0, 5.0]], (20000, 1))
    noisy = g(centre, 0)
    # sigma 0.1 of half-ranges 2 and 5
    np.testing.assert_allclose(noisy.std(0), [0.2, 0.5], rtol=0.03)
    edge = g(np.tile([[2.0, 0.0]], (1000, 1)), 0)
    assert edge.min(0)[1] >= 0.0 and edge.max(0)[0] <= 2.0
