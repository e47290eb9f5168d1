"""The shipped agents (pretrained/NAME): each checkpoint matches its manifest's hash, and
eval.py --pretrained reproduces the manifest's returns on its first episodes (all of them:
benchmarks/check_pretrained.py)."""
import os
import shutil

import numpy as np
import pytest

from conftest import run_cli
from src import config as config_module
from src.checkpoint import ACTOR_TARGET_CKPT, actor_ckpt_path, file_sha256, read_manifest
from src.config import load_config, pretrained_dir, pretrained_names
from src.errors import UserError

SHIPPED = pretrained_names()
# Episodes replayed per agent here; an episode's return may differ from the manifest's by this
# fraction of its size (float rounding of another CPU's kernels; on the CPU that made the
# manifest the returns agree to the 4 decimals printed).
EPISODES = 2
RTOL = 1e-3


def _episode_returns(stdout):
    """The returns of eval.py's "episode I: return R (N steps)" lines, in order."""
    return [float(line.split()[3]) for line in stdout.splitlines() if line.startswith("episode ")]


def test_the_default_agent_is_shipped():
    assert "ddpg_pendulum_v1" in SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_agent_matches_its_manifest(name):
    directory = pretrained_dir(name)
    manifest = read_manifest(directory)
    assert file_sha256(os.path.join(directory, ACTOR_TARGET_CKPT)) == manifest["sha256"]
    # Only the actor-target and what evaluating it needs: no buffer, no training state.
    assert sorted(os.listdir(directory)) == sorted(
        [ACTOR_TARGET_CKPT, "config.yaml", "env_spaces.json", "manifest.yaml"])
    for key in ("env_id", "algorithm", "env_steps", "seed", "eval_episodes", "eval_seed",
                "avgReward", "returns"):
        assert key in manifest, key
    assert len(manifest["returns"]) == manifest["eval_episodes"]
    assert manifest["avgReward"] == pytest.approx(
        sum(manifest["returns"]) / len(manifest["returns"]), abs=1e-3)
    cfg, _ = load_config(["--pretrained", name], from_run=True)
    assert (cfg.env_id, cfg.seed, cfg.eval_episodes) == (
        manifest["env_id"], manifest["eval_seed"], manifest["eval_episodes"])


@pytest.mark.parametrize("name", SHIPPED)
def test_eval_reproduces_the_manifest(name):
    manifest = read_manifest(pretrained_dir(name))
    if manifest["env_id"] != "Pendulum-v1":
        pytest.importorskip("mujoco")
    res = run_cli("eval.py", "--pretrained", name, "--eval_episodes", str(EPISODES))
    assert res.returncode == 0, res.stderr
    returns = _episode_returns(res.stdout)
    expected = manifest["returns"][:EPISODES]
    assert returns == pytest.approx(expected, rel=RTOL, abs=RTOL)


def test_unknown_agent_lists_the_known_ones():
    res = run_cli("eval.py", "--pretrained", "no_such_agent")
    assert res.returncode != 0
    (line,) = res.stderr.strip().splitlines()
    assert line.startswith("error: unknown pretrained agent 'no_such_agent'; known: ")
    assert line.endswith(", ".join(SHIPPED))


def test_a_damaged_checkpoint_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(config_module, "PRETRAINED_ROOT", str(tmp_path))
    shutil.copytree(os.path.join(os.path.dirname(os.path.dirname(__file__)), "pretrained",
                                 "ddpg_pendulum_v1"), tmp_path / "agent")
    cfg, _ = load_config(["--pretrained", "agent"], from_run=True)
    assert actor_ckpt_path(cfg) == str(tmp_path / "agent" / ACTOR_TARGET_CKPT)
    with open(tmp_path / "agent" / ACTOR_TARGET_CKPT, "r+b") as f:
        f.seek(-1, os.SEEK_END)
        last = f.read(1)
        f.seek(-1, os.SEEK_END)
        f.write(bytes([last[0] ^ 1]))
    with pytest.raises(UserError, match="does not match the sha256"):
        actor_ckpt_path(cfg)


def test_pretrained_names_the_run(trained_dir):
    with pytest.raises(UserError, match="leave --output_dir out"):
        load_config(["--pretrained", "ddpg_pendulum_v1", "--output_dir", str(trained_dir)],
                    from_run=True)
    with pytest.raises(UserError, match="for eval.py and export.py"):
        load_config(["--pretrained", "ddpg_pendulum_v1"])


def test_export_takes_a_pretrained_agent(tmp_path):
    res = run_cli("export.py", "--pretrained", "ddpg_pendulum_v1", "--file_format", "ONNX",
                  "--file_name", str(tmp_path / "actor"))
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "actor.onnx").stat().st_size > 0


@pytest.mark.parametrize("name", SHIPPED)
def test_record_takes_a_pretrained_agent(tmp_path, name):
    from PIL import Image
    manifest = read_manifest(pretrained_dir(name))
    pendulum = manifest["env_id"] == "Pendulum-v1"
    if not pendulum:
        pytest.importorskip("mujoco")
    # Pendulum's whole episode (recording must not change what the agent does); a MuJoCo
    # agent's first 40 steps (rendering a whole episode would take a minute).
    steps = [] if pendulum else ["--max_episode_length_eval", "40"]
    res = run_cli("eval.py", "--pretrained", name, "--eval_episodes", "1",
                  "--record", str(tmp_path), *steps)
    assert res.returncode == 0, res.stderr
    if pendulum:
        (ret,) = _episode_returns(res.stdout)
        assert ret == pytest.approx(manifest["returns"][0], rel=RTOL, abs=RTOL)
    gif = tmp_path / f"{manifest['env_id']}_episode_0.gif"
    with Image.open(gif) as im:
        assert im.n_frames > 30
        first = np.asarray(im.convert("RGB"))
        im.seek(im.n_frames - 1)
        assert not np.array_equal(first, np.asarray(im.convert("RGB")))
