"""Configuration: default_config.yaml, an optional preset, then `--key value` overrides.

The YAML holds three documents, as in the MindSpore model zoo: values, help texts, choices.
A key's type is the type of its default value; an unknown key, a value of the wrong type, a
value outside its choices or its range is a `UserError` (one line, exit status 2).

eval.py and export.py read a run (load_config(from_run=True)): its config.yaml then sits
above the preset, and only the command line overrides it (see load_config).
"""
import difflib
import math
import os
import sys
from typing import Any, Dict, List, Optional, Sequence, Tuple

import yaml

from src.errors import UserError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CONFIG = os.path.join(ROOT, "default_config.yaml")
# The settings of a run, written by train.py into its output_dir.
RUN_CONFIG = "config.yaml"
# Settings of the machine or of the current command, not of the run: never taken from a run's
# config.yaml (an output_dir written there is relative to where training ran).
NOT_FROM_RUN = {"device_target", "device_id", "distributed", "output_dir", "ckpt_file",
                "resume", "progress_bar", "record", "file_name", "file_format", "learner_backend",
                "tensorboard", "pretrained"}
# The agents shipped with the package: pretrained/NAME is a run directory (actor-target
# checkpoint, config.yaml, env_spaces.json) with a manifest.yaml of how it was made.
PRETRAINED_ROOT = os.path.join(ROOT, "pretrained")
# Settings that shaped a run's actor or the env it acts in: its checkpoints mean nothing under
# other values, so a command line that contradicts the run's value is refused, not obeyed.
# (policy_hidden_sizes is read from the weights; a flag that disagrees is still a mistake.)
ACTOR_SETTINGS = ("env_id", "max_action", "policy_hidden_sizes")
# Files train.py writes beside config.yaml (src/checkpoint.py ENV_SPACES, src/progress.py): a
# directory holding one of them is a run's, so a stray config.yaml, say in the working
# directory of a bare --ckpt_file, is never taken for the settings of a run.
RUN_MARKERS = ("env_spaces.json", "progress.csv")

# Numeric ranges checked before any work starts: key -> (low, high, low_inclusive).
_RANGES = {
    "discount": (0.0, 1.0, True),
    "target_update_tau": (0.0, 1.0, False),  # 0 would leave the targets where they start
    "reward_scale": (0.0, math.inf, False),
    "policy_lr": (0.0, math.inf, False),
    "qf_lr": (0.0, math.inf, False),
    "policy_weight_decay": (0.0, math.inf, True),
    "qf_weight_decay": (0.0, math.inf, True),
    "clip_return": (0.0, math.inf, False),
    "max_action": (0.0, math.inf, True),
    "noise_sigma": (0.0, math.inf, True),
    "noise_sigma_min": (0.0, math.inf, True),
    "noise_decay_ratio": (0.0, math.inf, True),
    "ou_theta": (0.0, math.inf, True),
    "ou_dt": (0.0, math.inf, False),
    "device_id": (0, math.inf, True),
    "seed": (0, 2**32 - 1, True),
    "num_envs": (1, math.inf, True),
    "save_every_epochs": (1, math.inf, True),
    "keep_checkpoints": (1, math.inf, True),
    "n_epochs": (1, math.inf, True),
    "steps_per_epoch": (1, math.inf, True),
    "env_steps_per_cycle": (1, math.inf, True),
    "n_train_steps": (0, math.inf, True),
    "grad_steps_per_call": (1, math.inf, True),
    "start_steps": (0, math.inf, True),
    "buffer_size": (1, math.inf, True),
    "buffer_batch_size": (1, math.inf, True),
    "min_buffer_size": (1, math.inf, True),
    "eval_episodes": (1, math.inf, True),
    "max_episode_length_eval": (0, math.inf, True),
    "policy_delay": (1, math.inf, True),
    "target_policy_noise": (0.0, math.inf, True),
    "target_noise_clip": (0.0, math.inf, False),
    "final_layer_init": (0.0, math.inf, True),
}
# Settings added after training states were first written, with the value every state written
# before them ran with: such a state resumes as if it held them.
ADDED_SETTINGS = {"twin_critics": False, "policy_delay": 1, "target_policy_noise": 0.0,
                  "target_noise_clip": 0.5, "final_layer_init": 0.003}


def algorithm_name(cfg) -> str:
    """"TD3" when all three of TD3's switches are on, "DDPG" when none is, else "DDPG +" the
    switches that are on (for titles and logs; the learner reads the switches themselves)."""
    switches = [name for name, on in (("twin critics", cfg.twin_critics),
                                      (f"policy delay {cfg.policy_delay}", cfg.policy_delay > 1),
                                      ("target smoothing", cfg.target_policy_noise > 0)) if on]
    if len(switches) == 3:
        return "TD3"
    return "DDPG" + (" + " + ", ".join(switches) if switches else "")


