"""What a training state keeps across a resume, and the episode bookkeeping around it."""
import numpy as np
import pytest

from conftest import TINY
import src.environment
from src.config import load_config
from src.environment import EpisodeLog, make_env
from src.state import list_states, read_state
from src.trainer import Trainer


def _trainer(tmp_path, *argv):
    cfg, _ = load_config(["--output_dir", str(tmp_path), *TINY, *argv])
    return Trainer(cfg)


def _run(tmp_path, *argv):
    t = _trainer(tmp_path, *argv)
    try:
        t.train()
    finally:
        t.close()
    return t


def test_resume_with_more_epochs_keeps_the_noise_schedule(tmp_path):
    # 2 epochs of 100 env steps, sigma decaying over half of them: 0.5 -> 0.1 by step 100.
    decay = ["--noise_decay_ratio", "0.5", "--noise_sigma", "0.5", "--noise_sigma_min", "0.1"]
    first = _run(tmp_path, "--n_epochs", "2", *decay)
    assert first.noise.decay_steps == 100
    longer = _trainer(tmp_path, "--n_epochs", "4", "--resume", "auto", *decay)
    assert longer.noise.decay_steps == 200  # what 4 epochs would give a new run
    try:
        longer.train()
    finally:
        longer.close()
    assert longer.noise.decay_steps == 100  # the resumed run keeps the saved schedule
    assert longer.noise.sigma(150) == pytest.approx(0.1)  # 0.2 on the 4-epoch schedule


def test_finished_returns_are_taken_on_every_worker(tmp_path):
    # A worker other than rank 0 logs nothing, but must still forget each epoch's finished
    # episodes (Toy-v0 episodes end within 30 steps: several end in an epoch of 100 steps).
    t = _trainer(tmp_path, "--n_epochs", "1", "--env_id", "toy_envs:Toy-v0")
    t.is_chief = False
    try:
        t.train()
    finally:
        t.close()
    assert t.collector.env_steps == 100
    assert t.collector.finished == []
    meta = read_state(list_states(str(tmp_path))[-1][1])[0]
    assert meta["finished_episodes"] == []


def test_episode_log_is_bounded_and_a_long_episode_restarts():
    env = EpisodeLog(make_env("toy_envs:Endless-v0"), max_actions=5)
    env.reset(seed=0)
    for _ in range(5):
        env.step(np.array([0.1], np.float32))
    log = env.episode_log()
    assert not log["restart"] and log["actions"].shape == (5, 1)
    for _ in range(3):
        env.step(np.array([0.1], np.float32))
    log = env.episode_log()
    assert env.actions is None and log["restart"] and log["actions"].shape == (0, 1)
    # Rebuilding starts a new episode from the generator state at the time of the log.
    expected = env.env.reset()[0]
    other = EpisodeLog(make_env("toy_envs:Endless-v0"))
    other.reset(seed=1)
    other.restore_log = log
    np.testing.assert_array_equal(other.rebuild(), expected)


def test_resume_of_an_episode_too_long_to_replay(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(src.environment, "MAX_LOGGED_ACTIONS", 20)
    endless = ["--env_id", "toy_envs:Endless-v0", "--max_episode_length_eval", "30"]
    first = _run(tmp_path, "--n_epochs", "1", *endless)
    assert first.collector.envs.envs[0].actions is None  # 100 steps, nothing kept past 20
    meta, arrays, _ = read_state(list_states(str(tmp_path))[-1][1])
    assert arrays["env_actions_0"].shape == (0, 1) and meta["episode_returns"][0] < 0
    resumed = _trainer(tmp_path, "--n_epochs", "2", "--resume", "auto", *endless)
    try:
        resumed.restore(*resumed.resume_from)
        assert "1 env copies of" in capsys.readouterr().err
        assert resumed.collector.episode_returns[0] == 0.0  # a new episode's return
        assert -0.5 <= resumed.collector.obs[0, 0] <= 0.5  # a new episode's start state
        assert resumed.collector.env_steps == 100
    finally:
        resumed.close()


def test_resume_checks_settings_but_not_where_the_run_executes():
    from src.errors import UserError
    from src.snapshot import check_resumable
    saved = load_config(["--n_epochs", "2"])[0].to_dict()
    meta = {"config": saved, "workers": 1}
    now = dict(saved, n_epochs=4, learner_backend="graph", device_id=1, progress_bar=False)
    check_resumable("s", meta, now, 1)
    with pytest.raises(UserError, match="setting 'discount' was 0.99 in the saved run"):
        check_resumable("s", meta, dict(now, discount=0.5), 1)
    with pytest.raises(UserError, match="saved by a run of 1 workers, this one has 2"):
        check_resumable("s", meta, now, 2)
