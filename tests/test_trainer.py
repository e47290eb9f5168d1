"""Data collection: transitions, terminations vs truncations, parallel copies."""
import os

import numpy as np
import pytest

from conftest import ROOT

from src.config import load_config
from src.trainer import Trainer


def _trainer(tmp_path, *argv):
    cfg, _ = load_config(["--output_dir", str(tmp_path), "--policy_hidden_sizes", "[16]",
                          "--qf_hidden_sizes", "[16]", "--min_buffer_size", "64",
                          "--buffer_batch_size", "32", *argv])
    trainer = Trainer(cfg)
    trainer.start()
    return trainer


@pytest.mark.parametrize("num_envs", [1, 3])
def test_transitions_chain_and_truncation_bootstraps(tmp_path, num_envs):
    # Pendulum only truncates (200 steps): every stored transition has terminated = 0 and the
    # next_obs of an episode's last step is its true last observation, not the reset one.
    t = _trainer(tmp_path, "--num_envs", str(num_envs), "--env_steps_per_cycle", "600",
                 "--start_steps", "100")
    t.collect(250 * num_envs)
    n, buf = num_envs, t.buffer
    assert len(buf) == 250 * n and t.env_steps == 250 * n
    assert not buf.terminated[: 250 * n].any()
    for k in range(249):
        for i in range(n):
            row, nxt = k * n + i, (k + 1) * n + i
            if k == 199:  # last step of every copy's first episode
                assert not np.allclose(buf.next_obs[row], buf.obs[nxt])
            else:
                np.testing.assert_array_equal(buf.next_obs[row], buf.obs[nxt])
    if n > 1:  # each copy has its own seed
        assert len({tuple(buf.obs[i]) for i in range(n)}) == n
    # Every copy's first episode ended at its 200th step: (env step at its end, return, 200).
    assert [(end, length) for end, _, length in t.collector.finished] == [(200 * n, 200)] * n
    t.close()


def test_real_terminations_are_stored_and_actions_respect_bounds(tmp_path):
    t = _trainer(tmp_path, "--env_id", "toy_envs:Toy-v0", "--num_envs", "2",
                 "--env_steps_per_cycle", "100", "--start_steps", "1000")
    t.collect(1000)
    buf = t.buffer
    term = buf.terminated[:1000].astype(bool)
    assert term.any()
    # A termination is the step that reached x >= 1; its next_obs is that final state.
    nxt, rew = buf.next_obs[:1000, 0], buf.rew[:1000]
    assert (nxt[term] >= 1.0).all() and (rew[term] == 10.0).all()
    assert (nxt[~term] < 1.0).all()
    assert buf.act[:1000].min() >= -0.5 and buf.act[:1000].max() <= 1.5
    assert buf.act[:1000].min() < 0.0 and buf.act[:1000].max() > 1.0  # asymmetric, full range
    t.close()


def test_policy_actions_with_noise_stay_in_bounds(tmp_path):
    t = _trainer(tmp_path, "--env_id", "toy_envs:Toy-v0", "--start_steps", "0",
                 "--noise_sigma", "3.0")
    t.collect(300)
    assert t.buffer.act[:300].min() >= -0.5 and t.buffer.act[:300].max() <= 1.5
    t.close()


@pytest.mark.parametrize("preset", sorted(
    os.path.join(ROOT, "config", f) for f in os.listdir(os.path.join(ROOT, "config"))))
def test_every_preset_trains_a_cycle(tmp_path, preset):
    """Each preset's environment is made, stepped and learned from (with a tiny budget)."""
    t = _trainer(tmp_path, "--config_path", preset, "--env_steps_per_cycle", "100",
                 "--n_train_steps", "2", "--start_steps", "50", "--steps_per_epoch", "1",
                 "--n_epochs", "1", "--buffer_size", "1000")
    t.cycle()
    assert len(t.buffer) == 100 and t.learner.read_stats()["GradSteps"] == 2
    t.close()


def test_gaussian_decay_follows_the_run_length_and_the_env_step(tmp_path):
    # 4 epochs * 5 cycles * 50 steps = 1000 env steps; half of them decay sigma 0.4 -> 0.1.
    t = _trainer(tmp_path, "--n_epochs", "4", "--steps_per_epoch", "5",
                 "--env_steps_per_cycle", "50", "--noise_decay_ratio", "0.5",
                 "--noise_sigma", "0.4", "--noise_sigma_min", "0.1", "--start_steps", "0",
                 "--num_envs", "2")
    assert (t.noise.decay_steps, t.noise.sigma_max, t.noise.sigma_min) == (500, 0.4, 0.1)
    seen, sigma = [], t.noise.sigma
    t.noise.sigma = lambda step: seen.append(step) or sigma(step)
    t.collect(100)
    assert seen == list(range(0, 100, 2))  # the env steps so far, 2 copies per step
    t.close()


def test_ou_noise_restarts_with_every_episode(tmp_path):
    t = _trainer(tmp_path, "--env_id", "toy_envs:Toy-v0", "--exploration", "ou",
                 "--noise_sigma", "0.3", "--ou_dt", "0.5", "--start_steps", "0",
                 "--num_envs", "2", "--env_steps_per_cycle", "2")
    ended = 0
    for _ in range(80):
        t.collect(2)
        # A running return is 0 only right after its episode ended (rewards -0.1, then +10).
        just_ended = t.collector.episode_returns == 0.0
        ended += int(just_ended.sum())
        assert (t.noise.state[just_ended] == 0.0).all()
        assert (t.noise.state[~just_ended] != 0.0).all()
    assert ended >= 4
    t.close()


def test_max_action_bounds_the_actor(tmp_path):
    import mindspore as ms
    t = _trainer(tmp_path, "--max_action", "0.5")  # Pendulum's own bounds are [-2, 2]
    assert [b.tolist() for b in t.spec.actor_bounds(0.5)] == [[-0.5], [0.5]]
    assert [b.tolist() for b in t.spec.actor_bounds(0.0)] == [[-2.0], [2.0]]
    obs = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    for bias, bound in ((50.0, 0.5), (-50.0, -0.5)):  # saturate the final tanh both ways
        for actor in (t.learner.nets.actor, t.learner.nets.actor_target):
            actor.layers[-1].bias.set_data(ms.Tensor(np.array([bias], np.float32)))
            np.testing.assert_allclose(actor(ms.Tensor(obs)).asnumpy(), bound, atol=1e-6)
        t.learner.sync_actor()
        np.testing.assert_allclose(t.learner.act(obs), bound, atol=1e-6)
    t.close()