class Config:
    """Attribute access to the merged settings, e.g. `cfg.discount`."""

    def __init__(self, values: Dict[str, Any], helps: Dict[str, str]):
        self.__dict__.update(values)
        self._helps = helps

    def to_dict(self) -> Dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def __repr__(self) -> str:
        return "\n".join(f"{k}: {v!r}" for k, v in self.to_dict().items())


def _read_yaml(path: str) -> List[Any]:
    if not os.path.isfile(path):
        raise UserError(f"config file not found: {path}")
    try:
        with open(path, encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f)]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise UserError(f"malformed YAML in {path}{where}: {getattr(exc, 'problem', exc)}") from None
    if not docs or not isinstance(docs[0], dict):
        raise UserError(f"{path}: the first YAML document must be a mapping of settings")
    return docs


def _unknown(key: str, known: Sequence[str], where: str) -> UserError:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return UserError(f"unknown setting '{key}' in {where}{hint}")


def _coerce(key: str, value: Any, default: Any, where: str) -> Any:
    """Returns `value` converted to the type of `default`, or raises UserError."""
    bad = UserError(f"setting '{key}' in {where} must be {_type_name(default)}, got {value!r}")
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        raise bad
    if isinstance(default, int):
        if isinstance(value, bool):
            raise bad
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                raise bad from None
        raise bad
    if isinstance(default, float):
        if isinstance(value, bool):
            raise bad
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                raise bad from None
        raise bad
    if isinstance(default, list):
        if isinstance(value, str):
            text = value.strip()
            try:
                value = yaml.safe_load(text if text.startswith("[") else f"[{text}]")
            except yaml.YAMLError:
                raise bad from None
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value
        ):
            raise bad
        return list(value)
    if isinstance(default, str):
        if isinstance(value, (dict, list)) or value is None:
            raise bad
        return str(value)
    raise bad


def _type_name(default: Any) -> str:
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, int):
        return "an integer"
    if isinstance(default, float):
        return "a number"
    if isinstance(default, list):
        return "a list of positive integers such as [400, 300]"
    return "a string"


def _parse_argv(argv: Sequence[str]) -> Tuple[Dict[str, str], bool, bool]:
    """Splits `--key value` / `--key=value` pairs; returns (pairs, help, debug)."""
    pairs: Dict[str, str] = {}
    show_help = debug = False
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("-h", "--help"):
            show_help = True
            i += 1
            continue
        if arg == "--debug":
            debug = True
            i += 1
            continue
        if not arg.startswith("--") or len(arg) == 2:
            raise UserError(f"unexpected argument '{arg}': options are written --key value")
        if "=" in arg:
            key, value = arg[2:].split("=", 1)
            i += 1
        else:
            if i + 1 >= len(argv):
                raise UserError(f"option '{arg}' needs a value")
            key, value = arg[2:], argv[i + 1]
            i += 2
        pairs[key] = value
    return pairs, show_help, debug


def help_text(helps: Dict[str, str], defaults: Dict[str, Any], choices: Dict[str, Any],
              from_run: bool = False) -> str:
    lines = ["options (each overrides default_config.yaml):",
             "  --config_path FILE   YAML layered on top of default_config.yaml",
             "  --debug              show a traceback on errors"]
    if from_run:
        lines[1:1] = ["  A run's config.yaml (in --output_dir, or beside --ckpt_file) wins over "
                      "--config_path,",
                      "  which only fills what it lacks; flags override it, but these must match "
                      "the run's:",
                      f"  {', '.join(ACTOR_SETTINGS)}."]
    for key, default in defaults.items():
        extra = f" (choices: {', '.join(map(str, choices[key]))})" if key in choices else ""
        lines.append(f"  --{key} (default {default!r}){extra}\n      {helps.get(key, '')}")
    return "\n".join(lines)


