import glob
import math
import os

import pytest

from src.config import ROOT, load_config
from src.errors import UserError


def test_defaults():
    cfg, debug = load_config([])
    assert cfg.env_id == "Pendulum-v1" and cfg.device_target == "CPU" and not debug
    assert cfg.clip_return == math.inf and cfg.policy_hidden_sizes == [400, 300]
    assert cfg.n_epochs * cfg.steps_per_epoch * cfg.env_steps_per_cycle == 20000


def test_overrides_are_typed():
    cfg, debug = load_config(["--discount", "0.9", "--n_epochs=3", "--clip_pos_returns", "true",
                              "--policy_hidden_sizes", "64,32", "--qf_hidden_sizes", "[8]",
                              "--qf_lr", "1e-4", "--seed", "7", "--debug"])
    assert cfg.discount == 0.9 and isinstance(cfg.discount, float)
    assert cfg.n_epochs == 3 and cfg.clip_pos_returns is True and debug
    assert cfg.policy_hidden_sizes == [64, 32] and cfg.qf_hidden_sizes == [8]
    assert cfg.qf_lr == 1e-4 and cfg.seed == 7


@pytest.mark.parametrize("argv, fragment", [
    (["--discont", "0.9"], "unknown setting 'discont'"),
    (["--n_epochs", "two"], "must be an integer"),
    (["--n_epochs", "1.5"], "must be an integer"),
    (["--discount", "abc"], "must be a number"),
    (["--clip_pos_returns", "maybe"], "must be true or false"),
    (["--policy_hidden_sizes", "[a]"], "list of positive integers"),
    (["--exploration", "uniform"], "must be one of gaussian, ou"),
    (["--discount", "1.5"], "'discount' must be in [0.0, 1.0]"),
    (["--target_update_tau", "-0.1"], "'target_update_tau' must be in"),
    (["--target_update_tau", "0"], "'target_update_tau' must be in (0.0, 1.0], got 0.0"),
    (["--reward_scale", "nan"], "'reward_scale' must be in (0.0, inf], got nan"),
    (["--reward_scale", "0"], "'reward_scale' must be in (0.0, inf], got 0.0"),
    (["--reward_scale", "-2"], "'reward_scale' must be in (0.0, inf], got -2.0"),
    (["--noise_decay_ratio", "0.5", "--noise_sigma_min", "0.3"],
     "noise_sigma_min (0.3) is larger than noise_sigma (0.1)"),
    (["--policy_lr", "0"], "'policy_lr' must be in (0.0"),
    (["--n_epochs", "0"], "'n_epochs' must be in"),
    (["--buffer_size", "100", "--min_buffer_size", "50", "--buffer_batch_size", "200"],
     "buffer_batch_size (200) is larger than buffer_size (100)"),
    (["--buffer_size", "100", "--buffer_batch_size", "50", "--min_buffer_size", "500"],
     "min_buffer_size (500) is larger"),
    (["--n_epochs"], "needs a value"),
    (["stray"], "unexpected argument 'stray'"),
    (["--config_path", "/nonexistent.yaml"], "config file not found"),
])
def test_bad_settings_are_one_line_errors(argv, fragment):
    with pytest.raises(UserError) as info:
        load_config(argv)
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_sigma_min_is_free_when_sigma_does_not_decay():
    # noise_sigma_min is only read by a decaying Gaussian sigma: no relation to check otherwise.
    assert load_config(["--noise_sigma_min", "0.3"])[0].noise_sigma_min == 0.3
    assert load_config(["--noise_decay_ratio", "0.5", "--noise_sigma_min", "0.3",
                        "--exploration", "ou"])[0].exploration == "ou"


def test_preset_layers_on_defaults_and_cli_wins(tmp_path):
    preset = tmp_path / "p.yaml"
    preset.write_text("env_id: MountainCarContinuous-v0\ndiscount: 0.95\n")
    cfg, _ = load_config(["--config_path", str(preset), "--discount", "0.5"])
    assert cfg.env_id == "MountainCarContinuous-v0" and cfg.discount == 0.5
    assert cfg.policy_lr == 0.001  # untouched keys keep their defaults


