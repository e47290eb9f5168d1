import numpy as np
import mindspore as ms
import pytest

from conftest import run_cli
from src.checkpoint import actor_architecture, load_actor, load_params, save_cell
from src.errors import UserError
from src.networks import ActorNet


def _obs(n=32, seed=0):
    return np.random.default_rng(seed).standard_normal((n, 3)).astype(np.float32)


def test_actor_round_trip(tmp_path, pendulum_spec):
    actor = ActorNet(3, 1, [16, 8], pendulum_spec.low, pendulum_spec.high)
    path = str(tmp_path / "actor.ckpt")
    save_cell(actor, path)
    loaded = load_actor(path, pendulum_spec)
    np.testing.assert_array_equal(loaded(ms.Tensor(_obs())).asnumpy(),
                                  actor(ms.Tensor(_obs())).asnumpy())
    assert not (tmp_path / "actor.ckpt.tmp.ckpt").exists()


def test_prefix_is_stripped_when_saving_from_the_learner(tmp_path, pendulum_spec):
    from src.config import load_config
    from src.learner import Learner
    cfg = load_config(["--policy_hidden_sizes", "[16]", "--qf_hidden_sizes", "[16]"])[0]
    learner = Learner(pendulum_spec, cfg)
    path = str(tmp_path / "t.ckpt")
    save_cell(learner.nets.actor_target, path, strip_prefix="actor_target.")
    assert sorted(load_params(path)) == ["a_fc1.bias", "a_fc1.weight", "a_fc2.bias",
                                         "a_fc2.weight"]
    obs = ms.Tensor(_obs())
    np.testing.assert_allclose(load_actor(path, pendulum_spec)(obs).asnumpy(),
                               learner.nets.actor_target(obs).asnumpy(), rtol=1e-6)


def test_hub_layout_checkpoint_loads_and_matches_reference_maths(tmp_path, pendulum_spec):
    # The published model-zoo actor-target: a_fc1 [400, 3], a_fc2 [300, 400], a_fc3 [1, 300],
    # ReLU, then tanh(x) * 2. Written here with mindspore.save_checkpoint as the zoo did.
    rng = np.random.default_rng(3)
    shapes = {"a_fc1.weight": (400, 3), "a_fc1.bias": (400,), "a_fc2.weight": (300, 400),
              "a_fc2.bias": (300,), "a_fc3.weight": (1, 300), "a_fc3.bias": (1,)}
    w = {k: (rng.standard_normal(s) * 0.1).astype(np.float32) for k, s in shapes.items()}
    path = str(tmp_path / "ddpg_actortarget_ascend_v150_none_research_rl_avgReward-9.11.ckpt")
    ms.save_checkpoint([{"name": k, "data": ms.Tensor(v)} for k, v in w.items()], path)
    assert actor_architecture(load_params(path), path) == (3, [400, 300], 1)
    obs = _obs()
    h = np.maximum(obs @ w["a_fc1.weight"].T + w["a_fc1.bias"], 0)
    h = np.maximum(h @ w["a_fc2.weight"].T + w["a_fc2.bias"], 0)
    expected = np.tanh(h @ w["a_fc3.weight"].T + w["a_fc3.bias"]) * 2
    out = load_actor(path, pendulum_spec)(ms.Tensor(obs)).asnumpy()
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
    # eval.py takes it as it is, whatever the config's hidden sizes.
    res = run_cli("eval.py", "--ckpt_file", path, "--eval_episodes", "2",
                  "--policy_hidden_sizes", "[64]", "--max_episode_length_eval", "50")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert lines[-1].startswith("avgReward: ") and "(50 steps)" in lines[-2]


def test_bad_checkpoints_are_user_errors(tmp_path, pendulum_spec):
    with pytest.raises(UserError, match="not found"):
        load_actor(str(tmp_path / "missing.ckpt"), pendulum_spec)
    empty = tmp_path / "empty.ckpt"
    empty.write_bytes(b"")
    with pytest.raises(UserError, match="is empty"):
        load_actor(str(empty), pendulum_spec)
    actor = ActorNet(3, 1, [16], pendulum_spec.low, pendulum_spec.high)
    good = tmp_path / "good.ckpt"
    save_cell(actor, str(good))
    data = good.read_bytes()
    truncated = tmp_path / "truncated.ckpt"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(UserError, match="truncated or corrupted"):
        load_actor(str(truncated), pendulum_spec)
    garbage = tmp_path / "garbage.ckpt"
    garbage.write_bytes(b"\\x07not a checkpoint" * 50)
    with pytest.raises(UserError, match="truncated or corrupted"):
        load_actor(str(garbage), pendulum_spec)


def test_checkpoint_that_does_not_fit_the_env(tmp_path, pendulum_spec):
    other = ActorNet(5, 2, [16], -np.ones(2), np.ones(2))
    path = str(tmp_path / "other.ckpt")
    save_cell(other, path)
    with pytest.raises(UserError, match="does not fit env 'Pendulum-v1'"):
        load_actor(path, pendulum_spec)
    critic_only = str(tmp_path / "critic.ckpt")
    ms.save_checkpoint([{"name": "c_fc1.weight", "data": ms.Tensor(np.zeros((2, 2), np.float32))}],
                       critic_only)
    with pytest.raises(UserError, match="not an actor checkpoint"):
        load_actor(critic_only, pendulum_spec)
