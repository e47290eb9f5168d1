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
    assert len(t.collector.finished_returns) == n
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
