"""eval.py and export.py cannot be steered away from the run they read: the run's config.yaml
wins over --config_path, only command-line flags override it, and a flag that contradicts a
setting the actor or its env was trained with is refused. env_spaces.json records the actor's
action scaling; a stray config.yaml is not a run's; a run's unknown key is only a warning."""
import json
import os
import shutil

import pytest

from conftest import TINY, run_cli
from src.config import DEFAULT_CONFIG, load_config
from src.errors import UserError

# A Pendulum run whose actor, seed and episode count are not the defaults' (max_action 0.5 of
# the bounds [-2, 2]): evaluated with the defaults it would give another avgReward.
RUN = [*TINY, "--max_action", "0.5", "--seed", "3", "--eval_episodes", "3"]
RUN_YAML = ("env_id: MountainCarContinuous-v0\nmax_action: 0.5\npolicy_hidden_sizes: [64]\n"
            "seed: 3\neval_episodes: 3\n")


def _fake_run(path, text=RUN_YAML, marker=True):
    """A directory holding a run's config.yaml and, with `marker`, train.py's env_spaces.json."""
    path.mkdir()
    (path / "config.yaml").write_text(text)
    if marker:
        (path / "env_spaces.json").write_text("{}")
    return path


# ---------------------------------------------------------------------------------------------
# load_config

def test_run_config_wins_over_config_path(tmp_path):
    run = _fake_run(tmp_path / "run")
    preset = tmp_path / "p.yaml"
    preset.write_text("seed: 7\nmax_action: 0.25\ndiscount: 0.5\n")
    for given in (DEFAULT_CONFIG, str(preset)):
        cfg = load_config(["--output_dir", str(run), "--config_path", given], from_run=True)[0]
        assert (cfg.env_id, cfg.max_action, cfg.policy_hidden_sizes, cfg.seed,
                cfg.eval_episodes) == ("MountainCarContinuous-v0", 0.5, [64], 3, 3), given
    # The preset fills what the run lacks.
    assert cfg.discount == 0.5


def test_flags_override_evaluation_settings_and_the_note_says_so(tmp_path):
    from src.config import run_settings_note
    run = _fake_run(tmp_path / "run")
    cfg = load_config(["--output_dir", str(run), "--config_path", DEFAULT_CONFIG,
                       "--seed", "5", "--eval_episodes", "3", "--max_action", "0.5"],
                      from_run=True)[0]
    assert (cfg.seed, cfg.eval_episodes, cfg.max_action) == (5, 3, 0.5)
    note = run_settings_note(cfg)
    assert note.startswith(f"settings of {run / 'config.yaml'}")
    # Only a flag that changed the run's value is an override.
    assert "overridden on the command line: seed 3 -> 5" in note
    assert "eval_episodes" not in note and "max_action" not in note
    # What the run's config.yaml lacks is named with where it came from.
    assert "; not in it, from " in note and "default_config.yaml: " in note
    assert "discount 0.99" in note and "seed" not in note.split("; not in it")[1]
    plain = load_config(["--output_dir", str(run)], from_run=True)[0]
    assert "overridden" not in run_settings_note(plain)


@pytest.mark.parametrize("flag, value", [("env_id", "Pendulum-v1"), ("max_action", "0"),
                                         ("policy_hidden_sizes", "[400, 300]")])
def test_a_flag_contradicting_the_actor_is_refused(tmp_path, flag, value):
    run = _fake_run(tmp_path / "run")
    with pytest.raises(UserError) as info:
        load_config(["--output_dir", str(run), f"--{flag}", value], from_run=True)
    message = str(info.value)
    assert message.startswith(f"setting '{flag}' ") and "\n" not in message, message
    # The same value, however written, is no contradiction.
    same = {"env_id": "MountainCarContinuous-v0", "max_action": "0.50",
            "policy_hidden_sizes": "64"}[flag]
    load_config(["--output_dir", str(run), f"--{flag}", same], from_run=True)