def test_preset_unknown_key_and_malformed_yaml(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("disount: 0.9\n")
    with pytest.raises(UserError, match="unknown setting 'disount'.*did you mean 'discount'"):
        load_config(["--config_path", str(bad)])
    broken = tmp_path / "broken.yaml"
    broken.write_text("discount: [0.9\nseed: 1\n")
    with pytest.raises(UserError, match="malformed YAML"):
        load_config(["--config_path", str(broken)])
    typed = tmp_path / "typed.yaml"
    typed.write_text("n_epochs: 2.5\n")
    with pytest.raises(UserError, match="'n_epochs' in .* must be an integer"):
        load_config(["--config_path", str(typed)])


@pytest.mark.parametrize("preset", sorted(glob.glob(os.path.join(ROOT, "config", "*.yaml"))))
def test_shipped_presets_load(preset):
    cfg, _ = load_config(["--config_path", preset])
    assert cfg.env_id


def test_every_key_has_help(capsys):
    import yaml
    with open(os.path.join(ROOT, "default_config.yaml"), encoding="utf-8") as f:
        defaults, helps, _ = yaml.safe_load_all(f)
    with pytest.raises(SystemExit):
        load_config(["--help"])
    lines = capsys.readouterr().out.splitlines()
    for key in defaults:
        assert isinstance(helps.get(key), str) and len(helps[key].split()) >= 3, key
        # Printed under the key's line: `--key (default ...)`, then the help text.
        i = next(i for i, line in enumerate(lines) if line.startswith(f"  --{key} (default "))
        assert lines[i + 1].strip() == helps[key], key
    assert not set(helps) - set(defaults), "help for a key that does not exist"


def test_eval_and_export_defaults_come_from_the_run(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "env_spaces.json").write_text("{}")  # what makes the directory a run's
    (run / "config.yaml").write_text(
        "env_id: MountainCarContinuous-v0\nmax_action: 0.5\npolicy_hidden_sizes: [64]\n"
        "seed: 4\noutput_dir: ./where_it_trained\ndevice_target: GPU\n")
    for argv in (["--output_dir", str(run)], ["--ckpt_file", str(run / "x.ckpt")]):
        cfg = load_config(argv, from_run=True)[0]
        assert (cfg.env_id, cfg.max_action, cfg.policy_hidden_sizes, cfg.seed) == \
            ("MountainCarContinuous-v0", 0.5, [64], 4)
        # Settings of this machine and command are not the run's.
        assert cfg.device_target == "CPU" and cfg.output_dir != "./where_it_trained"
        assert cfg._run_config == str(run / "config.yaml")
    preset = tmp_path / "p.yaml"
    preset.write_text("seed: 7\nmax_action: 0.25\n")
    cfg = load_config(["--output_dir", str(run), "--config_path", str(preset), "--seed", "9"],
                      from_run=True)[0]
    # The run wins over the preset; the command line wins over the run.
    assert (cfg.seed, cfg.max_action, cfg.env_id) == (9, 0.5, "MountainCarContinuous-v0")
    # train.py does not read it; a checkpoint without a config.yaml beside it keeps defaults.
    assert load_config(["--output_dir", str(run)])[0].env_id == "Pendulum-v1"
    cfg = load_config(["--ckpt_file", str(tmp_path / "hub.ckpt")], from_run=True)[0]
    assert cfg.env_id == "Pendulum-v1" and cfg._run_config == ""
    # A setting this version does not know (renamed since the run) is skipped with a warning.
    capsys.readouterr()
    (run / "config.yaml").write_text("disount: 0.9\n")
    assert load_config(["--output_dir", str(run)], from_run=True)[0].discount == 0.99
    assert capsys.readouterr().err.startswith(f"warning: {run / 'config.yaml'}: setting 'disount'")