def validate(values: Dict[str, Any], choices: Dict[str, Any]) -> None:
    """Checks choices, ranges and the relations between settings."""
    for key, allowed in choices.items():
        if values[key] not in allowed:
            raise UserError(f"setting '{key}' must be one of {', '.join(map(str, allowed))}, "
                            f"got {values[key]!r}")
    for key, (low, high, low_inclusive) in _RANGES.items():
        v = values[key]
        if math.isnan(v) or v > high or v < low or (v == low and not low_inclusive):
            left = "[" if low_inclusive else "("
            raise UserError(f"setting '{key}' must be in {left}{low}, {high}], got {v}")
    if values["buffer_batch_size"] > values["buffer_size"]:
        raise UserError(f"buffer_batch_size ({values['buffer_batch_size']}) is larger than "
                        f"buffer_size ({values['buffer_size']})")
    if values["min_buffer_size"] > values["buffer_size"]:
        raise UserError(f"min_buffer_size ({values['min_buffer_size']}) is larger than "
                        f"buffer_size ({values['buffer_size']})")
    if values["min_buffer_size"] < values["buffer_batch_size"]:
        raise UserError(f"min_buffer_size ({values['min_buffer_size']}) is smaller than "
                        f"buffer_batch_size ({values['buffer_batch_size']})")
    if values["exploration"] == "gaussian" and values["noise_decay_ratio"] > 0 and \
            values["noise_sigma_min"] > values["noise_sigma"]:
        # Only a decaying sigma uses noise_sigma_min: it goes down from noise_sigma to it.
        raise UserError(f"noise_sigma_min ({values['noise_sigma_min']}) is larger than "
                        f"noise_sigma ({values['noise_sigma']}): the Gaussian sigma decays "
                        f"from noise_sigma down to noise_sigma_min")
    if 0 < values["n_train_steps"] < values["policy_delay"]:
        raise UserError(f"policy_delay ({values['policy_delay']}) is larger than n_train_steps "
                        f"({values['n_train_steps']}): a cycle would have no actor step")
    if values["env_steps_per_cycle"] % values["num_envs"]:
        raise UserError(f"env_steps_per_cycle ({values['env_steps_per_cycle']}) must be a "
                        f"multiple of num_envs ({values['num_envs']})")
    for key in ("policy_hidden_sizes", "qf_hidden_sizes"):
        if not values[key]:
            raise UserError(f"setting '{key}' needs at least one hidden layer")
    if values["qf_action_layer"] > len(values["qf_hidden_sizes"]):
        raise UserError("qf_action_layer is deeper than the critic's hidden layers")
    if not values["env_id"].strip():
        raise UserError("setting 'env_id' is empty")


def _layer(path: str, defaults: Dict[str, Any], skip=(), of_run: bool = False) -> Dict[str, Any]:
    """The settings of a YAML file (a preset, or with `of_run` a run's config.yaml), typed
    like the defaults. A preset's unknown key is a typo and refused; a run's is a setting
    renamed or removed since it trained, skipped with a warning: refusing it would make every
    older run unreadable."""
    layer = {}
    for key, value in _read_yaml(path)[0].items():
        if key not in defaults:
            if not of_run:
                raise _unknown(key, list(defaults), path)
            print(f"warning: {path}: setting '{key}' is unknown to this version, ignored",
                  file=sys.stderr)
        elif key not in skip:
            layer[key] = _coerce(key, value, defaults[key], path)
    return layer


def pretrained_names() -> List[str]:
    """The names of the agents under pretrained/ (directories with a manifest.yaml)."""
    if not os.path.isdir(PRETRAINED_ROOT):
        return []
    return sorted(name for name in os.listdir(PRETRAINED_ROOT)
                  if os.path.isfile(os.path.join(PRETRAINED_ROOT, name, "manifest.yaml")))


def pretrained_dir(name: str) -> str:
    """pretrained/NAME, or a UserError listing the known names."""
    known = pretrained_names()
    if name not in known:
        raise UserError(f"unknown pretrained agent '{name}'; known: "
                        f"{', '.join(known) or 'none (no pretrained/ directory)'}")
    return os.path.join(PRETRAINED_ROOT, name)


def run_dir(values: Dict[str, Any]) -> str:
    """The run directory eval.py and export.py read: that of --ckpt_file, else output_dir
    (which --pretrained NAME sets to pretrained/NAME, see load_config).

    The one place that decides it: another way of naming a run belongs here.
    """
    if values["ckpt_file"]:
        return os.path.dirname(values["ckpt_file"]) or "."
    return values["output_dir"]


def find_run_config(values: Dict[str, Any]) -> str:
    """The config.yaml of the run in run_dir(values), or "" when there is none.

    A config.yaml counts only with one of RUN_MARKERS beside it; one without is left alone,
    with a warning, as it is not a run's (a bare --ckpt_file makes the working directory the
    run directory, and any config.yaml could stand there).
    """
    directory = run_dir(values)
    path = os.path.join(directory, RUN_CONFIG)
    if not os.path.isfile(path):
        return ""
    if not any(os.path.exists(os.path.join(directory, name)) for name in RUN_MARKERS):
        print(f"warning: {path} is not read: no {' or '.join(RUN_MARKERS)} of a train.py run "
              f"beside it (pass it with --config_path to use it)", file=sys.stderr)
        return ""
    return path