def test_a_config_yaml_without_a_run_beside_it_is_not_adopted(tmp_path, monkeypatch, capsys):
    stray = _fake_run(tmp_path / "stray", marker=False)
    monkeypatch.chdir(stray)
    for ckpt in ("x.ckpt", str(stray / "x.ckpt")):
        cfg = load_config(["--ckpt_file", ckpt], from_run=True)[0]
        assert cfg.env_id == "Pendulum-v1" and cfg._run_config == "", ckpt
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("warning: ") and "not read" in err[0], err
    # The same file with a file of train.py's beside it is a run's.
    (stray / "progress.csv").write_text("")
    cfg = load_config(["--ckpt_file", "x.ckpt"], from_run=True)[0]
    assert cfg.env_id == "MountainCarContinuous-v0"
    assert cfg._run_config == os.path.join(".", "config.yaml")


def test_an_unknown_key_of_a_run_is_a_warning(tmp_path, capsys):
    run = _fake_run(tmp_path / "run", RUN_YAML + "renamed_later: 1\n")
    cfg = load_config(["--output_dir", str(run)], from_run=True)[0]
    assert cfg.seed == 3 and not hasattr(cfg, "renamed_later")
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("warning: ") and "'renamed_later'" in err[0], err
    # Presets and the command line still refuse them.
    with pytest.raises(UserError, match="unknown setting 'renamed_later'"):
        load_config(["--output_dir", str(run), "--config_path", str(run / "config.yaml")],
                    from_run=True)
    with pytest.raises(UserError, match="unknown setting 'renamed_later'"):
        load_config(["--output_dir", str(run), "--renamed_later", "1"], from_run=True)


# ---------------------------------------------------------------------------------------------
# env_spaces.json

def test_env_spaces_records_the_actor_scaling(tmp_path, pendulum_spec):
    from src.checkpoint import load_actor, save_cell, save_env_spaces
    from src.networks import ActorNet
    save_env_spaces(pendulum_spec, str(tmp_path), 0.5)
    spaces = json.loads((tmp_path / "env_spaces.json").read_text())
    assert (spaces["actor_low"], spaces["actor_high"]) == ([-0.5], [0.5])
    assert (spaces["low"], spaces["high"]) == ([-2.0], [2.0])
    path = str(tmp_path / "actor.ckpt")
    save_cell(ActorNet(3, 1, [8], *pendulum_spec.actor_bounds(0.5)), path)
    load_actor(path, pendulum_spec, 0.5)
    with pytest.raises(UserError) as info:
        load_actor(path, pendulum_spec, 0.0)
    assert "max_action" in str(info.value) and "[-0.5] to [0.5]" in str(info.value)
    # env_spaces.json of a run written before the field existed: nothing to compare.
    del spaces["actor_low"], spaces["actor_high"]
    (tmp_path / "env_spaces.json").write_text(json.dumps(spaces))
    load_actor(path, pendulum_spec, 0.0)


# ---------------------------------------------------------------------------------------------
# End to end: eval.py, export.py and the launcher on a tiny run

@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """(output_dir, the avgReward train.py printed last) of a tiny run of RUN."""
    out = tmp_path_factory.mktemp("run_settings")
    res = run_cli("train.py", "--output_dir", str(out), *RUN)
    assert res.returncode == 0, res.stderr
    last = res.stdout.strip().splitlines()[-1]
    return out, last[last.index("avgReward: "):]


def _episodes(stdout):
    return sum(line.startswith("episode ") for line in stdout.splitlines())


def test_train_writes_the_actor_scaling(run):
    out, _ = run
    spaces = json.loads((out / "env_spaces.json").read_text())
    assert (spaces["actor_low"], spaces["actor_high"]) == ([-0.5], [0.5])


def test_eval_with_default_config_keeps_the_run_settings(run, tmp_path):
    out, avg = run
    res = run_cli("eval.py", "--output_dir", str(out), "--config_path", DEFAULT_CONFIG)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert "for 3 episodes" in lines[0] and "overridden" not in lines[0], lines[0]
    assert _episodes(res.stdout) == 3 and lines[-1] == avg, (lines[-1], avg)
    # The launcher passes its CONFIG_PATH the same way.
    res = run_cli("scripts/run_eval_cpu.sh", str(out / "ddpg_actortarget.ckpt"), DEFAULT_CONFIG,
                  cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.strip().splitlines()[-1] == avg


def test_eval_flags_override_and_the_banner_says_which(run):
    out, _ = run
    res = run_cli("eval.py", "--output_dir", str(out), "--eval_episodes", "1", "--seed", "4",
                  "--max_action", "0.5")
    assert res.returncode == 0, res.stderr
    banner = res.stdout.splitlines()[0]
    assert f"settings of {out / 'config.yaml'}" in banner, banner
    assert "overridden on the command line: seed 3 -> 4, eval_episodes 3 -> 1" in banner, banner
    assert _episodes(res.stdout) == 1


@pytest.mark.parametrize("script", ["eval.py", "export.py"])
def test_a_contradicting_max_action_is_refused(run, tmp_path, script):
    out, _ = run
    res = run_cli(script, "--output_dir", str(out), "--max_action", "1.0",
                  "--file_name", str(tmp_path / "never"))
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 2 and len(lines) == 1, res.stderr
    assert lines[0].startswith("error: setting 'max_action' ") and "0.5" in lines[0], lines
    assert not list(tmp_path.iterdir())


def test_a_stray_config_yaml_in_the_working_directory_is_not_adopted(run, tmp_path):
    out, _ = run
    shutil.copy(out / "ddpg_actortarget.ckpt", tmp_path / "x.ckpt")
    (tmp_path / "config.yaml").write_text("env_id: MountainCarContinuous-v0\n")
    res = run_cli("eval.py", "--ckpt_file", "x.ckpt", "--eval_episodes", "1",
                  "--max_action", "0.5", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "on Pendulum-v1 for 1 episodes" in res.stdout.splitlines()[0]


def test_a_run_with_an_unknown_key_still_evaluates(run, tmp_path):
    out, avg = run
    copy = tmp_path / "old_run"
    shutil.copytree(out, copy, ignore=shutil.ignore_patterns("state"))
    with open(copy / "config.yaml", "a", encoding="utf-8") as f:
        f.write("a_setting_renamed_since: 3\n")
    res = run_cli("eval.py", "--output_dir", str(copy))
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == avg
    warnings = [line for line in res.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1 and "'a_setting_renamed_since'" in warnings[0], res.stderr


def test_an_actor_scaling_that_differs_from_the_run_is_refused(run, tmp_path):
    out, avg = run
    copy = tmp_path / "edited"
    shutil.copytree(out, copy, ignore=shutil.ignore_patterns("state"))
    # A config.yaml edited by hand after training: the actor would act on another scale.
    text = (copy / "config.yaml").read_text()
    (copy / "config.yaml").write_text(text.replace("max_action: 0.5", "max_action: 0.0"))
    for script in ("eval.py", "export.py"):
        res = run_cli(script, "--output_dir", str(copy), "--file_name", str(tmp_path / "never"))
        lines = res.stderr.strip().splitlines()
        assert res.returncode == 2 and len(lines) == 1, (script, res.stderr)
        assert lines[0].startswith("error: checkpoint ") and "max_action" in lines[0], lines
    # An env_spaces.json written before the field existed (older runs) still evaluates.
    (copy / "config.yaml").write_text(text)
    spaces = json.loads((copy / "env_spaces.json").read_text())
    for key in [k for k in spaces if k.startswith("actor_")]:
        del spaces[key]
    (copy / "env_spaces.json").write_text(json.dumps(spaces))
    assert set(spaces) == {"env_id", "obs_dim", "act_dim", "low", "high"}
    res = run_cli("eval.py", "--output_dir", str(copy))
    assert res.returncode == 0 and res.stdout.strip().splitlines()[-1] == avg, res.stderr