def _refuse_actor_changes(run: Dict[str, Any], flags: Dict[str, Any], path: str) -> None:
    """A flag may not contradict a setting the run's actor or env was trained with."""
    for key in ACTOR_SETTINGS:
        if key in flags and key in run and flags[key] != run[key]:
            raise UserError(f"setting '{key}' was {run[key]} in the run ({path}) and is "
                            f"{flags[key]} on the command line: the run's actor was trained "
                            f"with it; leave --{key} out")


def load_config(argv: Optional[Sequence[str]] = None,
                from_run: bool = False) -> Tuple[Config, bool]:
    """Builds the Config from default_config.yaml, --config_path and `argv` overrides.

    With `from_run` (eval.py, export.py) the config.yaml that train.py wrote into the run
    directory (see find_run_config) sits above the preset: defaults < --config_path < the run
    < the command line, so a preset (default_config.yaml too, as in `run_eval_cpu.sh CKPT
    default_config.yaml`) only fills what the run lacks. The machine's and the command's
    settings (NOT_FROM_RUN) are never the run's; a flag contradicting one of ACTOR_SETTINGS is
    refused. `--pretrained NAME` names the run pretrained/NAME. Returns (config, debug).
    Prints the help and exits 0 on --help.
    """
    docs = _read_yaml(DEFAULT_CONFIG)
    defaults: Dict[str, Any] = docs[0]
    helps: Dict[str, str] = docs[1] if len(docs) > 1 else {}
    choices: Dict[str, Any] = docs[2] if len(docs) > 2 else {}

    pairs, show_help, debug = _parse_argv(list(argv or []))
    if show_help:
        print(help_text(helps, defaults, choices, from_run))
        raise SystemExit(0)

    preset = pairs.pop("config_path", None)
    preset_layer = _layer(preset, defaults) if preset is not None else {}
    flags = {}
    for key, value in pairs.items():
        if key not in defaults:
            raise _unknown(key, list(defaults) + ["config_path"], "the command line")
        flags[key] = _coerce(key, value, defaults[key], "the command line")
    if flags.get("pretrained"):
        if not from_run:
            raise UserError("setting 'pretrained' is for eval.py and export.py")
        for key in ("ckpt_file", "output_dir"):
            if key in flags:
                raise UserError(f"--pretrained names the run: leave --{key} out")
        flags["output_dir"] = pretrained_dir(flags["pretrained"])
    values = dict(defaults, **preset_layer)
    run_config = find_run_config(dict(values, **flags)) if from_run else ""
    run = _layer(run_config, defaults, NOT_FROM_RUN, of_run=True) if run_config else {}
    _refuse_actor_changes(run, flags, run_config)
    values.update(run)
    values.update(flags)
    validate(values, choices)
    cfg = Config(values, helps)
    cfg._run_config = run_config  # the run's config.yaml that was read, or ""
    # For run_settings_note: the run's values the command line changed, and where the settings
    # the run's config.yaml lacks came from.
    cfg._overridden = {k: run[k] for k in defaults if k in run and k in flags
                       and flags[k] != run[k]}
    cfg._filled = {k: ("the command line" if k in flags else preset if k in preset_layer
                       else "default_config.yaml")
                   for k in defaults if run_config and k not in run and k not in NOT_FROM_RUN}
    return cfg, debug


def run_settings_note(cfg: Config) -> str:
    """Where the settings of a run's evaluation came from, for eval.py's first line: "" without
    a run; else the run's config.yaml, the flags that overrode it (the run's value -> the
    flag's), and the settings it lacks with where they came from."""
    if not cfg._run_config:
        return ""
    parts = [f"settings of {cfg._run_config}"]
    if cfg._overridden:
        parts.append("overridden on the command line: " + ", ".join(
            f"{key} {old} -> {getattr(cfg, key)}" for key, old in cfg._overridden.items()))
    by_source: Dict[str, List[str]] = {}
    for key, source in cfg._filled.items():
        by_source.setdefault(source, []).append(f"{key} {getattr(cfg, key)}")
    parts += [f"not in it, from {source}: {', '.join(items)}"
              for source, items in by_source.items()]
    return "; ".join(parts)


def write_run_config(cfg: Config, output_dir: str) -> None:
    with open(os.path.join(output_dir, RUN_CONFIG), "w", encoding="utf-8") as f:
        yaml.safe_dump(cfg.to_dict(), f, sort_keys=False)
